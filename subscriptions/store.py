"""Reading the ``governance_events`` outbox: replay pages and the relay's unpublished rows."""

from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession

from persistence.models import GovernanceEvent, Provider, Service
from subscriptions.access import EventFilter
from subscriptions.events import GovernanceEventMessage


def _with_owner() -> Select[GovernanceEvent, str | None]:
    # One statement: the event and the subject owning its service's provider (if any).
    return (
        select(GovernanceEvent, Provider.owner_subject)
        .outerjoin(Service, Service.id == GovernanceEvent.service_id)
        .outerjoin(Provider, Provider.id == Service.provider_id)
    )


def to_message(row: Row[GovernanceEvent, str | None]) -> GovernanceEventMessage:
    event, owner_subject = row
    return GovernanceEventMessage(
        id=event.id,
        type=event.type,
        occurred_at=event.occurred_at,
        service_id=event.service_id,
        actor=event.actor,
        payload=dict(event.payload or {}),
        owner_subject=owner_subject,
    )


async def events_after(
    session: AsyncSession, after: int, event_filter: EventFilter, *, limit: int
) -> list[GovernanceEventMessage]:
    """Up to ``limit`` stored events with id > ``after`` that the filter lets through."""
    stmt = _with_owner().where(GovernanceEvent.id > after)
    if event_filter.types is not None:
        stmt = stmt.where(GovernanceEvent.type.in_(sorted(event_filter.types)))
    if event_filter.service_id is not None:
        stmt = stmt.where(GovernanceEvent.service_id == event_filter.service_id)
    if event_filter.owner_subject is not None:
        stmt = stmt.where(Provider.owner_subject == event_filter.owner_subject)
    rows = (await session.execute(stmt.order_by(GovernanceEvent.id).limit(limit))).all()
    return [to_message(row) for row in rows]


async def unpublished(session: AsyncSession, *, limit: int) -> list[GovernanceEventMessage]:
    """The oldest unpublished events, in id order."""
    stmt = (
        _with_owner()
        .where(GovernanceEvent.published_at.is_(None))
        .order_by(GovernanceEvent.id)
        .limit(limit)
    )
    rows = (await session.execute(stmt)).all()
    return [to_message(row) for row in rows]
