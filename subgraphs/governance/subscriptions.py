"""``Subscription.governanceEvents``: live governance events, resumable from a cursor."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import datetime
from typing import cast

import strawberry
from strawberry.scalars import JSON

from graph.context import GatewayInfo
from graph.errors import ErrorCode, GatewayError, bad_input
from graph.fanout import mark_shared
from graph.telemetry.metrics import active_subscription
from resolvers import events
from subscriptions.access import EventFilter, filter_for
from subscriptions.events import GovernanceEventMessage
from subscriptions.hub import SubscriberOverflow
from subscriptions.stream import GovernanceStream

GovernanceEventType = events.GovernanceEventType
strawberry.enum(GovernanceEventType, description="What happened in a governance event.")


@strawberry.type(description="One governance event; its id is the cursor to resume from.")
class GovernanceEvent:
    id: strawberry.ID
    type: GovernanceEventType
    occurred_at: datetime
    service_id: strawberry.ID | None
    actor: str
    payload: JSON

    @classmethod
    def from_message(cls, message: GovernanceEventMessage) -> GovernanceEvent:
        return cls(
            id=strawberry.ID(str(message.id)),
            type=events.GovernanceEventType(message.type),
            occurred_at=message.occurred_at,
            service_id=strawberry.ID(message.service_id) if message.service_id else None,
            actor=message.actor,
            payload=cast(JSON, message.payload),
        )


def _cursor(since: strawberry.ID | None) -> int | None:
    if since is None:
        return None
    try:
        cursor = int(since)
    except ValueError:
        cursor = -1
    if cursor < 0:
        raise bad_input("`since` must be the id of a governance event.", field="since")
    return cursor


# The sub-protocols strawberry speaks; it accepts the first of the client's list it knows.
_PROTOCOLS = ("graphql-transport-ws", "graphql-ws")


def _protocol(info: GatewayInfo) -> str:
    """The WebSocket sub-protocol this subscription runs over (a bounded label)."""
    request = info.context.request
    offered = request.scope.get("subprotocols", []) if request is not None else []
    return next((p for p in offered if p in _PROTOCOLS), "other")


def _shared_event(message: GovernanceEventMessage, audience: object) -> GovernanceEvent:
    """One object per (event, audience), the same for every local subscriber of that audience,
    so the fan-out executes each subscription shape once per event (graph.fanout). Its fields
    are plain data of the event, so the audience (what the caller may see) is all that can
    make two subscribers' views differ."""
    event = message.derived.get(audience)
    if not isinstance(event, GovernanceEvent):
        event = mark_shared(GovernanceEvent.from_message(message))
        message.derived[audience] = event
    return event


def _audience(roles: frozenset[str], event_filter: EventFilter) -> object:
    return ("governance-event", roles, event_filter.owner_subject)


def _stream(info: GatewayInfo) -> GovernanceStream:
    request = info.context.request
    assert request is not None
    stream: GovernanceStream = request.app.state.runtime.governance
    return stream


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description=(
            "Governance events as they commit. With `since` (an event id), the stored events "
            "after it come first, then live ones, with no gap and no repeat. Providers see "
            "only events of their own services."
        )
    )
    async def governance_events(
        self,
        info: GatewayInfo,
        types: list[GovernanceEventType] | None = None,
        service_id: strawberry.ID | None = None,
        since: strawberry.ID | None = None,
    ) -> AsyncGenerator[GovernanceEvent, None]:
        principal = info.context.require_principal()
        cursor = _cursor(since)
        event_filter = filter_for(
            principal,
            types=frozenset(t.value for t in types) if types else None,
            service_id=str(service_id) if service_id is not None else None,
        )
        audience = _audience(principal.roles, event_filter)
        try:
            with active_subscription(_protocol(info)):
                async for message in _stream(info).events(event_filter, since=cursor):
                    yield _shared_event(message, audience)
        except SubscriberOverflow as overflow:
            raise GatewayError(
                str(overflow), ErrorCode.SUBSCRIBER_TOO_SLOW, capacity=overflow.capacity
            ) from None
