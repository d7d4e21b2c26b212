"""The gateway's components record their metrics and spans: real calls, real subscriptions.

Every series is read from ``GET /metrics`` of a running gateway, as a scraper would. The
registry is process-wide, so counters are compared before and after.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from graph.auth import issue_token
from graph.telemetry.tracing import span_processor
from persistence.models import GovernanceEvent, PlanTier, UsageOutbox
from resolvers.events import GovernanceEventType, emit_event
from tests.conftest import gql, service_url
from tests.fake_llm.app import create_app as create_fake_llm
from tests.fake_llm.harness import expected_cost, list_service, onboard, serve
from tests.subscription_support import (
    GOVERNANCE_EVENTS,
    LEGACY_WS,
    TRANSPORT_WS,
    bearer_payload,
    free_port,
    ws_connect,
)
from tests.test_observability_metrics import Samples, scrape, value
from tests.test_observability_tracing import console_spans
from tests.test_passthrough import (
    Gateway,
    chat,
    key_headers,
    passthrough_settings,
    running_gateway,
    set_plan,
)

CALLS = "marketplace_passthrough_calls_total"
TOKENS = "marketplace_passthrough_tokens_total"


@pytest.fixture
async def upstream() -> AsyncIterator[str]:
    async with serve(create_fake_llm()) as url:
        yield url


@pytest.fixture
async def gateway(database_url: str, tmp_path: Path) -> AsyncIterator[Gateway]:
    async with running_gateway(passthrough_settings(database_url, tmp_path)) as gw:
        yield gw


async def until(gw: Gateway, condition: Callable[[Samples], bool], within: float = 15.0) -> Samples:
    """Scrape until ``condition`` holds (metering and relays finish just after answering)."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        samples = await scrape(gw.http)
        if condition(samples) or asyncio.get_running_loop().time() > deadline:
            return samples
        await asyncio.sleep(0.05)


async def emit(gw: Gateway, service_id: str) -> int:
    async with gw.sessions() as session, session.begin():
        event = await emit_event(
            session,
            type=GovernanceEventType.SERVICE_SUSPENDED,
            actor="admin:obs",
            service_id=service_id,
            payload={"reason": "observability test"},
        )
        return event.id


