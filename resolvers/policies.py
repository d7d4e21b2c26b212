"""Writing policies (admins). A BLOCKING policy that is created or changed re-evaluates every
ACTIVE service at once, in the same transaction, and suspends those that now break it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from graph.errors import bad_input, not_found
from persistence.models import Enforcement, Policy
from persistence.models.base import new_id, utcnow
from resolvers.audit import append_audit, audit_diff
from resolvers.compliance import EnforcementResult, enforce_blocking_policies
from resolvers.events import GovernanceEventType, emit_event
from resolvers.policy_rules import validate_rules
from resolvers.write_context import WriteContext

NAME_MAX = 200


@dataclass(frozen=True)
class PolicyDraft:
    name: str
    enforcement: Enforcement
    rules: list[Any]
    description: str = ""


@dataclass(frozen=True)
class PolicyChanges:
    name: str | None = None
    description: str | None = None
    enforcement: Enforcement | None = None
    rules: list[Any] | None = None


def _snapshot(policy: Policy) -> dict[str, Any]:
    return {
        "name": policy.name,
        "description": policy.description,
        "enforcement": policy.enforcement,
        "rules": policy.rules,
        "active": policy.active,
        "version": policy.version,
    }


async def _check_name(session: AsyncSession, name: str, own_id: str | None = None) -> str:
    name = name.strip()
    if not name or len(name) > NAME_MAX:
        raise bad_input(f"A policy name has 1 to {NAME_MAX} characters.", field="name")
    clash = await session.scalar(select(Policy.id).where(Policy.name == name))
    if clash is not None and clash != own_id:
        raise bad_input(f"A policy named {name!r} exists already.", field="name")
    return name


async def _enforce(
    session: AsyncSession, ctx: WriteContext, policy: Policy, action: str
) -> EnforcementResult | None:
    if not (policy.active and policy.enforcement == Enforcement.BLOCKING):
        return None
    return await enforce_blocking_policies(
        session,
        actor=ctx.actor,
        request_id=ctx.request_id,
        trigger={"policyId": policy.id, "policy": policy.name, "action": action},
    )


async def create_policy(
    session: AsyncSession, ctx: WriteContext, draft: PolicyDraft
) -> tuple[Policy, EnforcementResult | None]:
    policy = Policy(
        id=new_id(),
        name=await _check_name(session, draft.name),
        description=draft.description.strip(),
        enforcement=draft.enforcement,
        rules=validate_rules(draft.rules),
        active=True,
        version=1,
        created_by=ctx.actor,
    )
    session.add(policy)
    await session.flush()
    await append_audit(
        session,
        actor=ctx.actor,
        action="policy.create",
        target_type="Policy",
        target_id=policy.id,
        diff=audit_diff(None, _snapshot(policy)),
        request_id=ctx.request_id,
    )
    await emit_event(
        session,
        type=GovernanceEventType.POLICY_CREATED,
        actor=ctx.actor,
        service_id=None,
        payload={"policyId": policy.id, **_snapshot(policy)},
    )
    return policy, await _enforce(session, ctx, policy, "create")


async def _load(session: AsyncSession, policy_id: str) -> Policy:
    policy = await session.get(Policy, policy_id)
    if policy is None:
        raise not_found("Policy", policy_id)
    return policy


async def _record_update(
    session: AsyncSession, ctx: WriteContext, policy: Policy, before: dict[str, Any], action: str
) -> None:
    policy.version += 1
    policy.updated_at = utcnow()
    await session.flush()
    await append_audit(
        session,
        actor=ctx.actor,
        action=action,
        target_type="Policy",
        target_id=policy.id,
        diff=audit_diff(before, _snapshot(policy)),
        request_id=ctx.request_id,
    )
    await emit_event(
        session,
        type=GovernanceEventType.POLICY_UPDATED,
        actor=ctx.actor,
        service_id=None,
        payload={"policyId": policy.id, **_snapshot(policy)},
    )


async def update_policy(
    session: AsyncSession, ctx: WriteContext, policy_id: str, changes: PolicyChanges
) -> tuple[Policy, EnforcementResult | None]:
    policy = await _load(session, policy_id)
    before = _snapshot(policy)
    if changes.name is not None:
        policy.name = await _check_name(session, changes.name, policy.id)
    if changes.description is not None:
        policy.description = changes.description.strip()
    if changes.enforcement is not None:
        policy.enforcement = changes.enforcement
    if changes.rules is not None:
        policy.rules = validate_rules(changes.rules)
    await _record_update(session, ctx, policy, before, "policy.update")
    return policy, await _enforce(session, ctx, policy, "update")


async def deactivate_policy(session: AsyncSession, ctx: WriteContext, policy_id: str) -> Policy:
    policy = await _load(session, policy_id)
    if not policy.active:
        return policy
    before = _snapshot(policy)
    policy.active = False
    await _record_update(session, ctx, policy, before, "policy.deactivate")
    return policy
