"""Prometheus metrics: the gateway's metric objects, the DB pool collector, ``/metrics``.

Every metric lives in prometheus-client's default registry, so a module anywhere in the
gateway can declare or import one and it is exported. Labels are kept to bounded sets
(route templates, service slugs, stable codes), never raw paths, ids or user input.

What other parts of the gateway record (import the object or the helper):

* the passthrough: ``record_passthrough_call`` (or ``PASSTHROUGH_CALLS``,
  ``PASSTHROUGH_LATENCY``, ``TOKENS``, ``COST`` directly), ``RATE_LIMITED``, ``QUOTA_REFUSED``;
* the usage writer: ``USAGE_BUFFER_DEPTH.inc()`` / ``.dec(n)`` (summed over writers);
* the outbox relays (usage and governance): ``observe_outbox(name, pending, oldest)``;
* subscriptions: ``active_subscription(protocol)`` around the stream (or
  ``ACTIVE_SUBSCRIPTIONS.labels(protocol=...).inc()`` / ``.dec()``).

HTTP, GraphQL operations and the DB pool are recorded by this package itself.
"""

from __future__ import annotations

import os
import weakref
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request
from starlette.responses import Response

PREFIX = "marketplace"

# Latency buckets (seconds) for a gateway: sub-millisecond cache hits up to slow upstreams.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)

# --- HTTP ---------------------------------------------------------------------------------

HTTP_REQUESTS = Counter(
    f"{PREFIX}_http_requests",
    "HTTP requests answered, by method, route template and status code.",
    ["method", "route", "status"],
)
HTTP_LATENCY = Histogram(
    f"{PREFIX}_http_request_duration_seconds",
    "Time to answer an HTTP request (until the response is fully sent).",
    ["method", "route"],
    buckets=LATENCY_BUCKETS,
)
HTTP_IN_PROGRESS = Gauge(
    f"{PREFIX}_http_requests_in_progress", "HTTP requests being answered right now."
)

# --- GraphQL ------------------------------------------------------------------------------

GRAPHQL_OPERATIONS = Counter(
    f"{PREFIX}_graphql_operations",
    "GraphQL operations executed, by type, name and outcome (ok or error).",
    ["operation_type", "operation_name", "outcome"],
)
GRAPHQL_ERRORS = Counter(
    f"{PREFIX}_graphql_errors",
    "GraphQL errors returned, by operation type and error code (extensions.code).",
    ["operation_type", "code"],
)
GRAPHQL_LATENCY = Histogram(
    f"{PREFIX}_graphql_operation_duration_seconds",
    "Time to parse, validate and execute a GraphQL operation.",
    ["operation_type"],
    buckets=LATENCY_BUCKETS,
)

# --- Metered passthrough ------------------------------------------------------------------

# A call refused before its service is known (bad key, unknown slug, oversized body) is
# counted under this service label: the slug in the path is user input, not a bounded set.
UNKNOWN_SERVICE = "<unknown>"
# The ``code`` of a call answered by the upstream itself (any status): the gateway's own
# answers carry their problem code (RATE_LIMITED, UPSTREAM_TIMEOUT, ...).
RELAYED = "relayed"

PASSTHROUGH_CALLS = Counter(
    f"{PREFIX}_passthrough_calls",
    "Passthrough calls, by service slug, the status code the consumer received and the "
    "gateway's problem code (``relayed`` when the upstream answered).",
    ["service", "status", "code"],
)
PASSTHROUGH_LATENCY = Histogram(
    f"{PREFIX}_passthrough_upstream_duration_seconds",
    "Time the upstream service took to answer a passthrough call.",
    ["service"],
    buckets=LATENCY_BUCKETS,
)
TOKENS = Counter(
    f"{PREFIX}_passthrough_tokens",
    "LLM tokens metered through the passthrough, by service and kind (input or output).",
    ["service", "kind"],
)
COST = Counter(
    f"{PREFIX}_passthrough_cost",
    "Cost charged for passthrough calls, by service and ISO 4217 currency.",
    ["service", "currency"],
)
RATE_LIMITED = Counter(
    f"{PREFIX}_rate_limited",
    "Requests refused by a rate limit, by service slug.",
    ["service"],
)
QUOTA_REFUSED = Counter(
    f"{PREFIX}_quota_refused",
    "Requests refused because a consumer's quota is used up, by service slug.",
    ["service"],
)

# --- Background work ----------------------------------------------------------------------

