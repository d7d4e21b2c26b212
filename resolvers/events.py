"""Governance events, written to the ``governance_events`` transactional outbox.

An event is inserted in the same transaction as the state change it reports, so it exists
exactly when the change committed. Its id is strictly increasing in commit order (writers are
serialised, see :mod:`resolvers.write_lock`) and is the cursor subscribers replay from.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from persistence.models import GovernanceEvent
from persistence.models.base import utcnow
from resolvers.canonical import json_safe
from resolvers.write_lock import lock_governance_writes


class GovernanceEventType(StrEnum):
    SERVICE_PUBLISHED = "SERVICE_PUBLISHED"
    SERVICE_VERSION_PUBLISHED = "SERVICE_VERSION_PUBLISHED"
    SERVICE_UPDATED = "SERVICE_UPDATED"
    SERVICE_DEPRECATED = "SERVICE_DEPRECATED"
    SERVICE_RETIRED = "SERVICE_RETIRED"
    SERVICE_SUSPENDED = "SERVICE_SUSPENDED"
    SERVICE_REINSTATED = "SERVICE_REINSTATED"
    APPROVAL_REQUESTED = "APPROVAL_REQUESTED"
    APPROVAL_DECIDED = "APPROVAL_DECIDED"
    POLICY_CREATED = "POLICY_CREATED"
    POLICY_UPDATED = "POLICY_UPDATED"
    POLICY_VIOLATION = "POLICY_VIOLATION"


async def emit_event(
    session: AsyncSession,
    *,
    type: GovernanceEventType,
    actor: str,
    service_id: str | None,
    payload: dict[str, Any],
    occurred_at: datetime | None = None,
) -> GovernanceEvent:
    """Add one event to the outbox in the caller's transaction; returns it with its id."""
    await lock_governance_writes(session)
    event = GovernanceEvent(
        type=GovernanceEventType(type).value,
        occurred_at=occurred_at or utcnow(),
        service_id=service_id,
        actor=actor,
        payload=json_safe(payload),
    )
    session.add(event)
    await session.flush()
    return event
