"""One consumer has at most one ACTIVE subscription per service, enforced by the database
(a partial unique index), while cancelled subscriptions accumulate as history."""

from __future__ import annotations

import pytest
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from persistence.database import create_engine
from persistence.models import (
    Consumer,
    Plan,
    PlanTier,
    Provider,
    Service,
    Subscription,
    SubscriptionStatus,
)

# The index's violation as each database words it (PostgreSQL names it, SQLite its columns).
ONE_ACTIVE = r"uq_subscriptions_one_active|UNIQUE constraint failed: subscriptions\.consumer_id"


async def _consumer_service_plan(sessions: async_sessionmaker[AsyncSession]) -> tuple[str, ...]:
    async with sessions() as session, session.begin():
        provider = Provider(slug="p", name="P", owner_subject="provider-1")
        consumer = Consumer(subject="c", name="C")
        plan = Plan(tier=PlanTier.PRO, requests_per_second=1, burst=1, monthly_request_quota=None)
        session.add_all([provider, consumer, plan])
        await session.flush()
        service = Service(
            provider_id=provider.id,
            slug="s",
            name="S",
            category="chat",
            current_version="1.0.0",
            endpoint_url="https://upstream.example/v1",
        )
        session.add(service)
        await session.flush()
        return consumer.id, service.id, plan.id


async def test_a_second_active_subscription_is_rejected(database_url: str) -> None:
    engine = create_engine(database_url)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    try:
        consumer_id, service_id, plan_id = await _consumer_service_plan(sessions)

        def subscription() -> Subscription:
            return Subscription(consumer_id=consumer_id, service_id=service_id, plan_id=plan_id)

        async with sessions() as session, session.begin():
            first = subscription()
            session.add(first)
        with pytest.raises(IntegrityError, match=ONE_ACTIVE):
            async with sessions() as session, session.begin():
                session.add(subscription())
        # Cancelled rows do not count: cancel, subscribe again, twice over.
        for _ in range(2):
            async with sessions() as session, session.begin():
                await session.execute(
                    update(Subscription)
                    .where(Subscription.status == SubscriptionStatus.ACTIVE)
                    .values(status=SubscriptionStatus.CANCELLED)
                )
                session.add(subscription())
        # Reactivating an old cancelled row beside the active one is rejected too.
        with pytest.raises(IntegrityError, match=ONE_ACTIVE):
            async with sessions() as session, session.begin():
                await session.execute(
                    update(Subscription)
                    .where(Subscription.id == first.id)
                    .values(status=SubscriptionStatus.ACTIVE)
                )
    finally:
        await engine.dispose()