async def test_passthrough_calls_tokens_cost_latency_and_refusals(
    gateway: Gateway, upstream: str
) -> None:
    service_id = await list_service(gateway.sessions, upstream, slug="obs-llm")
    _, secret = await onboard(gateway.http, gateway.settings, "obs-ann", service_id, "PRO")
    _, free_secret = await onboard(gateway.http, gateway.settings, "obs-bob", service_id, "FREE")
    _, basic_secret = await onboard(gateway.http, gateway.settings, "obs-cal", service_id, "BASIC")
    await set_plan(gateway, PlanTier.BASIC, monthly_request_quota=1)
    path = "/v1/services/obs-llm/v1/chat/completions"
    before = await scrape(gateway.http)

    tokens_in = tokens_out = 0
    cost = Decimal(0)
    for words, max_tokens in ((3, 5), (6, 9)):
        response = await gateway.http.post(
            path, json=chat(words, max_tokens), headers=key_headers(secret)
        )
        assert response.status_code == 200, response.text
        tokens_in, tokens_out = tokens_in + words, tokens_out + max_tokens
        cost += expected_cost(words, max_tokens)
    async with gateway.http.stream(
        "POST", path, json=chat(4, 6, stream=True), headers=key_headers(secret)
    ) as streamed:
        assert streamed.status_code == 200
        assert [chunk async for chunk in streamed.aiter_bytes()]
    tokens_in, tokens_out = tokens_in + 4, tokens_out + 6
    cost += expected_cost(4, 6)
    failed = await gateway.http.get("/v1/services/obs-llm/status/503", headers=key_headers(secret))
    assert failed.status_code == 503
    bad_key = await gateway.http.get("/v1/services/obs-llm/echo", headers=key_headers("mk_nope"))
    assert bad_key.status_code == 401
    burst = await asyncio.gather(
        *(
            gateway.http.get("/v1/services/obs-llm/echo", headers=key_headers(free_secret))
            for _ in range(10)
        )
    )
    limited = sum(r.status_code == 429 for r in burst)
    admitted = sum(r.status_code == 200 for r in burst)
    assert limited and admitted + limited == 10
    quota = [
        await gateway.http.post(path, json=chat(), headers=key_headers(basic_secret))
        for _ in range(2)
    ]
    assert [r.status_code for r in quota] == [200, 429]
    assert quota[1].json()["code"] == "QUOTA_EXCEEDED"
    tokens_in, tokens_out = tokens_in + 3, tokens_out + 5
    cost += expected_cost(3, 5)
    relayed = 3 + 1 + admitted + 1  # every call that reached the upstream
    await gateway.rows(relayed)

    after = await until(
        gateway,
        lambda s: (
            value(s, CALLS, service="obs-llm", status="200", code="relayed")
            - value(before, CALLS, service="obs-llm", status="200", code="relayed")
            >= 4 + admitted
        ),
    )

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved(CALLS, service="obs-llm", status="200", code="relayed") == 4 + admitted
    assert moved(CALLS, service="obs-llm", status="503", code="relayed") == 1
    assert moved(CALLS, service="<unknown>", status="401", code="INVALID_API_KEY") == 1
    assert moved(CALLS, service="obs-llm", status="429", code="RATE_LIMITED") == limited
    assert moved(CALLS, service="obs-llm", status="429", code="QUOTA_EXCEEDED") == 1
    assert moved("marketplace_rate_limited_total", service="obs-llm") == limited
    assert moved("marketplace_quota_refused_total", service="obs-llm") == 1
    # The echo calls report no usage, so theirs is estimated; the chat calls' is exact.
    echo_in = moved(TOKENS, service="obs-llm", kind="input") - tokens_in
    echo_out = moved(TOKENS, service="obs-llm", kind="output") - tokens_out
    assert echo_in >= 0 and echo_out > 0
    # Failed calls are not charged; the echo calls are, on their estimated tokens.
    charged = moved("marketplace_passthrough_cost_total", service="obs-llm", currency="USD")
    assert charged > float(cost)
    latency = "marketplace_passthrough_upstream_duration_seconds_count"
    assert moved(latency, service="obs-llm") == relayed
    assert moved("marketplace_passthrough_upstream_duration_seconds_sum", service="obs-llm") > 0


async def test_exact_cost_and_tokens_of_metered_calls(gateway: Gateway, upstream: str) -> None:
    service_id = await list_service(gateway.sessions, upstream, slug="obs-exact")
    _, secret = await onboard(gateway.http, gateway.settings, "obs-dan", service_id, "PRO")
    before = await scrape(gateway.http)
    for words, max_tokens in ((2, 3), (5, 8)):
        response = await gateway.http.post(
            "/v1/services/obs-exact/v1/chat/completions",
            json=chat(words, max_tokens),
            headers=key_headers(secret),
        )
        assert response.status_code == 200
    await gateway.rows(2)
    after = await until(
        gateway,
        lambda s: (
            value(s, TOKENS, service="obs-exact", kind="output")
            - value(before, TOKENS, service="obs-exact", kind="output")
            >= 11
        ),
    )
    assert (
        value(after, TOKENS, service="obs-exact", kind="input")
        - value(before, TOKENS, service="obs-exact", kind="input")
        == 7
    )
    assert (
        value(after, TOKENS, service="obs-exact", kind="output")
        - value(before, TOKENS, service="obs-exact", kind="output")
        == 11
    )
    charged = value(
        after, "marketplace_passthrough_cost_total", service="obs-exact", currency="USD"
    ) - value(before, "marketplace_passthrough_cost_total", service="obs-exact", currency="USD")
    assert abs(charged - float(expected_cost(2, 3) + expected_cost(5, 8))) < 1e-9


