"""The ``X-Request-ID`` of every HTTP request: taken from the client or generated, kept in
``request.state.request_id`` and echoed on the response.

A pure ASGI middleware: ``@app.middleware("http")`` (``BaseHTTPMiddleware``) runs the rest of
the app in a separate task with memory streams for every request, a measurable share of a
small GraphQL request's CPU (docs/performance.md), and buffers nothing useful here.
"""

from __future__ import annotations

import uuid

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUEST_ID_HEADER = "X-Request-ID"
MAX_LENGTH = 64


class RequestIdMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = Headers(scope=scope).get(REQUEST_ID_HEADER)
        state = scope.setdefault("state", {})
        state["request_id"] = (given or str(uuid.uuid4()))[:MAX_LENGTH]

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                # Read at response time: a route may have replaced the id (the passthrough
                # gives each metered call its own).
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = state["request_id"]
            await send(message)

        await self.app(scope, receive, send_with_id)