USAGE_BUFFER_DEPTH = Gauge(
    f"{PREFIX}_usage_buffer_depth", "Usage records buffered in memory, not yet written."
)
# Two outboxes: ``usage`` (usage events to Kafka) and ``governance`` (governance events to
# the event bus). Each relay measures its own after every pass, published or failed, so an
# outage shows as a growing lag.
OUTBOX_PENDING = Gauge(
    f"{PREFIX}_outbox_pending", "Outbox rows not yet published, by outbox.", ["outbox"]
)
OUTBOX_LAG = Gauge(
    f"{PREFIX}_outbox_lag_seconds",
    "Age of the oldest outbox row not yet published (0 if none), by outbox.",
    ["outbox"],
)
ACTIVE_SUBSCRIPTIONS = Gauge(
    f"{PREFIX}_active_subscriptions",
    "GraphQL subscriptions open right now, by WebSocket sub-protocol.",
    ["protocol"],
)


def record_passthrough_call(
    *,
    service: str,
    status: int,
    code: str = RELAYED,
    upstream_seconds: float | None = None,
    input_tokens: int = 0,
    output_tokens: int = 0,
    cost: Decimal | None = None,
    currency: str = "USD",
) -> None:
    """Record one finished passthrough call (tokens and cost only when metered)."""
    PASSTHROUGH_CALLS.labels(service=service, status=str(status), code=code).inc()
    if upstream_seconds is not None:
        PASSTHROUGH_LATENCY.labels(service=service).observe(upstream_seconds)
    if input_tokens:
        TOKENS.labels(service=service, kind="input").inc(input_tokens)
    if output_tokens:
        TOKENS.labels(service=service, kind="output").inc(output_tokens)
    if cost:
        # Prometheus samples are floats; the exact Decimal amount is what the usage records
        # hold, this series is for dashboards and alerts.
        COST.labels(service=service, currency=currency).inc(float(cost))


def observe_outbox(outbox: str, pending: int, oldest: datetime | None) -> None:
    """Set an outbox's gauges from its row count and its oldest unpublished row's time."""
    OUTBOX_PENDING.labels(outbox=outbox).set(pending)
    lag = 0.0
    if oldest is not None:
        if oldest.tzinfo is None:  # SQLite hands back naive datetimes; they are UTC
            oldest = oldest.replace(tzinfo=UTC)
        lag = max((datetime.now(UTC) - oldest).total_seconds(), 0.0)
    OUTBOX_LAG.labels(outbox=outbox).set(lag)


@contextmanager
def active_subscription(protocol: str) -> Iterator[None]:
    """Count one open subscription for as long as the block runs."""
    gauge = ACTIVE_SUBSCRIPTIONS.labels(protocol=protocol)
    gauge.inc()
    try:
        yield
    finally:
        gauge.dec()


# --- Database connection pool -------------------------------------------------------------


class PoolCollector(Collector):
    """Reads the connection pools of the live engines at scrape time.

    A pool keeps these numbers itself, so reading them when scraped is exact and costs
    nothing per request. Engines are held weakly: a disposed, dropped engine disappears.
    """

    def __init__(self) -> None:
        self._engines: weakref.WeakSet[AsyncEngine] = weakref.WeakSet()

    def track(self, engine: AsyncEngine) -> None:
        self._engines.add(engine)

    def collect(self) -> Iterator[GaugeMetricFamily]:
        size = GaugeMetricFamily(
            f"{PREFIX}_db_pool_size", "Connections the pool keeps open.", labels=["database"]
        )
        connections = GaugeMetricFamily(
            f"{PREFIX}_db_pool_connections",
            "Pool connections by state: checked_out (in use), idle, overflow.",
            labels=["database", "state"],
        )
        totals: dict[str, dict[str, float]] = {}
        for engine in list(self._engines):
            pool = engine.pool
            stats = totals.setdefault(engine.dialect.name, {})
            for name, reader in (
                ("size", "size"),
                ("checked_out", "checkedout"),
                ("idle", "checkedin"),
                ("overflow", "overflow"),
            ):
                read = getattr(pool, reader, None)
                if read is not None:
                    stats[name] = stats.get(name, 0.0) + max(float(read()), 0.0)
        for database, stats in sorted(totals.items()):
            if "size" in stats:
                size.add_metric([database], stats["size"])
            for state in ("checked_out", "idle", "overflow"):
                if state in stats:
                    connections.add_metric([database, state], stats[state])
        yield size
        yield connections

    def describe(self) -> Iterable[GaugeMetricFamily]:
        return []


POOLS = PoolCollector()
REGISTRY.register(POOLS)


# --- Exposition ---------------------------------------------------------------------------


def _registry() -> CollectorRegistry:
    # With several worker processes (``serve --workers N``) each process counts alone;
    # prometheus-client's multiprocess mode merges their files when PROMETHEUS_MULTIPROC_DIR
    # is set (it must be set before the workers start).
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return registry
    return REGISTRY


async def metrics_endpoint(_request: Request) -> Response:
    """``GET /metrics``: the Prometheus text exposition format."""
    return Response(generate_latest(_registry()), media_type=CONTENT_TYPE_LATEST)