async def test_usage_buffer_depth_follows_the_writer(
    database_url: str, tmp_path: Path, upstream: str
) -> None:
    # A long flush interval and a large batch keep the calls buffered until drained.
    settings = passthrough_settings(
        database_url, tmp_path, usage_flush_interval_seconds=60, usage_flush_size=1000
    )
    depth = "marketplace_usage_buffer_depth"
    async with running_gateway(settings) as gw:
        service_id = await list_service(gw.sessions, upstream, slug="obs-buffer")
        _, secret = await onboard(gw.http, settings, "obs-eve", service_id)
        before = value(await scrape(gw.http), depth)
        for _ in range(3):
            response = await gw.http.get(
                "/v1/services/obs-buffer/echo", headers=key_headers(secret)
            )
            assert response.status_code == 200
        buffered = await until(gw, lambda s: value(s, depth) - before >= 3)
        assert value(buffered, depth) - before == 3
        await gw.drain()
        assert value(await scrape(gw.http), depth) == before


async def test_active_subscriptions_by_protocol(database_url: str, tmp_path: Path) -> None:
    settings = passthrough_settings(database_url, tmp_path, governance_bus="in-process")
    gauge = "marketplace_active_subscriptions"
    async with running_gateway(settings) as gw:
        service_id = await list_service(gw.sessions, "https://upstream.example", slug="obs-sub")
        url = str(gw.http.base_url).replace("http://", "ws://") + "/graphql"
        auth = bearer_payload(issue_token(settings, subject="admin:obs", roles=("admin",)))
        before = await scrape(gw.http)
        async with ws_connect(url, TRANSPORT_WS) as modern, ws_connect(url, LEGACY_WS) as legacy:
            for ws in (modern, legacy):
                assert (await ws.init(auth))["type"] == "connection_ack"
                await ws.subscribe("1", GOVERNANCE_EVENTS, {"serviceId": service_id})
            hub = gw.app.state.runtime.governance.hub
            for _ in range(250):
                if len(hub.subscribers) >= 2:
                    break
                await asyncio.sleep(0.02)
            event_id = await emit(gw, service_id)
            for ws in (modern, legacy):  # both are live
                assert (await ws.next_event("1"))["id"] == str(event_id)
            open_ = await scrape(gw.http)
            for protocol in (TRANSPORT_WS, LEGACY_WS):
                assert (
                    value(open_, gauge, protocol=protocol) - value(before, gauge, protocol=protocol)
                    == 1
                )
            await modern.stop("1")
            stopped = await until(
                gw,
                lambda s: (
                    value(s, gauge, protocol=TRANSPORT_WS)
                    == value(before, gauge, protocol=TRANSPORT_WS)
                ),
            )
            assert value(stopped, gauge, protocol=TRANSPORT_WS) == value(
                before, gauge, protocol=TRANSPORT_WS
            )
            assert (
                value(stopped, gauge, protocol=LEGACY_WS) - value(before, gauge, protocol=LEGACY_WS)
                == 1
            )
        # Closing the socket ends the legacy subscription too.
        closed = await until(
            gw,
            lambda s: (
                value(s, gauge, protocol=LEGACY_WS) == value(before, gauge, protocol=LEGACY_WS)
            ),
        )
        assert value(closed, gauge, protocol=LEGACY_WS) == value(before, gauge, protocol=LEGACY_WS)


