"""``/metrics``: Prometheus text that parses, with counters that move."""

from __future__ import annotations

from decimal import Decimal

import httpx
from prometheus_client.parser import text_string_to_metric_families

from graph.telemetry import metrics
from tests.conftest import gql

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


async def scrape(client: httpx.AsyncClient) -> Samples:
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def test_http_and_graphql_counters_move(client: httpx.AsyncClient):
    before = await scrape(client)
    for _ in range(2):
        body = await gql(client, "query MetricsProbe { services(first: 1) { totalCount } }")
        assert "errors" not in body
    after = await scrape(client)

    http = ("marketplace_http_requests_total", {"method": "POST", "route": "/graphql"})
    assert (
        value(after, http[0], **http[1], status="200")
        - value(before, http[0], **http[1], status="200")
        == 2
    )
    ok = {"operation_type": "query", "operation_name": "MetricsProbe", "outcome": "ok"}
    assert (
        value(after, "marketplace_graphql_operations_total", **ok)
        - value(before, "marketplace_graphql_operations_total", **ok)
        == 2
    )
    latency = ("marketplace_graphql_operation_duration_seconds_count", {"operation_type": "query"})
    assert value(after, latency[0], **latency[1]) >= value(before, latency[0], **latency[1]) + 2
    duration = ("marketplace_http_request_duration_seconds_count", http[1])
    assert value(after, duration[0], **duration[1]) >= 2


async def test_graphql_errors_are_counted_by_code(client: httpx.AsyncClient):
    def errors_by_code(samples: Samples) -> dict[str, float]:
        return {
            dict(labels)["code"]: v
            for (name, labels), v in samples.items()
            if name == "marketplace_graphql_errors_total"
            and dict(labels)["operation_type"] == "query"
        }

    before = await scrape(client)
    body = await gql(client, "query Broken { noSuchField }")
    after = await scrape(client)
    failed = {"operation_type": "query", "operation_name": "Broken", "outcome": "error"}
    assert (
        value(after, "marketplace_graphql_operations_total", **failed)
        - value(before, "marketplace_graphql_operations_total", **failed)
        == 1
    )
    code = body["errors"][0].get("extensions", {}).get("code", "UNCODED")
    assert errors_by_code(after)[code] - errors_by_code(before).get(code, 0) == 1


async def test_unmatched_paths_share_one_route_label(client: httpx.AsyncClient):
    await client.get("/no/such/path/123")
    await client.get("/no/such/path/456")
    samples = await scrape(client)
    assert (
        value(
            samples,
            "marketplace_http_requests_total",
            method="GET",
            route="<unmatched>",
            status="404",
        )
        >= 2
    )
    assert not any("/no/such" in dict(labels).get("route", "") for _, labels in samples)


async def test_database_pool_is_reported(client: httpx.AsyncClient, backend: str):
    await gql(client, "{ services(first: 1) { totalCount } }")
    samples = await scrape(client)
    database = "postgresql" if backend == "postgres" else "sqlite"
    assert value(samples, "marketplace_db_pool_size", database=database) >= 1
    assert ("marketplace_db_pool_connections", (("database", database), ("state", "idle"))) in (
        samples
    )


async def test_helpers_for_other_components_are_exported(client: httpx.AsyncClient):
    before = await scrape(client)
    metrics.record_passthrough_call(
        service="obs-test-svc",
        status=200,
        upstream_seconds=0.05,
        input_tokens=12,
        output_tokens=30,
        cost=Decimal("0.0042"),
    )
    metrics.RATE_LIMITED.labels(service="obs-test-svc").inc()
    metrics.QUOTA_REFUSED.labels(service="obs-test-svc").inc()
    metrics.observe_outbox("usage", 0, None)
    with metrics.active_subscription("graphql-transport-ws"):
        after = await scrape(client)
    ended = await scrape(client)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    calls = {"service": "obs-test-svc", "status": "200", "code": "relayed"}
    assert moved("marketplace_passthrough_calls_total", **calls) == 1
    assert moved("marketplace_passthrough_tokens_total", service="obs-test-svc", kind="input") == 12
    assert (
        moved("marketplace_passthrough_tokens_total", service="obs-test-svc", kind="output") == 30
    )
    cost = moved("marketplace_passthrough_cost_total", service="obs-test-svc", currency="USD")
    assert abs(cost - 0.0042) < 1e-9
    assert moved("marketplace_rate_limited_total", service="obs-test-svc") == 1
    assert moved("marketplace_quota_refused_total", service="obs-test-svc") == 1
    assert ("marketplace_usage_buffer_depth", ()) in after
    assert ("marketplace_outbox_lag_seconds", (("outbox", "usage"),)) in after
    assert moved("marketplace_active_subscriptions", protocol="graphql-transport-ws") == 1
    assert value(ended, "marketplace_active_subscriptions", protocol="graphql-transport-ws") == (
        value(before, "marketplace_active_subscriptions", protocol="graphql-transport-ws")
    )
