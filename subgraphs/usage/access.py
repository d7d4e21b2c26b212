"""Who may read what in the usage subgraph.

A consumer sees only its own keys, subscriptions and usage; a provider sees aggregates of its
own services (never which consumers made them); admins see everything.
"""

from __future__ import annotations

from graph.context import GatewayInfo
from graph.errors import forbidden, not_found


async def require_self(info: GatewayInfo, consumer_id: str) -> None:
    principal = info.context.require_principal()
    if principal.is_admin:
        return
    own = await info.context.loaders.consumer_by_subject.load(principal.subject)
    if own is None or own.id != consumer_id:
        raise forbidden("Only the consumer itself can see this.")


async def owns_service(info: GatewayInfo, service_id: str) -> bool:
    principal = info.context.require_principal()
    if principal.is_admin:
        return True
    service = await info.context.loaders.service_by_id.load(service_id)
    if service is None:
        raise not_found("Service", service_id)
    provider = await info.context.loaders.provider_by_id.load(service.provider_id)
    return provider is not None and provider.owner_subject == principal.subject


async def require_service_owner(info: GatewayInfo, service_id: str) -> None:
    if not await owns_service(info, service_id):
        raise forbidden("Only the service's provider and admins can see its usage.")
