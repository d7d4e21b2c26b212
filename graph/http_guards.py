"""ASGI guards in front of the GraphQL endpoints: body size, time, subgraph secret, headers.

Pure ASGI (not ``BaseHTTPMiddleware``) so the body limit also holds for chunked uploads
without a ``Content-Length`` and no request body is buffered twice.
"""

from __future__ import annotations

import asyncio
import hmac
import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from graph.settings import Settings

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

SUBGRAPH_SECRET_HEADER = "x-subgraph-secret"

SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
)
# API answers never need to load anything; GraphiQL pages (text/html) load their own assets.
API_CSP = (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'")
HSTS = (b"strict-transport-security", b"max-age=63072000; includeSubDomains")


class _BodyTooLarge(Exception):
    pass


async def _send_error(send: Send, status: int, message: str, code: str) -> None:
    body = json.dumps({"errors": [{"message": message, "extensions": {"code": code}}]}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class GraphQLGuards:
    """For GraphQL paths: body size limit, request timeout and (subgraphs) the shared secret."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        settings: Settings,
        graphql_prefixes: tuple[str, ...],
        subgraph_prefixes: tuple[str, ...],
    ) -> None:
        self.app = app
        self.settings = settings
        self.graphql_prefixes = graphql_prefixes
        self.subgraph_prefixes = subgraph_prefixes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] not in ("http", "websocket") or not path.startswith(
            self.graphql_prefixes + self.subgraph_prefixes
        ):
            await self.app(scope, receive, send)
            return
        if path.startswith(self.subgraph_prefixes) and not self._router_may_call(scope):
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 4403})
                return
            await _send_error(
                send, 403, "Subgraph endpoints answer the gateway's router only.", "FORBIDDEN"
            )
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self._limited(scope, receive, send)

    def _router_may_call(self, scope: Scope) -> bool:
        secret = self.settings.subgraph_secret
        if not secret:
            return not self.settings.is_production  # production without a secret: closed
        sent = dict(scope.get("headers") or []).get(SUBGRAPH_SECRET_HEADER.encode(), b"")
        return hmac.compare_digest(sent, secret.encode())

    async def _limited(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit = self.settings.graphql_max_body_bytes
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _send_error(
                send, 413, f"The request body exceeds {limit} bytes.", "PAYLOAD_TOO_LARGE"
            )
            return
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            async with asyncio.timeout(self.settings.request_timeout_seconds):
                await self.app(scope, counting_receive, tracking_send)
        except _BodyTooLarge:
            if not started:
                await _send_error(
                    send, 413, f"The request body exceeds {limit} bytes.", "PAYLOAD_TOO_LARGE"
                )
        except TimeoutError:
            if not started:
                await _send_error(send, 504, "The request took too long.", "GATEWAY_TIMEOUT")


class SecurityHeaders:
    """Adds the security headers to every HTTP response."""

    def __init__(self, app: ASGIApp, *, production: bool) -> None:
        self.app = app
        self.production = production

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers") or [])
                present = {name.lower() for name, _ in headers}
                extra = list(SECURITY_HEADERS)
                content_type = dict(headers).get(b"content-type", b"")
                if not content_type.startswith(b"text/html"):
                    extra.append(API_CSP)
                if self.production:
                    extra.append(HSTS)
                headers.extend(h for h in extra if h[0] not in present)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)
