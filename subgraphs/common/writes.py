"""What a governed mutation needs from the GraphQL context: the checked caller and request."""

from __future__ import annotations

from graph.context import GatewayInfo
from resolvers.write_context import WriteContext


def write_context(info: GatewayInfo, *roles: str) -> WriteContext:
    """The caller must hold one of ``roles`` (admins always pass): UNAUTHENTICATED/FORBIDDEN."""
    context = info.context
    return WriteContext(
        principal=context.require_role(*roles),
        settings=context.settings,
        request_id=context.request_id,
    )
