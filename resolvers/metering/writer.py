"""The usage writer: a bounded in-memory buffer flushed to the database in batches.

Calls wait for room before they are forwarded (backpressure), never after answering, so an
answered call always has a place in the buffer. A batch leaves the buffer only once its
transaction committed; a failed flush keeps it and retries with backoff. One transaction
writes the usage records (idempotent on id), their Kafka outbox rows, the quota settlements
of the records actually inserted, and the batched ``api_keys.last_used_at`` updates.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from graph.telemetry.metrics import USAGE_BUFFER_DEPTH
from persistence.models import ApiKey, UsageOutbox, UsageRecord
from resolvers.metering.events import UsageEvent
from resolvers.metering.quota import Reservation, settle_statement

log = logging.getLogger(__name__)
MAX_BACKOFF_SECONDS = 5.0


def _insert(engine: AsyncEngine, table: Any) -> Any:
    dialect = postgresql if engine.dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


class UsageWriter:
    def __init__(
        self,
        engine: AsyncEngine,
        *,
        flush_size: int,
        flush_interval: float,
        max_buffered: int,
        with_outbox: bool,
    ) -> None:
        self._engine = engine
        self._flush_size = flush_size
        self._interval = flush_interval
        self._max = max_buffered
        self._with_outbox = with_outbox
        self._pending: list[UsageEvent] = []
        self._last_used: dict[str, datetime] = {}
        self._wake = asyncio.Event()
        self._room = asyncio.Condition()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._flush_lock = asyncio.Lock()
        self.failed_flushes = 0

    @property
    def buffered(self) -> int:
        return len(self._pending)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="usage-writer")

    async def wait_for_room(self) -> None:
        async with self._room:
            await self._room.wait_for(lambda: len(self._pending) < self._max)

    def submit(self, event: UsageEvent) -> None:
        """Buffer one event (synchronous: safe in a cancelled response's cleanup)."""
        self._pending.append(event)
        # inc/dec rather than set: the gauge is the sum over every writer in the process.
        USAGE_BUFFER_DEPTH.inc()
        if event.api_key_id is not None:
            self._last_used[event.api_key_id] = event.occurred_at
        if len(self._pending) >= self._flush_size:
            self._wake.set()

    async def stop(self, grace_seconds: float = 30.0) -> None:
        """Flush everything left (retrying) before the process exits."""
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(self._task, grace_seconds)
            except TimeoutError:
                log.error("usage writer: %d events not flushed at shutdown", len(self._pending))

    async def _run(self) -> None:
        backoff = 0.1
        while True:
            if not self._pending and not self._last_used:
                if self._stopping:
                    return
                try:
                    await asyncio.wait_for(self._wake.wait(), self._interval)
                except TimeoutError:
                    pass
                self._wake.clear()
                continue
            try:
                await self.flush_once()
                backoff = 0.1
            except Exception:
                self.failed_flushes += 1
                log.exception("usage writer: flush failed; retrying in %.1fs", backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
                continue
            if not self._stopping and len(self._pending) < self._flush_size:
                try:
                    await asyncio.wait_for(self._wake.wait(), self._interval)
                except TimeoutError:
                    pass
                self._wake.clear()

    async def drain(self) -> None:
        """Flush until the buffer is empty (errors propagate)."""
        while self._pending or self._last_used:
            await self.flush_once()

    async def flush_once(self) -> None:
        async with self._flush_lock:
            await self._flush_locked()

    async def _flush_locked(self) -> None:
        batch = self._pending[: self._flush_size]
        last_used = dict(self._last_used)
        async with self._engine.begin() as conn:
            if batch:
                await self._write(conn, batch)
            if last_used:
                await conn.execute(
                    update(ApiKey)
                    .where(ApiKey.id == bindparam("key_id"))
                    .values(last_used_at=bindparam("used_at")),
                    [{"key_id": k, "used_at": t} for k, t in last_used.items()],
                )
        del self._pending[: len(batch)]
        USAGE_BUFFER_DEPTH.dec(len(batch))
        for key_id, used_at in last_used.items():
            if self._last_used.get(key_id) == used_at:
                del self._last_used[key_id]
        async with self._room:
            self._room.notify_all()

    async def _write(self, conn: AsyncConnection, batch: list[UsageEvent]) -> None:
        inserted = set(
            (
                await conn.execute(
                    _insert(self._engine, UsageRecord)
                    .values([e.record() for e in batch])
                    .on_conflict_do_nothing()
                    .returning(UsageRecord.id)
                )
            ).scalars()
        )
        fresh = [e for e in batch if e.id in inserted]
        if self._with_outbox and fresh:
            await conn.execute(
                _insert(self._engine, UsageOutbox)
                .values(
                    [
                        {
                            "id": e.id,
                            "service_id": e.service_id,
                            "payload": e.payload(),
                            "created_at": e.occurred_at,
                            "attempts": 0,
                        }
                        for e in fresh
                    ]
                )
                .on_conflict_do_nothing()
            )
        # Settle only records inserted now, so a retried batch never settles twice.
        settlements: dict[tuple[str, str], list[Any]] = defaultdict(lambda: [0, Decimal(0)])
        for event in fresh:
            if event.reservation is None:
                continue
            r = event.reservation
            delta = settlements[(r.subscription_id, r.period)]
            delta[0] += event.input_tokens + event.output_tokens - r.tokens
            delta[1] += event.cost - r.cost
        for (subscription_id, period), (tokens, cost) in settlements.items():
            if tokens or cost:
                await conn.execute(
                    settle_statement(
                        Reservation(subscription_id, period, 0, Decimal(0)), tokens, cost
                    )
                )