async def test_backends_down_gateway_serves_and_outbox_lag_grows(
    database_url: str, tmp_path: Path, upstream: str
) -> None:
    """Kafka and Elasticsearch unreachable: the gateway starts and serves (GraphQL, search
    from the built-in index, the passthrough); readiness names both backends down; usage and
    governance events wait in their outboxes and the lag gauges show it."""
    settings = passthrough_settings(
        database_url,
        tmp_path,
        # Ports nothing listens on (bound, then released).
        kafka_bootstrap_servers=f"127.0.0.1:{free_port()}",
        elasticsearch_url=f"http://127.0.0.1:{free_port()}",
        usage_relay_interval_seconds=0.1,
    )
    async with running_gateway(settings) as gw:
        ready = await gw.http.get("/health/ready")
        assert ready.status_code == 503
        backends = ready.json()["backends"]
        assert backends["kafka"]["status"] == "down"
        assert backends["elasticsearch"]["status"] == "down"
        assert backends["database"]["status"] == "up"
        assert (await gw.http.get("/health")).json() == {"status": "ok"}

        service_id = await list_service(gw.sessions, upstream, slug="obs-down")
        _, secret = await onboard(gw.http, settings, "obs-fay", service_id)
        response = await gw.http.post(
            "/v1/services/obs-down/v1/chat/completions", json=chat(), headers=key_headers(secret)
        )
        assert response.status_code == 200, response.text
        search = await gql(gw.http, '{ searchServices(query: "obs") { totalCount } }')
        assert "errors" not in search, search
        assert search["extensions"]["degraded"] is True
        await gw.rows(1)
        await emit(gw, service_id)

        def waiting(outbox: str) -> Callable[[Samples], bool]:
            return lambda s: (
                value(s, "marketplace_outbox_pending", outbox=outbox) >= 1
                and value(s, "marketplace_outbox_lag_seconds", outbox=outbox) > 0
            )

        # The governance backlog is measured by the reconnect loop (1 s, then 2 s, ...).
        for outbox in ("usage", "governance"):
            samples = await until(gw, waiting(outbox), within=10)
            assert waiting(outbox)(samples), outbox
        assert (await gw.http.get("/health/ready")).status_code == 503


async def test_kafka_produce_spans_and_outboxes_drain(
    capfd: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    database_url: str,
    tmp_path: Path,
    upstream: str,
) -> None:
    """With Kafka up and tracing on, each outbox batch is a publish span holding the
    instrumentation's per-message send spans, and both outboxes drain to a zero lag."""
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "console")
    suffix = uuid.uuid4().hex[:8]
    usage_topic, governance_topic = f"obs-usage-{suffix}", f"obs-governance-{suffix}"
    settings = passthrough_settings(
        database_url,
        tmp_path,
        kafka_bootstrap_servers=service_url("MARKETPLACE_KAFKA_BOOTSTRAP_SERVERS"),
        governance_bus="kafka",
        governance_topic=governance_topic,
        usage_topic=usage_topic,
        usage_relay_interval_seconds=0.1,
    )
    try:
        async with running_gateway(settings) as gw:
            service_id = await list_service(gw.sessions, upstream, slug="obs-kafka")
            _, secret = await onboard(gw.http, settings, "obs-gus", service_id)
            response = await gw.http.get("/v1/services/obs-kafka/echo", headers=key_headers(secret))
            assert response.status_code == 200
            await gw.rows(1)
            await emit(gw, service_id)

            async def waiting_rows() -> int:
                async with gw.sessions() as session:
                    usage = await session.scalar(select(func.count()).select_from(UsageOutbox))
                    governance = await session.scalar(
                        select(func.count()).where(GovernanceEvent.published_at.is_(None))
                    )
                return int(usage or 0) + int(governance or 0)

            for _ in range(300):
                if await waiting_rows() == 0:
                    break
                await asyncio.sleep(0.05)
            assert await waiting_rows() == 0  # both relays published

            def drained(samples: Samples) -> bool:
                return all(
                    value(samples, "marketplace_outbox_pending", outbox=o) == 0
                    and value(samples, "marketplace_outbox_lag_seconds", outbox=o) == 0
                    for o in ("usage", "governance")
                )

            assert drained(await until(gw, drained))
    finally:
        span_processor().replace(())

    spans = console_spans(capfd.readouterr().out)
    for batch_name, topic in (
        (f"{usage_topic} publish", usage_topic),
        ("governance outbox publish", governance_topic),
    ):
        batches = [s for s in spans if s["name"] == batch_name]
        assert batches, sorted({s["name"] for s in spans})
        batch_ids = {b["context"]["span_id"] for b in batches}
        sends = [
            s for s in spans if s["name"] == f"{topic} send" and s["kind"] == "SpanKind.PRODUCER"
        ]
        assert sends, sorted({s["name"] for s in spans})
        assert all(s["parent_id"] in batch_ids for s in sends)
        assert all(s["attributes"].get("messaging.system") == "kafka" for s in sends)
