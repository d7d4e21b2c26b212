"""Usage writes: consumers (created on first use), subscriptions and API keys.

Each function runs inside the caller's write transaction and appends its audit entry there.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from graph.auth import Principal
from graph.errors import ErrorCode, GatewayError, bad_input, forbidden, not_found
from persistence.models import (
    ApiKey,
    Consumer,
    PlanTier,
    Service,
    ServiceStatus,
    Subscription,
    SubscriptionStatus,
)
from persistence.models.base import utcnow
from resolvers import keys
from resolvers.audit import append_audit
from resolvers.plans import plan_for_tier


async def consumer_for(session: AsyncSession, principal: Principal) -> Consumer:
    """The signed-in caller's consumer record, created on first use."""
    consumer = await session.scalar(select(Consumer).where(Consumer.subject == principal.subject))
    if consumer is None:
        claims = principal.claims
        consumer = Consumer(
            subject=principal.subject,
            name=str(claims.get("name") or principal.subject),
            email=claims.get("email"),
        )
        session.add(consumer)
        await session.flush()
    return consumer


async def subscribe(
    session: AsyncSession,
    *,
    consumer: Consumer,
    service_id: str,
    tier: PlanTier,
    plan_overrides: dict[str, dict[str, Any]],
    request_id: str,
) -> Subscription:
    service = await session.get(Service, service_id)
    if service is None:
        raise not_found("Service", service_id)
    if service.status != ServiceStatus.ACTIVE:
        raise bad_input("Only ACTIVE services can be subscribed to.", field="serviceId")
    plan = await plan_for_tier(session, tier, plan_overrides)
    subscription = await session.scalar(
        select(Subscription).where(
            Subscription.consumer_id == consumer.id,
            Subscription.service_id == service_id,
            Subscription.status == SubscriptionStatus.ACTIVE,
        )
    )
    before = None
    if subscription is None:
        subscription = Subscription(consumer_id=consumer.id, service_id=service_id, plan_id=plan.id)
        session.add(subscription)
    else:
        before = {"plan_id": subscription.plan_id}
        subscription.plan_id = plan.id
    await session.flush()
    await append_audit(
        session,
        actor=consumer.subject,
        action="usage.subscribe",
        target_type="Subscription",
        target_id=subscription.id,
        diff={"before": before, "after": {"service_id": service_id, "plan": tier.value}},
        request_id=request_id,
    )
    return subscription


async def cancel_subscription(
    session: AsyncSession, *, consumer: Consumer, subscription_id: str, request_id: str
) -> Subscription:
    subscription = await session.scalar(
        select(Subscription).where(
            Subscription.id == subscription_id, Subscription.consumer_id == consumer.id
        )
    )
    if subscription is None:
        raise not_found("Subscription", subscription_id)
    if subscription.status != SubscriptionStatus.ACTIVE:
        raise GatewayError("The subscription is already cancelled.", ErrorCode.INVALID_TRANSITION)
    subscription.status = SubscriptionStatus.CANCELLED
    subscription.cancelled_at = utcnow()
    await session.flush()
    await append_audit(
        session,
        actor=consumer.subject,
        action="usage.cancel_subscription",
        target_type="Subscription",
        target_id=subscription.id,
        diff={"before": {"status": "ACTIVE"}, "after": {"status": "CANCELLED"}},
        request_id=request_id,
    )
    return subscription


async def create_api_key(
    session: AsyncSession,
    *,
    consumer: Consumer,
    name: str,
    expires_at: datetime | None,
    pepper: str,
    request_id: str | None,
) -> keys.IssuedKey:
    name = name.strip()
    if not name or len(name) > 200:
        raise bad_input("A key name is 1 to 200 characters.", field="name")
    if expires_at is not None and expires_at <= utcnow():
        raise bad_input("expiresAt must be in the future.", field="expiresAt")
    issued = await keys.create_key(
        session, consumer_id=consumer.id, name=name, expires_at=expires_at, pepper=pepper
    )
    await append_audit(
        session,
        actor=consumer.subject,
        action="usage.create_api_key",
        target_type="ApiKey",
        target_id=issued.row.id,
        diff={"before": None, "after": {"name": name, "prefix": issued.row.prefix}},
        request_id=request_id,
    )
    return issued


def _active_key(row: ApiKey | None, key_id: str) -> ApiKey:
    if row is None:
        raise not_found("ApiKey", key_id)
    if row.revoked_at is not None:
        raise GatewayError("The API key is already revoked.", ErrorCode.INVALID_TRANSITION)
    return row


async def owned_active_key(session: AsyncSession, consumer: Consumer, key_id: str) -> ApiKey:
    return _active_key(await keys.key_of_consumer(session, key_id, consumer.id), key_id)


async def _revoke(
    session: AsyncSession,
    row: ApiKey,
    *,
    actor: str,
    action: str,
    request_id: str | None,
    **diff_extra: Any,
) -> ApiKey:
    keys.revoke(row)
    await session.flush()
    await append_audit(
        session,
        actor=actor,
        action=action,
        target_type="ApiKey",
        target_id=row.id,
        diff={"before": {"revoked": False}, "after": {"revoked": True}, **diff_extra},
        request_id=request_id,
    )
    return row


async def revoke_api_key(
    session: AsyncSession, *, consumer: Consumer, key_id: str, request_id: str
) -> ApiKey:
    row = await owned_active_key(session, consumer, key_id)
    return await _revoke(
        session, row, actor=consumer.subject, action="usage.revoke_api_key", request_id=request_id
    )


async def admin_revoke_api_key(
    session: AsyncSession, *, admin: Principal, key_id: str, request_id: str | None
) -> ApiKey:
    """An admin revokes any consumer's key; the audit entry names whose key it was."""
    if not admin.is_admin:
        raise forbidden("Only admins may revoke another consumer's API key.")
    row = _active_key(await keys.key_by_id(session, key_id), key_id)
    return await _revoke(
        session,
        row,
        actor=admin.subject,
        action="usage.admin_revoke_api_key",
        request_id=request_id,
        consumer_id=row.consumer_id,
    )


async def rotate_api_key(
    session: AsyncSession, *, consumer: Consumer, key_id: str, pepper: str, request_id: str
) -> keys.IssuedKey:
    """Revoke a key and issue its replacement (same name and expiry) in one transaction."""
    old = await revoke_api_key(session, consumer=consumer, key_id=key_id, request_id=request_id)
    return await create_api_key(
        session,
        consumer=consumer,
        name=old.name,
        expires_at=old.expires_at if old.expires_at and old.expires_at > utcnow() else None,
        pepper=pepper,
        request_id=request_id,
    )
