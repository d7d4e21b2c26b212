"""Recommendations: trending services (usage growth) and "consumers who use X also use Y"."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from enum import StrEnum

from sqlalchemy import and_, case, distinct, func, select
from sqlalchemy.orm import aliased

from persistence.models import Service, ServiceStatus, Subscription, SubscriptionStatus, UsageRecord
from resolvers.db import RequestDB


class TrendWindow(StrEnum):
    DAY = "DAY"
    WEEK = "WEEK"
    MONTH = "MONTH"


WINDOW_LENGTH = {
    TrendWindow.DAY: timedelta(days=1),
    TrendWindow.WEEK: timedelta(days=7),
    TrendWindow.MONTH: timedelta(days=30),
}


async def trending_service_ids(
    db: RequestDB,
    window: TrendWindow,
    first: int,
    *,
    exclude: frozenset[str] = frozenset(),
    now: datetime | None = None,
) -> list[str]:
    """ACTIVE services by growth of calls in the window over the window before it (then by
    calls in the window). A service without calls in the window is not trending."""
    if first <= 0:
        return []
    end = now or datetime.now(UTC)
    mid = end - WINDOW_LENGTH[window]
    start = mid - WINDOW_LENGTH[window]
    current = func.sum(case((UsageRecord.occurred_at >= mid, 1), else_=0))
    previous = func.sum(case((UsageRecord.occurred_at < mid, 1), else_=0))
    statement = (
        select(UsageRecord.service_id)
        .join(Service, Service.id == UsageRecord.service_id)
        .where(
            UsageRecord.occurred_at >= start,
            UsageRecord.occurred_at < end,
            Service.status == ServiceStatus.ACTIVE.value,
        )
        .group_by(UsageRecord.service_id)
        .having(current > 0)
        .order_by((current - previous).desc(), current.desc(), UsageRecord.service_id)
        .limit(first + len(exclude))
    )
    if exclude:
        statement = statement.where(UsageRecord.service_id.not_in(exclude))
    rows = (await db.execute(statement)).scalars().all()
    return list(rows)[:first]


async def services_used_by(db: RequestDB, consumer_id: str) -> frozenset[str]:
    rows = await db.execute(
        select(Subscription.service_id).where(
            Subscription.consumer_id == consumer_id,
            Subscription.status == SubscriptionStatus.ACTIVE.value,
        )
    )
    return frozenset(rows.scalars().all())


async def co_used_service_ids(db: RequestDB, consumer_id: str, first: int) -> list[str]:
    """Services that consumers sharing a service with this one also use, by how many such
    consumers use them; the consumer's own services are left out. One statement."""
    mine = aliased(Subscription)
    peer = aliased(Subscription)
    theirs = aliased(Subscription)
    active = SubscriptionStatus.ACTIVE.value
    own = select(Subscription.service_id).where(
        Subscription.consumer_id == consumer_id, Subscription.status == active
    )
    peers = func.count(distinct(theirs.consumer_id))
    statement = (
        select(theirs.service_id)
        .select_from(mine)
        .join(
            peer,
            and_(
                peer.service_id == mine.service_id,
                peer.consumer_id != consumer_id,
                peer.status == active,
            ),
        )
        .join(theirs, and_(theirs.consumer_id == peer.consumer_id, theirs.status == active))
        .join(Service, Service.id == theirs.service_id)
        .where(
            mine.consumer_id == consumer_id,
            mine.status == active,
            theirs.service_id.not_in(own),
            Service.status == ServiceStatus.ACTIVE.value,
        )
        .group_by(theirs.service_id)
        .order_by(peers.desc(), theirs.service_id)
        .limit(first)
    )
    return list((await db.execute(statement)).scalars().all())


async def recommended_service_ids(db: RequestDB, consumer_id: str | None, first: int) -> list[str]:
    """Co-usage recommendations for the consumer, topped up with this week's trending ones
    (everything is trending for a caller who is not a consumer or uses nothing yet)."""
    if first <= 0:
        return []
    if consumer_id is None:
        return await trending_service_ids(db, TrendWindow.WEEK, first)
    picked = await co_used_service_ids(db, consumer_id, first)
    if len(picked) < first:
        exclude = await services_used_by(db, consumer_id) | frozenset(picked)
        picked += await trending_service_ids(
            db, TrendWindow.WEEK, first - len(picked), exclude=exclude
        )
    return picked
