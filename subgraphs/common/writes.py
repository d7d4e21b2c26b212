"""What a governed mutation needs from the GraphQL context: the checked caller and request."""

from __future__ import annotations

from graph.context import GatewayInfo
from resolvers.write_context import WriteContext


def write_context(info: GatewayInfo, *roles: str) -> WriteContext:
    """The signed-in caller and request of a write.

    Mutations state their roles as ``permission_classes`` (graph/permissions.py), checked
    before the resolver runs; ``roles`` here is only for callers without that declaration.
    Either way a refusal is UNAUTHENTICATED or FORBIDDEN (admins always pass).
    """
    context = info.context
    return WriteContext(
        principal=context.require_role(*roles) if roles else context.require_principal(),
        settings=context.settings,
        request_id=context.request_id,
    )
