"""Who may read what in the usage subgraph.

A consumer sees only its own keys, subscriptions and usage; a provider sees aggregates of its
own services (never which consumers made them); admins see everything.
"""

from __future__ import annotations

from graph.context import GatewayInfo
from graph.errors import forbidden, not_found
from graph.permissions import owns_provider, service_owner_subject


async def require_self(info: GatewayInfo, consumer_id: str) -> None:
    principal = info.context.require_principal()
    if principal.is_admin:
        return
    own = await info.context.loaders.consumer_by_subject.load(principal.subject)
    if own is None or own.id != consumer_id:
        raise forbidden("Only the consumer itself can see this.")


async def owns_service(info: GatewayInfo, service_id: str) -> bool:
    """Admins, and the owning provider account (the same rule as ``IsServiceOwner``)."""
    principal = info.context.require_principal()
    if principal.is_admin:
        return True
    if await info.context.loaders.service_by_id.load(service_id) is None:
        raise not_found("Service", service_id)
    return owns_provider(principal, await service_owner_subject(info, service_id))
