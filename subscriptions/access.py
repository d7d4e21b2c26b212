"""Which governance events a subscriber may see, and which it asked for."""

from __future__ import annotations

from dataclasses import dataclass

from graph.auth import Principal, Role
from graph.errors import forbidden
from subscriptions.events import GovernanceEventMessage

# Roles that watch the whole marketplace.
ALL_EVENT_ROLES = frozenset({Role.ADMIN, Role.SUPER_ADMIN, Role.APPROVER, Role.VIEWER})


@dataclass(frozen=True)
class EventFilter:
    """``owner_subject`` set = only events of services whose provider that subject owns."""

    types: frozenset[str] | None = None
    service_id: str | None = None
    owner_subject: str | None = None

    def matches(self, event: GovernanceEventMessage) -> bool:
        if self.types is not None and event.type not in self.types:
            return False
        if self.service_id is not None and event.service_id != self.service_id:
            return False
        return self.owner_subject is None or event.owner_subject == self.owner_subject


def filter_for(
    principal: Principal, *, types: frozenset[str] | None, service_id: str | None
) -> EventFilter:
    """The caller's view: everything for governance roles, own services for a provider."""
    if principal.has_role(*ALL_EVENT_ROLES):
        return EventFilter(types=types, service_id=service_id)
    if principal.has_role(Role.PROVIDER):
        return EventFilter(types=types, service_id=service_id, owner_subject=principal.subject)
    raise forbidden("Governance events are for admins, approvers, viewers and providers.")
