"""GraphQL over WebSocket: both sub-protocols, authenticated in ``connection_init``.

The token comes from the ``connection_init`` payload (``{"Authorization": "Bearer …"}``),
or else from the handshake's ``Authorization`` header. A missing or bad token closes the
socket with 4401, on both protocols (the legacy ``graphql-ws`` also gets a
``connection_error`` first). Strawberry's handlers only know one rejection code (4403), so
they are subclassed to close with the code the auth check chose.

Every schema served here runs with ``graph.fanout.FanOutExecutor``, and ``encode_json``
splices a subscription result that many subscribers share, serialized once, into each
subscriber's message (see docs/subscriptions.md, "Fan-out").
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta
from typing import Any

from strawberry.fastapi import GraphQLRouter
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ConnectionInitMessage as TransportInitMessage,
)
from strawberry.subscriptions.protocols.graphql_ws.handlers import BaseGraphQLWSHandler
from strawberry.subscriptions.protocols.graphql_ws.types import ConnectionInitMessage
from strawberry.types.unset import UNSET, UnsetType

from graph import fanout
from graph.auth import AuthError, bearer_token
from graph.context import GatewayContext
from graph.settings import Settings

UNAUTHORIZED = 4401


class WebSocketRejected(Exception):
    """``on_ws_connect`` refuses the connection: close with this code and reason."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


class _TransportWSHandler(BaseGraphQLTransportWSHandler[GatewayContext, None]):
    """graphql-transport-ws with close codes from the auth check and server pings."""

    ping_task: asyncio.Task[None] | None = None

    async def handle_connection_init(self, message: TransportInitMessage) -> None:
        try:
            await super().handle_connection_init(message)
        except WebSocketRejected as rejected:
            await self.websocket.close(code=rejected.code, reason=rejected.reason)
            return
        interval = getattr(self.view, "keep_alive_interval", None)
        if self.connection_acknowledged and interval and self.ping_task is None:
            self.ping_task = asyncio.create_task(self._ping(interval))

    async def _ping(self, interval: float) -> None:
        # The protocol lets either side ping; the server's pings keep proxies from idling out.
        while True:
            await asyncio.sleep(interval)
            await self.send_message({"type": "ping"})

    async def shutdown(self) -> None:
        if self.ping_task is not None:
            self.ping_task.cancel()
            with contextlib.suppress(BaseException):
                await self.ping_task
        await super().shutdown()


class _LegacyWSHandler(BaseGraphQLWSHandler[GatewayContext, None]):
    """The legacy graphql-ws protocol with close codes from the auth check."""

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        try:
            await super().handle_connection_init(message)
        except WebSocketRejected as rejected:
            await self.send_message(
                {"type": "connection_error", "payload": {"message": rejected.reason}}
            )
            await self.websocket.close(code=rejected.code, reason=rejected.reason)


def _init_token(params: Any) -> str | None:
    if not isinstance(params, dict):
        return None
    for key, value in params.items():
        if isinstance(key, str) and key.lower() == "authorization" and isinstance(value, str):
            return bearer_token(value)
    return None


class GatewayGraphQLRouter(GraphQLRouter[GatewayContext, None]):
    graphql_transport_ws_handler_class = _TransportWSHandler
    graphql_ws_handler_class = _LegacyWSHandler

    def __init__(self, schema: Any, *, settings: Settings, **kwargs: Any) -> None:
        super().__init__(
            fanout.install(schema),
            keep_alive=True,
            keep_alive_interval=settings.subscription_keep_alive_seconds,
            connection_init_wait_timeout=timedelta(
                seconds=settings.subscription_init_timeout_seconds
            ),
            max_subscriptions_per_connection=settings.max_subscriptions_per_connection,
            **kwargs,
        )
        self.settings = settings

    def encode_json(self, data: object) -> str | bytes:
        # A subscription result shared by many subscribers is serialized once (graph.fanout).
        shared = fanout.encode_message(data)
        return shared if shared is not None else super().encode_json(data)

    async def on_ws_connect(self, context: GatewayContext) -> UnsetType | dict[str, object] | None:
        token = _init_token(context.connection_params)
        if token is None:
            if context.principal is not None:
                return UNSET  # authenticated by the handshake's Authorization header
            raise WebSocketRejected(UNAUTHORIZED, "Unauthorized: no bearer token")
        request = context.request
        assert request is not None  # strawberry sets it on every WebSocket context
        verifier = request.app.state.security.token_verifier
        try:
            # The same verifier as HTTP: HS256 dev secret or JWKS (RS256/ES256), one policy.
            context.principal = await verifier.verify(token)
        except AuthError:
            raise WebSocketRejected(UNAUTHORIZED, "Unauthorized: invalid token") from None
        return UNSET
