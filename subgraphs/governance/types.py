"""Governance GraphQL types: compliance reports on Service, policies."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, cast

import strawberry
from strawberry.scalars import JSON

from graph.auth import Role
from graph.context import GatewayContext, GatewayInfo
from graph.errors import bad_input
from graph.permissions import IsServiceOwner, requires
from persistence import models
from persistence.models.records import ComplianceRecord
from resolvers.pagination import MAX_PAGE_SIZE

Enforcement = models.Enforcement
strawberry.enum(Enforcement, description="What a policy violation does.")


@strawberry.type
class PolicyViolation:
    policy: str
    rule: str
    message: str
    severity: Enforcement


@strawberry.type(description="The latest compliance evaluation of a service.")
class ComplianceReport:
    compliant: bool
    score: Decimal
    violations: list[PolicyViolation]
    checked_at: datetime

    @classmethod
    def from_model(cls, row: ComplianceRecord) -> ComplianceReport:
        return cls(
            compliant=row.compliant,
            score=row.score,
            violations=[
                PolicyViolation(
                    policy=v["policy"],
                    rule=v["rule"],
                    message=v["message"],
                    severity=models.Enforcement(v["severity"]),
                )
                for v in row.violations
            ],
            checked_at=row.checked_at,
        )


@strawberry.type(description="A declarative governance policy.")
class Policy:
    id: strawberry.ID
    name: str
    description: str
    enforcement: Enforcement
    rules: JSON
    active: bool
    version: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_model(cls, row: models.Policy) -> Policy:
        return cls(
            id=strawberry.ID(row.id),
            name=row.name,
            description=row.description,
            enforcement=row.enforcement,
            rules=cast(JSON, row.rules),
            active=row.active,
            version=row.version,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )


@strawberry.federation.type(keys=["id"], description="An LLM service listed in the catalog.")
class Service:
    id: strawberry.ID

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> Service:
        return cls(id=id)

    @strawberry.field(description="The latest compliance report; null before the first check.")
    async def compliance(self, info: GatewayInfo) -> ComplianceReport | None:
        row = await info.context.loaders.compliance_by_service.load(str(self.id))
        return ComplianceReport.from_model(row) if row else None

    @staticmethod
    async def batch_compliance(
        context: GatewayContext, services: list[Any], _args: dict[str, Any]
    ) -> list[ComplianceReport | None]:
        """``compliance`` for many services at once (the composed schema's look-ahead)."""
        rows = await context.loaders.compliance_by_service.load_many([str(s.id) for s in services])
        return [ComplianceReport.from_model(row) if row else None for row in rows]

    @strawberry.field(
        description="The service's audit entries, newest first (admins, approvers, its provider).",
        extensions=requires(IsServiceOwner(Role.APPROVER)),
    )
    async def audit_trail(
        self, info: GatewayInfo, first: int = 20
    ) -> list[AuditEntry] | None:  # nullable: a refusal nulls this field, not the service
        if not 0 <= first <= MAX_PAGE_SIZE:
            raise bad_input(f"`first` must be between 0 and {MAX_PAGE_SIZE}.", field="first")
        rows = await info.context.loaders.audit_trail_by_service.load((str(self.id), first))
        return [AuditEntry.from_model(row) for row in rows]


ApprovalStatus = models.ApprovalStatus
strawberry.enum(ApprovalStatus, description="State of an approval.")


@strawberry.type(description="A request for a human to approve a service before it is listed.")
class ApprovalRequest:
    id: strawberry.ID
    requested_by: str
    status: ApprovalStatus = strawberry.field(
        description="PENDING past its expiry reads as EXPIRED."
    )
    reason: str
    decided_by: str | None
    decision_comment: str | None
    created_at: datetime
    decided_at: datetime | None
    expires_at: datetime
    service_id: strawberry.Private[str]

    @strawberry.field(description="The service waiting for approval.")
    def service(self) -> Service:
        return Service(id=strawberry.ID(self.service_id))

    @classmethod
    def from_model(cls, row: models.ApprovalRequest, now: datetime) -> ApprovalRequest:
        status = models.ApprovalStatus(row.status)
        if status is models.ApprovalStatus.PENDING and row.expires_at <= now:
            status = models.ApprovalStatus.EXPIRED
        return cls(
            id=strawberry.ID(row.id),
            requested_by=row.requested_by,
            status=status,
            reason=row.reason,
            decided_by=row.decided_by,
            decision_comment=row.decision_comment,
            created_at=row.created_at,
            decided_at=row.decided_at,
            expires_at=row.expires_at,
            service_id=row.service_id,
        )


@strawberry.type(description="One entry of the append-only, hash-chained audit log.")
class AuditEntry:
    id: strawberry.ID
    occurred_at: datetime
    actor: str
    action: str
    target_type: str
    target_id: str
    diff: JSON = strawberry.field(description="What changed: {before, after} and context.")
    request_id: str | None
    prev_hash: str
    hash: str

    @classmethod
    def from_model(cls, row: models.AuditEntry) -> AuditEntry:
        return cls(
            id=strawberry.ID(str(row.id)),
            occurred_at=row.occurred_at,
            actor=row.actor,
            action=row.action,
            target_type=row.target_type,
            target_id=row.target_id,
            diff=cast(JSON, row.diff),
            request_id=row.request_id,
            prev_hash=row.prev_hash,
            hash=row.hash,
        )


@strawberry.type(description="Result of re-computing the audit hash chain.")
class AuditChainVerification:
    valid: bool
    checked_entries: int
    first_broken_id: strawberry.ID | None
