"""Observability: traces (OpenTelemetry), metrics (Prometheus), structured logs.

``setup_telemetry(app, settings)`` is the one call an app factory makes; see
docs/observability.md for what is recorded and how it is configured.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from strawberry import Schema

from graph.settings import Settings
from graph.telemetry.graphql import OperationTelemetry
from graph.telemetry.http import RequestTelemetryMiddleware
from graph.telemetry.logging import configure_logging
from graph.telemetry.metrics import POOLS, metrics_endpoint
from graph.telemetry.tracing import (
    TracingConfig,
    configure_tracing,
    instrument_app,
    instrument_engine,
)

METRICS_PATH = "/metrics"

__all__ = ["METRICS_PATH", "instrument_schema", "setup_telemetry"]


def instrument_schema(schema: Schema) -> Schema:
    """Add the per-operation span and metrics to ``schema`` (once)."""
    if OperationTelemetry not in schema.extensions:
        schema.extensions = (*schema.extensions, OperationTelemetry)
    return schema


def _gateway_schemas() -> list[Schema]:
    from graph.schema import composed_schema
    from subgraphs.registry import SUBGRAPHS

    return [composed_schema(), *(s.schema for s in SUBGRAPHS)]


def setup_telemetry(
    app: FastAPI, settings: Settings, *, tracing: TracingConfig | None = None
) -> None:
    """Wire logs, metrics and (when ``OTEL_*`` asks for it) tracing into ``app``.

    Call it after the app's own middleware is added: the request middleware added here then
    wraps it, so its access line sees the final status and the ``X-Request-ID`` header.
    ``tracing`` defaults to what the ``OTEL_*`` environment variables say.
    """
    configure_logging(settings.log_level)
    for schema in _gateway_schemas():
        instrument_schema(schema)
    traced = configure_tracing(tracing or TracingConfig.from_env())

    app.add_middleware(RequestTelemetryMiddleware)
    app.add_route(METRICS_PATH, metrics_endpoint, methods=["GET"], include_in_schema=False)
    if traced:
        instrument_app(app)

    # The database engine exists only once the lifespan has built the runtime.
    inner_lifespan = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app_: Any) -> AsyncIterator[Any]:
        async with inner_lifespan(app_) as state:
            runtime = getattr(app_.state, "runtime", None)
            if runtime is not None:
                POOLS.track(runtime.engine)
                if traced:
                    instrument_engine(runtime.engine)
            yield state

    app.router.lifespan_context = lifespan
