"""Acceptance: a Kafka outage in the middle of a steady passthrough load loses no usage.

A gateway process publishes usage to a private broker. Under a steady load of metered calls
the broker is SIGKILLed for 20 s, then restarted on the same ports and data dir. Calls keep
being answered throughout (the usage path never waits on Kafka); the outbox absorbs the
outage and the gateway's relay catches up once the broker is back. After SIGTERM: one usage
row per 2xx answer, and every request id is in the topic (at-least-once, duplicates allowed).
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from pathlib import Path

import httpx
import pytest
from aiokafka import AIOKafkaConsumer
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from graph.settings import load_settings
from persistence.models import UsageOutbox, UsageRecord
from tests.fake_llm.app import create_app as create_fake_llm
from tests.fake_llm.harness import list_service, onboard, serve
from tests.gateway_processes import database_sessions, gateway_env, gateways
from tests.private_kafka import PrivateKafka
from tests.test_passthrough import CHAT, chat

CALLS_PER_SECOND = 20
BEFORE_OUTAGE_S, OUTAGE_S, AFTER_RETURN_S = 4.0, 20.0, 4.0
CATCH_UP_TIMEOUT_S = 30.0


class SteadyLoad:
    """Open-loop load: a call every 1/CALLS_PER_SECOND s whatever the previous ones are doing,
    so a stall anywhere in the gateway shows as slow or failed answers, not as fewer calls."""

    def __init__(self, url: str, secret: str) -> None:
        self._http = httpx.AsyncClient(base_url=url, timeout=30)
        self._secret = secret
        self._calls: list[asyncio.Task[httpx.Response]] = []
        self._stop = asyncio.Event()
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        headers = {"Authorization": f"Bearer {self._secret}"}
        interval = 1 / CALLS_PER_SECOND
        next_at = time.monotonic()
        while not self._stop.is_set():
            self._calls.append(
                asyncio.create_task(self._http.post(CHAT, json=chat(), headers=headers))
            )
            next_at += interval
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))

    async def finish(self) -> list[httpx.Response]:
        self._stop.set()
        await self._task
        try:
            return list(await asyncio.gather(*self._calls))
        finally:
            await self._http.aclose()


async def _outbox_size(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(UsageOutbox)) or 0)


async def _wait_for_empty_outbox(sessions: async_sessionmaker[AsyncSession]) -> int:
    """Polls the outbox (a table another process drains); the rows left at the deadline."""
    left = await _outbox_size(sessions)
    for _ in range(int(CATCH_UP_TIMEOUT_S / 0.25)):
        if not left:
            break
        await asyncio.sleep(0.25)
        left = await _outbox_size(sessions)
    return left


async def _topic_ids(servers: str, topic: str, expected: set[str]) -> list[str]:
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=servers,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        group_id=None,
    )
    await consumer.start()
    ids: list[str] = []
    try:
        deadline = time.monotonic() + 20
        while not expected <= set(ids) and time.monotonic() < deadline:
            for messages in (await consumer.getmany(timeout_ms=500)).values():
                ids.extend(json.loads(m.value)["id"] for m in messages)
    finally:
        await consumer.stop()
    return ids


@pytest.mark.parametrize("backend", ["postgres"])
async def test_broker_killed_mid_run_loses_no_usage(database_url: str, tmp_path: Path) -> None:
    kafka = PrivateKafka(tmp_path / "kafka")
    kafka.format_storage()
    await kafka.start()
    topic = f"test.usage.{uuid.uuid4().hex}"
    env = gateway_env(
        database_url,
        tmp_path,
        usage_kafka_bootstrap_servers=kafka.bootstrap_servers,
        usage_topic=topic,
        usage_flush_interval_seconds="0.1",
        usage_relay_interval_seconds="0.2",
    )
    try:
        async with (
            serve(create_fake_llm()) as upstream,
            database_sessions(database_url) as sessions,
            gateways([env], tmp_path) as (gateway,),
        ):
            service_id = await list_service(sessions, upstream)
            async with httpx.AsyncClient(base_url=gateway.url, timeout=30) as http:
                _, secret = await onboard(http, load_settings(), "outage-user", service_id)
            load = SteadyLoad(gateway.url, secret)
            await asyncio.sleep(BEFORE_OUTAGE_S)
            kafka.kill()
            await asyncio.sleep(OUTAGE_S)
            backlog = await _outbox_size(sessions)
            await kafka.start()
            await asyncio.sleep(AFTER_RETURN_S)
            responses = await load.finish()
            left = await _wait_for_empty_outbox(sessions)
            await gateway.terminate()
            async with sessions() as session:
                recorded = set(await session.scalars(select(UsageRecord.id)))
        answered = {r.headers["x-request-id"] for r in responses if r.is_success}
        # The outage never reached the consumers: every call was answered.
        assert [r.status_code for r in responses if not r.is_success] == []
        assert len(responses) >= CALLS_PER_SECOND * (BEFORE_OUTAGE_S + OUTAGE_S) * 0.9
        assert recorded == answered
        # The outage was real (events piled up in the outbox) and the relay caught up.
        assert backlog >= CALLS_PER_SECOND * OUTAGE_S * 0.5, backlog
        assert left == 0
        published = await _topic_ids(kafka.bootstrap_servers, topic, answered)
        assert set(published) == answered
    finally:
        kafka.kill()
