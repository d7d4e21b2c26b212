"""Policy compliance: evaluate services against the active policies, record and enforce it.

A service is compliant when no BLOCKING rule finds anything; ADVISORY findings are reported
but do not block. The score is the share of checked rules that pass (1 with no rules).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from persistence.models import (
    ComplianceCheck,
    Enforcement,
    Policy,
    Service,
    ServicePricing,
    ServiceStatus,
)
from persistence.models.base import utcnow
from resolvers.audit import append_audit
from resolvers.catalog import in_force, pricing_history_statement
from resolvers.events import GovernanceEventType, emit_event
from resolvers.governance import latest_checks_statement
from resolvers.lifecycle import transition
from resolvers.policy_rules import RULE_KINDS, ServiceFacts

SCORE_QUANTUM = Decimal("0.0001")


@dataclass(frozen=True)
class Violation:
    policy: str
    rule: str
    message: str
    severity: Enforcement
    field: str

    def as_record(self) -> dict[str, str]:
        return {
            "policy": self.policy,
            "rule": self.rule,
            "message": self.message,
            "severity": self.severity.value,
        }


@dataclass
class Evaluation:
    violations: list[Violation] = field(default_factory=list)
    approval_reasons: list[str] = field(default_factory=list)
    rules_checked: int = 0
    rules_failed: int = 0

    @property
    def blocking(self) -> list[Violation]:
        return [v for v in self.violations if v.severity is Enforcement.BLOCKING]

    @property
    def compliant(self) -> bool:
        return not self.blocking

    @property
    def score(self) -> Decimal:
        if not self.rules_checked:
            return Decimal(1).quantize(SCORE_QUANTUM)
        passed = Decimal(self.rules_checked - self.rules_failed)
        return (passed / Decimal(self.rules_checked)).quantize(SCORE_QUANTUM)

    def records(self) -> list[dict[str, str]]:
        return [v.as_record() for v in self.violations]


def evaluate(facts: ServiceFacts, policies: Sequence[Policy]) -> Evaluation:
    result = Evaluation()
    for policy in policies:
        severity = Enforcement(policy.enforcement)
        for rule in policy.rules:
            kind = RULE_KINDS.get(str(rule.get("kind")))
            if kind is None:  # a kind removed from the code: nothing to check against
                continue
            findings = kind.check(facts, rule.get("params") or {})
            if kind.needs_approval:
                result.approval_reasons += [f"{policy.name}: {f.message}" for f in findings]
                continue
            result.rules_checked += 1
            if findings:
                result.rules_failed += 1
            result.violations += [
                Violation(policy.name, kind.name, f.message, severity, f.field) for f in findings
            ]
    return result


async def active_policies(session: AsyncSession) -> list[Policy]:
    stmt = select(Policy).where(Policy.active.is_(True)).order_by(Policy.name)
    return list((await session.scalars(stmt)).all())


async def current_pricing(
    session: AsyncSession, service_ids: Sequence[str]
) -> dict[str, ServicePricing]:
    return in_force(await session.scalars(pricing_history_statement(service_ids)))


async def latest_checks(
    session: AsyncSession, service_ids: Sequence[str]
) -> dict[str, ComplianceCheck]:
    rows = await session.scalars(latest_checks_statement(service_ids))
    return {row.service_id: row for row in rows}


def record_check(session: AsyncSession, service_id: str, evaluation: Evaluation) -> None:
    session.add(
        ComplianceCheck(
            service_id=service_id,
            checked_at=utcnow(),
            compliant=evaluation.compliant,
            score=evaluation.score,
            violations=evaluation.records(),
        )
    )


def _unchanged(check: ComplianceCheck | None, evaluation: Evaluation) -> bool:
    return (
        check is not None
        and check.compliant == evaluation.compliant
        and check.score == evaluation.score
        and list(check.violations) == evaluation.records()
    )


def suspension_reason(evaluation: Evaluation) -> str:
    first = evaluation.blocking[0]
    return f"Suspended by policy '{first.policy}': {first.message}"


@dataclass(frozen=True)
class EnforcementResult:
    checked: int
    suspended: list[str]


async def enforce_blocking_policies(
    session: AsyncSession, *, actor: str, request_id: str | None, trigger: dict[str, Any]
) -> EnforcementResult:
    """Re-evaluate every ACTIVE service; suspend those that break a BLOCKING policy.

    Runs in the caller's transaction. A compliance check is recorded for each service whose
    result changed; each suspension writes its audit entry, SERVICE_SUSPENDED and
    POLICY_VIOLATION events. ``trigger`` says why the sweep ran (kept in the audit diff).
    """
    policies = await active_policies(session)
    services = list(
        (
            await session.scalars(
                select(Service).where(Service.status == ServiceStatus.ACTIVE).order_by(Service.id)
            )
        ).all()
    )
    if not services:
        return EnforcementResult(checked=0, suspended=[])
    ids = [s.id for s in services]
    pricing = await current_pricing(session, ids)
    previous = await latest_checks(session, ids)
    suspended: list[str] = []
    for service in services:
        evaluation = evaluate(ServiceFacts.of(service, pricing.get(service.id)), policies)
        if not _unchanged(previous.get(service.id), evaluation):
            record_check(session, service.id, evaluation)
        if evaluation.compliant:
            continue
        reason = suspension_reason(evaluation)
        transition(service, ServiceStatus.SUSPENDED, reason=reason)
        suspended.append(service.id)
        violations = [v.as_record() for v in evaluation.blocking]
        await append_audit(
            session,
            actor=actor,
            action="service.suspend",
            target_type="Service",
            target_id=service.id,
            diff={
                "before": {"status": ServiceStatus.ACTIVE.value},
                "after": {"status": ServiceStatus.SUSPENDED.value, "statusReason": reason},
                "violations": violations,
                "trigger": trigger,
            },
            request_id=request_id,
        )
        await emit_event(
            session,
            type=GovernanceEventType.POLICY_VIOLATION,
            actor=actor,
            service_id=service.id,
            payload={"violations": violations},
        )
        await emit_event(
            session,
            type=GovernanceEventType.SERVICE_SUSPENDED,
            actor=actor,
            service_id=service.id,
            payload={"reason": reason, "violations": violations, "trigger": trigger},
        )
    await session.flush()
    return EnforcementResult(checked=len(services), suspended=suspended)
