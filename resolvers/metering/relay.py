"""The Kafka relay: publishes the usage outbox to ``marketplace.usage.v1``, keyed by service.

Rows are deleted only after the broker acknowledged them (acks=all), so a Kafka outage only
grows the outbox; the relay retries with backoff and catches up when the broker returns.
Delivery is at-least-once: consumers deduplicate on the event id (the request id). On
PostgreSQL, ``FOR UPDATE SKIP LOCKED`` lets several replicas relay without sending a row twice.
"""

from __future__ import annotations

import asyncio
import json
import logging

from aiokafka import AIOKafkaProducer
from opentelemetry import trace
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from graph.telemetry.metrics import observe_outbox
from persistence.models import UsageOutbox

log = logging.getLogger(__name__)
tracer = trace.get_tracer(__name__)
MAX_BACKOFF_SECONDS = 10.0
OUTBOX = "usage"


class UsageRelay:
    def __init__(
        self,
        engine: AsyncEngine,
        *,
        bootstrap_servers: str,
        topic: str,
        interval: float,
        batch_size: int = 500,
    ) -> None:
        self._engine = engine
        self._servers = bootstrap_servers
        self._topic = topic
        self._interval = interval
        self._batch_size = batch_size
        self._producer: AIOKafkaProducer | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self.published = 0

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="usage-relay")

    async def stop(self, grace_seconds: float = 5.0) -> None:
        """One last pass, bounded: whatever remains stays in the outbox for the next start."""
        self._stopping.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(self._task, grace_seconds)
            except TimeoutError:
                log.warning("usage relay: stopped with events left in the outbox")
        await self._close_producer()

    async def _run(self) -> None:
        backoff = 0.2
        while True:
            try:
                sent = await self.relay_once()
                backoff = 0.2
            except Exception as exc:
                log.warning("usage relay: publish failed (%s); retrying in %.1fs", exc, backoff)
                await self._close_producer()
                await self.observe()  # a broker outage shows as a growing lag
                if self._stopping.is_set():
                    return
                await self._sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
                continue
            await self.observe()
            if self._stopping.is_set() and sent == 0:
                return
            if sent < self._batch_size:
                await self._sleep(self._interval)

    async def _sleep(self, seconds: float) -> None:
        try:
            await asyncio.wait_for(self._stopping.wait(), seconds)
        except TimeoutError:
            pass

    async def relay_once(self) -> int:
        async with self._engine.begin() as conn:
            rows = (
                await conn.execute(
                    select(UsageOutbox.id, UsageOutbox.service_id, UsageOutbox.payload)
                    .order_by(UsageOutbox.created_at)
                    .limit(self._batch_size)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            if not rows:
                return 0
            # One span per published batch: the aiokafka instrumentation's per-message
            # "send" spans (tracing on) nest under it instead of each being a lone trace.
            with tracer.start_as_current_span(
                f"{self._topic} publish", kind=trace.SpanKind.PRODUCER
            ) as span:
                span.set_attribute("messaging.system", "kafka")
                span.set_attribute("messaging.destination.name", self._topic)
                span.set_attribute("messaging.batch.message_count", len(rows))
                producer = await self._producer_started()
                futures = [
                    await producer.send(
                        self._topic,
                        key=service_id.encode(),
                        value=json.dumps(payload, separators=(",", ":")).encode(),
                    )
                    for _, service_id, payload in rows
                ]
                await asyncio.gather(*futures)
            await conn.execute(delete(UsageOutbox).where(UsageOutbox.id.in_([r[0] for r in rows])))
        self.published += len(rows)
        return len(rows)

    async def observe(self) -> None:
        """Set the outbox gauges (rows waiting, age of the oldest); one aggregate query."""
        try:
            async with self._engine.connect() as conn:
                pending, oldest = (
                    await conn.execute(
                        select(func.count(), func.min(UsageOutbox.created_at)).select_from(
                            UsageOutbox
                        )
                    )
                ).one()
        except Exception:
            log.debug("usage relay: outbox not measured", exc_info=True)
            return
        observe_outbox(OUTBOX, pending, oldest)

    async def _producer_started(self) -> AIOKafkaProducer:
        if self._producer is None:
            producer = AIOKafkaProducer(
                bootstrap_servers=self._servers,
                acks="all",
                request_timeout_ms=5000,
                linger_ms=5,
            )
            try:
                await producer.start()
            except Exception:
                await producer.stop()
                raise
            self._producer = producer
        return self._producer

    async def _close_producer(self) -> None:
        producer, self._producer = self._producer, None
        if producer is not None:
            try:
                await producer.stop()
            except Exception:
                log.debug("usage relay: error while closing the producer", exc_info=True)
