"""Acceptance: two gateway processes sharing Redis enforce one rate limit between them.

Both replicas serve the same consumer's key with a plan of 20 requests/s, burst 20, while
concurrent clients hammer both for 10 s through the passthrough to the fake upstream. The
GCRA state lives in Redis (time from Redis ``TIME``), so together they admit
burst + rate x the window they were admitting in, within 5 %, and every admitted call has
exactly one usage record.

The window is the one the limiter saw: from the first to the last admitted call's
``occurred_at`` (stamped on arrival, before the limiter is asked). On a loaded machine the
first calls can reach the gateways well after the clients' clock started, and counting from
the clients' clock would then blame the limiter for admissions nobody asked for.
"""

from __future__ import annotations

import asyncio
import gc
import json
import time
import uuid
from collections import Counter
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from graph.settings import load_settings
from persistence.models import UsageRecord
from tests.conftest import service_url
from tests.fake_llm.app import create_app as create_fake_llm
from tests.fake_llm.harness import list_service, onboard, serve
from tests.gateway_processes import database_sessions, gateway_env, gateways

RATE, BURST, SECONDS = 20, 20, 10.0
CLIENTS_PER_REPLICA = 4
ECHO = "/v1/services/fake-llm/echo"


async def _hammer(http: httpx.AsyncClient, secret: str, until: float) -> Counter[int]:
    """One closed-loop client: a call, then the next as soon as it is answered."""
    statuses: Counter[int] = Counter()
    while time.monotonic() < until:
        response = await http.get(ECHO, headers={"X-API-Key": secret})
        statuses[response.status_code] += 1
        if response.status_code == 429:
            # A refusal is cheap; pausing briefly keeps the offered load (still far above
            # the rate) from starving the gateways of CPU on a shared machine.
            await asyncio.sleep(0.01)
    return statuses


async def _drive(urls: list[str], secret: str) -> list[Counter[int]]:
    """CLIENTS_PER_REPLICA clients per replica for SECONDS; the statuses seen per replica.

    Every client connects before the clock starts, so the measured window is the one the
    limiter sees (connection set-up on a busy machine would otherwise eat into it)."""
    clients = [
        (index, httpx.AsyncClient(base_url=url, timeout=30))
        for index, url in enumerate(urls)
        for _ in range(CLIENTS_PER_REPLICA)
    ]
    try:
        await asyncio.gather(*(http.get("/health") for _, http in clients))
        # This process is the load: a full collection over the heap a long test session
        # built can stop every client for over a second, the bucket refills past its burst
        # meanwhile and the admissions lost look like the limiter's. Freeze what exists.
        gc.collect()
        gc.freeze()
        until = time.monotonic() + SECONDS
        results = await asyncio.gather(*(_hammer(http, secret, until) for _, http in clients))
    finally:
        gc.unfreeze()
        await asyncio.gather(*(http.aclose() for _, http in clients))
    totals: list[Counter[int]] = [Counter() for _ in urls]
    for (index, _), statuses in zip(clients, results, strict=True):
        totals[index].update(statuses)
    return totals


@pytest.mark.parametrize("backend", ["postgres"])
async def test_two_gateway_processes_share_one_rate_limit(
    database_url: str, tmp_path: Path
) -> None:
    env = gateway_env(
        database_url,
        tmp_path,
        redis_url=service_url("MARKETPLACE_REDIS_URL"),
        rate_limit_key_prefix=f"test:{uuid.uuid4().hex}:",
        plan_overrides=json.dumps({"BASIC": {"requests_per_second": RATE, "burst": BURST}}),
        usage_flush_interval_seconds="0.1",
    )
    token_settings = load_settings()  # the dev JWT secret the gateways also use
    async with (
        serve(create_fake_llm()) as upstream,
        database_sessions(database_url) as sessions,
        gateways([env, env], tmp_path) as replicas,
    ):
        service_id = await list_service(sessions, upstream)
        async with httpx.AsyncClient(base_url=replicas[0].url, timeout=30) as http:
            _, secret = await onboard(http, token_settings, "replica-user", service_id, "BASIC")
        totals = await _drive([r.url for r in replicas], secret)
        for replica in replicas:
            await replica.terminate()  # SIGTERM flushes the usage buffer
        async with sessions() as session:
            recorded, first, last = (
                await session.execute(
                    select(
                        func.count(),
                        func.min(UsageRecord.occurred_at),
                        func.max(UsageRecord.occurred_at),
                    )
                )
            ).one()

    both = sum(totals, Counter())
    assert set(both) <= {200, 429}, both
    admitted = both[200]
    window = (last - first).total_seconds()
    # The clients drove 10 s: the limiter's window is at most that (plus calls in flight at
    # the end) and, however late the first calls arrived, most of it.
    assert SECONDS / 2 <= window <= SECONDS + 1.0, window
    expected = BURST + RATE * window
    assert abs(admitted - expected) <= 0.05 * expected, (admitted, expected, window, totals)
    # Both replicas took part, and the load was far above the rate on each.
    assert all(t[200] > 0 and t[429] > t[200] for t in totals), totals
    assert recorded == admitted
