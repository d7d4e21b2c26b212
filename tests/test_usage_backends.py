"""Metering against the real backends: Redis (shared rate limit) and Kafka (usage topic)."""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path

from sqlalchemy import func, select

from persistence.models import UsageOutbox
from resolvers.metering.ratelimit import RedisRateLimiter, create_rate_limiter
from resolvers.metering.relay import UsageRelay
from tests.conftest import service_url
from tests.fake_llm.harness import list_service, onboard
from tests.kafka_support import topic_ids
from tests.test_passthrough import (
    CHAT,
    chat,
    key_headers,
    passthrough_settings,
    running_gateway,
    upstream,  # noqa: F401 (fixture)
)


async def test_redis_limiter_is_shared_by_replicas() -> None:
    """Two limiter instances (as two replicas) on one Redis admit burst + rate x time."""
    url = service_url("MARKETPLACE_REDIS_URL")
    prefix = f"test:{uuid.uuid4()}:"
    replicas = [create_rate_limiter(url, fail_open=False, prefix=prefix) for _ in range(2)]
    rate, burst, seconds = 50, 50, 2.0
    admitted = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        decisions = await asyncio.gather(*(r.check("k", rate, burst) for r in replicas))
        admitted += sum(d.allowed for d in decisions)
        await asyncio.sleep(0.002)
    expected = burst + rate * seconds
    assert abs(admitted - expected) <= 0.05 * expected + 1
    refused = await replicas[0].check("k", rate, burst)
    assert refused.retry_after_seconds >= 0
    for replica in replicas:
        await replica.close()


async def test_unreachable_redis_fails_open_or_closed() -> None:
    open_limiter = create_rate_limiter("redis://127.0.0.1:9/0", fail_open=True)
    decision = await open_limiter.check("k", 1, 2)
    assert decision.allowed  # fell back to the local limiter
    closed = create_rate_limiter("redis://127.0.0.1:9/0", fail_open=False)
    assert isinstance(closed, RedisRateLimiter)
    try:
        await closed.check("k", 1, 2)
    except Exception as exc:
        assert type(exc).__name__ == "RateLimiterUnavailable"
    else:
        raise AssertionError("fail-closed limiter admitted a call without Redis")
    await open_limiter.close()
    await closed.close()


async def test_usage_events_reach_kafka(
    database_url: str,
    tmp_path: Path,
    upstream: str,  # noqa: F811
) -> None:
    topic = f"test.usage.{uuid.uuid4().hex}"
    settings = passthrough_settings(
        database_url,
        tmp_path,
        kafka_bootstrap_servers=service_url("MARKETPLACE_KAFKA_BOOTSTRAP_SERVERS"),
        usage_topic=topic,
        usage_relay_interval_seconds=0.1,
    )
    async with running_gateway(settings) as gw:
        service_id = await list_service(gw.sessions, upstream)
        _, secret = await onboard(gw.http, gw.settings, "kafka-user", service_id)
        responses = await asyncio.gather(
            *(gw.http.post(CHAT, json=chat(), headers=key_headers(secret)) for _ in range(20))
        )
        request_ids = {r.headers["x-request-id"] for r in responses}
        rows = await gw.rows(20)
        assert {r.id for r in rows} == request_ids
    assert await topic_ids(topic, 20) == request_ids


async def test_kafka_outage_is_absorbed_by_the_outbox(
    database_url: str,
    tmp_path: Path,
    upstream: str,  # noqa: F811
) -> None:
    """Broker unreachable during the run and at shutdown: every answered call has its row,
    the outbox keeps the events, and a relay with the broker back publishes every id."""
    topic = f"test.usage.{uuid.uuid4().hex}"
    settings = passthrough_settings(
        database_url,
        tmp_path,
        usage_kafka_bootstrap_servers="127.0.0.1:9",  # nothing listens: Kafka is "down"
        usage_topic=topic,
        usage_relay_interval_seconds=0.1,
    )
    async with running_gateway(settings) as gw:
        service_id = await list_service(gw.sessions, upstream)
        _, secret = await onboard(gw.http, gw.settings, "outage-user", service_id)
        responses = await asyncio.gather(
            *(gw.http.post(CHAT, json=chat(), headers=key_headers(secret)) for _ in range(25))
        )
        answered = {r.headers["x-request-id"] for r in responses if r.status_code == 200}
        assert len(answered) == 25
        await gw.rows(25)
        engine = gw.app.state.runtime.engine
    # The gateway has shut down (lifespan exit, as on SIGTERM): rows == answers, outbox full.
    async with running_gateway(passthrough_settings(database_url, tmp_path)) as gw:
        rows = await gw.rows(25)
        assert {r.id for r in rows} == answered
        engine = gw.app.state.runtime.engine
        async with engine.connect() as conn:
            assert await conn.scalar(select(func.count()).select_from(UsageOutbox)) == 25
        relay = UsageRelay(
            engine,
            bootstrap_servers=service_url("MARKETPLACE_KAFKA_BOOTSTRAP_SERVERS"),
            topic=topic,
            interval=0.1,
        )
        assert await relay.relay_once() == 25
        await relay.stop()
        async with engine.connect() as conn:
            assert await conn.scalar(select(func.count()).select_from(UsageOutbox)) == 0
    assert await topic_ids(topic, 25) == answered
