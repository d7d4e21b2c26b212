"""Per-request HTTP metrics and the one structured access-log line per request.

A pure ASGI middleware (not ``BaseHTTPMiddleware``) so streamed passthrough responses are
timed to their last byte and not buffered. It sits inside the OpenTelemetry server span, so
the access line carries that span's trace id.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from opentelemetry import trace
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from graph.telemetry.logging import ACCESS_LOGGER
from graph.telemetry.metrics import HTTP_IN_PROGRESS, HTTP_LATENCY, HTTP_REQUESTS

UNMATCHED_ROUTE = "<unmatched>"

access_log = logging.getLogger(ACCESS_LOGGER)


def route_template(scope: Scope) -> str:
    """The matched route's template (``/v1/services/{service_slug}/{path:path}``), never
    the raw path, so the label set stays bounded whatever clients send."""
    # A route of an included router only knows its path below the router's prefix; FastAPI
    # keeps the full template in its effective route context (what its own telemetry reads).
    fastapi_scope = scope.get("fastapi")
    effective = fastapi_scope.get("effective_route_context") if fastapi_scope else None
    if effective is not None:
        path = getattr(effective.starlette_route, "path_format", None) or getattr(
            effective, "path_format", None
        )
        if path:
            return str(path)
    route = scope.get("route")
    path = getattr(route, "path_format", None) or getattr(route, "path", None)
    return str(path) if path else UNMATCHED_ROUTE


def current_trace_ids() -> tuple[str | None, str | None]:
    """(trace id, span id) of the current span in W3C hex form, or (None, None)."""
    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return None, None
    return trace.format_trace_id(context.trace_id), trace.format_span_id(context.span_id)


class RequestTelemetryMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        state: dict[str, Any] = {"status": 500, "request_id": None, "route": None}

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                state["status"] = message["status"]
                # Read now: FastAPI restores the scope's route when an included router
                # returns, so after the call it may name the router, not the route.
                state["route"] = route_template(scope)
                for name, value in message.get("headers", ()):
                    if name.lower() == b"x-request-id":
                        state["request_id"] = value.decode("latin-1")
            await send(message)

        trace_id, span_id = current_trace_ids()
        HTTP_IN_PROGRESS.inc()
        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            HTTP_IN_PROGRESS.dec()
            elapsed = time.perf_counter() - started
            method = scope["method"]
            route = state["route"] or route_template(scope)
            status = state["status"]
            HTTP_REQUESTS.labels(method=method, route=route, status=str(status)).inc()
            HTTP_LATENCY.labels(method=method, route=route).observe(elapsed)
            access_log.info(
                "%s %s %s",
                method,
                scope["path"],
                status,
                extra={
                    "request_id": state["request_id"],
                    "trace_id": trace_id,
                    "span_id": span_id,
                    "method": method,
                    "path": scope["path"],
                    "route": route,
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 2),
                    "client": (scope.get("client") or (None,))[0],
                },
            )
