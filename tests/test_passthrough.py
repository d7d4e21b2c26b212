"""The metered passthrough against a real local fake LLM upstream."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select, update

from graph.app import create_app
from graph.settings import Settings, load_settings
from persistence.models import ApiKey, Plan, PlanTier, ServiceStatus, UsageRecord
from tests.conftest import service_url
from tests.fake_llm.app import create_app as create_fake_llm
from tests.fake_llm.harness import expected_cost, graphql, list_service, onboard, serve
from tests.kafka_support import topic_ids

CHAT = "/v1/services/fake-llm/v1/chat/completions"
MESSAGES = "/v1/services/fake-llm/v1/messages"


@pytest.fixture
async def upstream() -> AsyncIterator[str]:
    async with serve(create_fake_llm()) as url:
        yield url


def passthrough_settings(database_url: str, tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "data_dir": tmp_path,
        "allow_private_upstreams": True,
        "api_key_cache_seconds": 0,
        "usage_flush_interval_seconds": 0.05,
        "kafka_bootstrap_servers": None,
        "redis_url": None,
    }
    return load_settings(**{**values, **overrides})


class Gateway:
    def __init__(self, app: FastAPI, http: httpx.AsyncClient, settings: Settings) -> None:
        self.app = app
        self.http = http
        self.settings = settings

    @property
    def sessions(self) -> Any:
        return self.app.state.runtime.session_factory

    async def drain(self) -> None:
        await self.app.state.passthrough.writer.drain()

    async def rows(self, count: int | None = None) -> list[UsageRecord]:
        """The usage records, once ``count`` of them are written (a response's metering
        finishes just after its last byte reaches the client)."""
        for _ in range(250):
            await asyncio.sleep(0.02)
            await self.drain()
            async with self.sessions() as session:
                rows = list(await session.scalars(select(UsageRecord)))
            if count is None or len(rows) >= count:
                break
        return rows


@asynccontextmanager
async def running_gateway(settings: Settings) -> AsyncIterator[Gateway]:
    app = create_app(settings)
    async with serve(app) as url, httpx.AsyncClient(base_url=url, timeout=30) as http:
        yield Gateway(app, http, settings)


@pytest.fixture
async def gateway(database_url: str, tmp_path: Path) -> AsyncIterator[Gateway]:
    async with running_gateway(passthrough_settings(database_url, tmp_path)) as gw:
        yield gw


def chat(words: int = 3, max_tokens: int = 5, stream: bool = False) -> dict[str, Any]:
    return {
        "model": "fake",
        "messages": [{"role": "user", "content": " ".join(["hi"] * words)}],
        "max_tokens": max_tokens,
        "stream": stream,
    }


def key_headers(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


async def set_plan(gw: Gateway, tier: PlanTier, **limits: Any) -> None:
    async with gw.sessions() as session, session.begin():
        await session.execute(update(Plan).where(Plan.tier == tier).values(**limits))


USAGE = """query($s: ID) { usage(filter: {serviceId: $s}, granularity: HOUR) {
  totals { requests errors inputTokens outputTokens cost p50LatencyMs p95LatencyMs }
  buckets { start requests cost } } }"""


@pytest.fixture
async def kafka_gateway(database_url: str, tmp_path: Path) -> AsyncIterator[Gateway]:
    """A gateway that also publishes its usage events to a fresh topic of the real Kafka."""
    settings = passthrough_settings(
        database_url,
        tmp_path,
        kafka_bootstrap_servers=service_url("MARKETPLACE_KAFKA_BOOTSTRAP_SERVERS"),
        usage_topic=f"test.usage.{uuid.uuid4().hex}",
        usage_relay_interval_seconds=0.1,
    )
    async with running_gateway(settings) as gw:
        yield gw


async def test_json_and_streamed_calls_are_metered_exactly(
    kafka_gateway: Gateway, upstream: str
) -> None:
    gateway = kafka_gateway
    service_id = await list_service(gateway.sessions, upstream)
    _, secret = await onboard(gateway.http, gateway.settings, "alice", service_id)
    request_ids: set[str] = set()
    reported_in = reported_out = 0
    cost = Decimal(0)
    for i in range(50):
        response = await gateway.http.post(
            CHAT, json=chat(words=i % 7 + 1, max_tokens=i % 11 + 1), headers=key_headers(secret)
        )
        assert response.status_code == 200, response.text
        request_ids.add(response.headers["x-request-id"])
        usage = response.json()["usage"]
        reported_in += usage["prompt_tokens"]
        reported_out += usage["completion_tokens"]
        cost += expected_cost(usage["prompt_tokens"], usage["completion_tokens"])
    for i in range(10):
        path, body = (CHAT, chat(words=4, max_tokens=i + 2, stream=True))
        if i % 2:
            path = MESSAGES
        async with gateway.http.stream(
            "POST", path, json=body, headers={"X-API-Key": secret}
        ) as response:
            assert response.status_code == 200
            request_ids.add(response.headers["x-request-id"])
            assert response.headers["content-type"].startswith("text/event-stream")
            text = "".join([chunk async for chunk in response.aiter_text()])
        assert "tok" in text
        reported_in += 4
        reported_out += i + 2
        cost += expected_cost(4, i + 2)
    rows = await gateway.rows(60)
    assert len(rows) == 60
    assert not any(r.estimated for r in rows)
    assert sum((r.cost for r in rows), Decimal(0)) == cost
    body = await graphql(gateway.http, gateway.settings, "alice", USAGE, {"s": service_id})
    totals = body["data"]["usage"]["totals"]
    assert totals["requests"] == 60
    assert totals["errors"] == 0
    assert totals["inputTokens"] == reported_in
    assert totals["outputTokens"] == reported_out
    assert Decimal(totals["cost"]) == cost
    assert totals["p50LatencyMs"] is not None
    assert sum(b["requests"] for b in body["data"]["usage"]["buckets"]) == 60
    assert {r.id for r in rows} == request_ids
    assert await topic_ids(gateway.settings.usage_topic, 60) == request_ids


async def test_forwarding_swaps_credentials_and_propagates_ids(
    gateway: Gateway, upstream: str
) -> None:
    service_id = await list_service(gateway.sessions, upstream)
    _, secret = await onboard(gateway.http, gateway.settings, "bob", service_id)
    response = await gateway.http.get(
        "/v1/services/fake-llm/echo?x=1",
        headers={
            **key_headers(secret),
            "traceparent": "00-" + "a" * 32 + "-" + "b" * 16 + "-01",
            "Connection": "keep-alive, X-Hop",
            "X-Hop": "drop me",
        },
    )
    assert response.status_code == 200
    seen = response.json()["headers"]
    assert seen["authorization"] == "Bearer sk-provider-secret"
    assert "x-api-key" not in seen
    assert secret not in json.dumps(seen)
    assert "x-hop" not in seen
    assert seen["x-request-id"] == response.headers["x-request-id"]
    assert seen["traceparent"].startswith("00-" + "a" * 32)
    assert response.json()["query"] == "x=1"
    for name in (
        "X-RateLimit-Limit",
        "X-RateLimit-Remaining",
        "X-RateLimit-Reset",
        "RateLimit",
        "RateLimit-Policy",
    ):
        assert name in response.headers
    rows = await gateway.rows(1)
    assert [r.id for r in rows] == [response.headers["x-request-id"]]


async def test_openai_streams_are_asked_for_usage_and_headers_precede_the_body(
    gateway: Gateway, upstream: str
) -> None:
    service_id = await list_service(gateway.sessions, upstream)
    _, secret = await onboard(gateway.http, gateway.settings, "carol", service_id)
    url = CHAT + "?delay=0.2"
    async with gateway.http.stream(
        "POST", url, json=chat(words=2, max_tokens=5, stream=True), headers=key_headers(secret)
    ) as response:
        # Headers arrive while the upstream is still producing (5 chunks x 0.2 s).
        assert "x-ratelimit-remaining" in response.headers
        first = await response.aiter_raw().__anext__()
        assert first.startswith(b"data:")
    rows = await gateway.rows(1)
    assert len(rows) == 1


async def test_stream_without_usage_or_abandoned_is_estimated(
    gateway: Gateway, upstream: str
) -> None:
    service_id = await list_service(gateway.sessions, upstream)
    _, secret = await onboard(gateway.http, gateway.settings, "dave", service_id)
    response = await gateway.http.post(
        "/v1/services/fake-llm/v1/no-usage/stream", json=chat(), headers=key_headers(secret)
    )
    assert response.status_code == 200
    async with gateway.http.stream(
        "POST",
        "/v1/services/fake-llm/v1/no-usage/stream?chunks=50&delay=0.05",
        json=chat(),
        headers=key_headers(secret),
    ) as abandoned:
        await abandoned.aiter_raw().__anext__()
    rows = await gateway.rows(2)
    assert len(rows) == 2
    assert all(r.estimated and r.output_tokens > 0 for r in rows)


async def test_key_errors_are_problem_json(gateway: Gateway, upstream: str) -> None:
    service_id = await list_service(gateway.sessions, upstream)
    _, secret = await onboard(gateway.http, gateway.settings, "erin", service_id)
    for headers in ({}, key_headers("mk_" + "x" * 43), {"X-API-Key": "nope"}):
        response = await gateway.http.post(CHAT, json=chat(), headers=headers)
        assert response.status_code == 401
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["code"] == "INVALID_API_KEY"
        assert "x-request-id" in response.headers
    async with gateway.sessions() as session, session.begin():
        await session.execute(update(ApiKey).values(revoked_at=func.now()))
    response = await gateway.http.post(CHAT, json=chat(), headers=key_headers(secret))
    assert response.json()["code"] == "INVALID_API_KEY"
    assert await gateway.rows() == []


async def test_subscription_and_service_state_are_enforced(gateway: Gateway, upstream: str) -> None:
    service_id = await list_service(gateway.sessions, upstream)
    other_id = await list_service(gateway.sessions, upstream, slug="other-llm")
    sub_id, secret = await onboard(gateway.http, gateway.settings, "frank", service_id)
    response = await gateway.http.post(
        "/v1/services/other-llm/v1/chat/completions", json=chat(), headers=key_headers(secret)
    )
    assert (response.status_code, response.json()["code"]) == (403, "NOT_SUBSCRIBED")
    assert other_id
    response = await gateway.http.post(
        "/v1/services/missing/v1/chat/completions", json=chat(), headers=key_headers(secret)
    )
    assert (response.status_code, response.json()["code"]) == (404, "SERVICE_NOT_FOUND")
    from persistence.models import Service

    async with gateway.sessions() as session, session.begin():
        await session.execute(
            update(Service).where(Service.id == service_id).values(status=ServiceStatus.SUSPENDED)
        )
    response = await gateway.http.post(CHAT, json=chat(), headers=key_headers(secret))
    assert (response.status_code, response.json()["code"]) == (403, "SERVICE_SUSPENDED")
    async with gateway.sessions() as session, session.begin():
        await session.execute(
            update(Service).where(Service.id == service_id).values(status=ServiceStatus.ACTIVE)
        )
    cancel = await graphql(
        gateway.http,
        gateway.settings,
        "frank",
        "mutation($i: ID!) { cancelSubscription(input: {subscriptionId: $i}) "
        "{ subscription { status } } }",
        {"i": sub_id},
    )
    assert cancel["data"]["cancelSubscription"]["subscription"]["status"] == "CANCELLED"
    response = await gateway.http.post(CHAT, json=chat(), headers=key_headers(secret))
    assert response.json()["code"] == "NOT_SUBSCRIBED"


async def test_body_limit(database_url: str, tmp_path: Path, upstream: str) -> None:
    settings = passthrough_settings(database_url, tmp_path, max_request_body_bytes=100)
    async with running_gateway(settings) as gw:
        service_id = await list_service(gw.sessions, upstream)
        _, secret = await onboard(gw.http, gw.settings, "gina", service_id)
        response = await gw.http.post(CHAT, content=b"x" * 101, headers=key_headers(secret))
        assert (response.status_code, response.json()["code"]) == (413, "PAYLOAD_TOO_LARGE")


async def test_free_plan_burst_is_rate_limited(gateway: Gateway, upstream: str) -> None:
    service_id = await list_service(gateway.sessions, upstream)
    _, secret = await onboard(gateway.http, gateway.settings, "hank", service_id, plan="FREE")
    responses = await asyncio.gather(
        *(
            gateway.http.get("/v1/services/fake-llm/echo", headers=key_headers(secret))
            for _ in range(12)
        )
    )
    statuses = [r.status_code for r in responses]
    last = next(r for r in responses if r.status_code == 429)
    assert 5 <= statuses.count(200) <= 6  # the burst (plus at most one refill)
    assert last.json()["code"] == "RATE_LIMITED"
    assert int(last.headers["Retry-After"]) >= 1
    assert last.headers["X-RateLimit-Remaining"] == "0"
    assert last.headers["X-RateLimit-Limit"] == "5"
    assert len(await gateway.rows(statuses.count(200))) == statuses.count(200)


async def test_request_quota_is_exact_under_concurrency(gateway: Gateway, upstream: str) -> None:
    service_id = await list_service(gateway.sessions, upstream)
    _, secret = await onboard(gateway.http, gateway.settings, "ivy", service_id, plan="PRO")
    await set_plan(gateway, PlanTier.PRO, monthly_request_quota=12)
    responses = await asyncio.gather(
        *(gateway.http.post(CHAT, json=chat(), headers=key_headers(secret)) for _ in range(30))
    )
    codes = [r.status_code for r in responses]
    assert codes.count(200) == 12
    refused = [r for r in responses if r.status_code == 429]
    assert all(r.json()["code"] == "QUOTA_EXCEEDED" for r in refused)
    assert all("resetAt" in r.json() and int(r.headers["Retry-After"]) > 0 for r in refused)
    assert len(await gateway.rows(12)) == 12


async def test_budget_is_enforced_and_settled(gateway: Gateway, upstream: str) -> None:
    service_id = await list_service(gateway.sessions, upstream)
    sub_id, secret = await onboard(gateway.http, gateway.settings, "jack", service_id, "PRO")
    one_call = expected_cost(3, 5)
    await set_plan(gateway, PlanTier.PRO, monthly_budget=one_call * 3)
    codes = []
    for _ in range(5):
        response = await gateway.http.post(CHAT, json=chat(), headers=key_headers(secret))
        codes.append(response.status_code)
        await gateway.rows(codes.count(200))  # settled with the actual cost
    assert codes == [200, 200, 200, 429, 429]
    assert response.json()["code"] == "BUDGET_EXCEEDED"
    body = await graphql(
        gateway.http,
        gateway.settings,
        "jack",
        "{ me { subscriptions { remaining { requestsUsed spend budgetRemaining } } } }",
    )
    remaining = body["data"]["me"]["subscriptions"][0]["remaining"]
    assert Decimal(remaining["spend"]) == one_call * 3
    assert Decimal(remaining["budgetRemaining"]) == 0
    assert sub_id


async def test_upstream_failures_and_circuit_breaker(
    database_url: str, tmp_path: Path, upstream: str
) -> None:
    settings = passthrough_settings(
        database_url,
        tmp_path,
        upstream_read_timeout_seconds=0.3,
        circuit_breaker_failures=2,
        circuit_breaker_reset_seconds=0.5,
    )
    async with running_gateway(settings) as gw:
        service_id = await list_service(gw.sessions, upstream)
        _, secret = await onboard(gw.http, gw.settings, "kim", service_id)
        response = await gw.http.get(
            "/v1/services/fake-llm/slow?seconds=2", headers=key_headers(secret)
        )
        assert (response.status_code, response.json()["code"]) == (504, "UPSTREAM_TIMEOUT")
        response = await gw.http.get(
            "/v1/services/fake-llm/status/503", headers=key_headers(secret)
        )
        assert response.status_code == 503  # the upstream's own answer is passed through
        # Two consecutive failures: the circuit is open, calls fail fast.
        response = await gw.http.get("/v1/services/fake-llm/echo", headers=key_headers(secret))
        assert (response.status_code, response.json()["code"]) == (502, "UPSTREAM_UNAVAILABLE")
        await asyncio.sleep(0.6)  # half-open: one probe goes through and closes it
        response = await gw.http.get("/v1/services/fake-llm/echo", headers=key_headers(secret))
        assert response.status_code == 200
        dead_id = await list_service(gw.sessions, "http://127.0.0.1:9", slug="dead-llm")
        await graphql(
            gw.http,
            gw.settings,
            "kim",
            "mutation($s: ID!) { subscribe(input: {serviceId: $s, plan: PRO}) "
            "{ subscription { id } } }",
            {"s": dead_id},
        )
        response = await gw.http.get("/v1/services/dead-llm/x", headers=key_headers(secret))
        assert (response.status_code, response.json()["code"]) == (502, "UPSTREAM_UNAVAILABLE")
        rows = await gw.rows(5)
        assert sorted(r.status_code for r in rows) == [200, 502, 502, 503, 504]
        assert all(r.cost == 0 for r in rows if r.status_code >= 400)


async def test_last_used_at_is_batched(gateway: Gateway, upstream: str) -> None:
    service_id = await list_service(gateway.sessions, upstream)
    _, secret = await onboard(gateway.http, gateway.settings, "lou", service_id)
    for _ in range(3):
        await gateway.http.get("/v1/services/fake-llm/echo", headers=key_headers(secret))
    await gateway.rows(3)
    body = await graphql(
        gateway.http, gateway.settings, "lou", "{ me { apiKeys { lastUsedAt prefix } } }"
    )
    key = body["data"]["me"]["apiKeys"][0]
    assert key["lastUsedAt"] is not None
    assert secret.startswith(key["prefix"])
