"""The outbox relay: publish committed ``governance_events`` rows in id order, mark them.

Several replicas may run a relay; only one publishes at a time (``relay_turn``), so the bus
carries events in id order (a subscriber drops ids at or below the last it delivered, so an
out-of-order publish would be a gap). ``SELECT … FOR UPDATE SKIP LOCKED`` was not used: it
lets relays publish disjoint batches concurrently, which breaks the order.

A turn reads the batch in a read-only transaction, publishes it, then marks the rows in one
autocommit statement. No database write lock is held while publishing: with the in-process
bus, publishing hands the events to the fan-out, and the event loop writes to every
subscriber before the relay's next statement runs; a SQLite write lock held across that
stalled mutations and the search indexer (and, in turn, the relay waiting behind them).
Publishing is at-least-once (a crash between publish and mark re-publishes the batch); the
fan-out drops repeats by id.

A commit that wrote events in this process wakes the relay at once; events committed by
other processes are picked up by their own relay, or by the poll.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from opentelemetry import trace
from sqlalchemy import event, func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from graph.telemetry.metrics import observe_outbox
from persistence.models import GovernanceEvent
from persistence.models.base import utcnow
from subscriptions.bus import EventBus
from subscriptions.events import GovernanceEventMessage
from subscriptions.relay_turn import RelayTurn
from subscriptions.store import unpublished

log = logging.getLogger(__name__)
tracer = trace.get_tracer(__name__)
OUTBOX = "governance"

_WROTE_EVENTS = "governance_events_written"


class OutboxRelay:
    def __init__(
        self,
        engine: AsyncEngine,
        session_factory: async_sessionmaker[AsyncSession],
        bus: EventBus,
        *,
        poll_interval: float,
        batch_size: int,
        busy_retry: float = 0.01,
    ) -> None:
        self.engine = engine
        self.session_factory = session_factory
        self.bus = bus
        self.poll_interval = poll_interval
        self.batch_size = batch_size
        self.busy_retry = busy_retry
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._observed_at = float("-inf")
        # The engine the relay's sessions use (its own pool, see GovernanceStream).
        self._relay_engine: AsyncEngine = session_factory.kw.get("bind") or engine
        self._turn = RelayTurn(self._relay_engine)

    # --- wake-ups on local commits ------------------------------------------------------

    def _after_flush(self, session: Session, _context: Any) -> None:
        if any(isinstance(obj, GovernanceEvent) for obj in session.new):
            session.info[_WROTE_EVENTS] = True

    def _after_commit(self, session: Session) -> None:
        if session.info.pop(_WROTE_EVENTS, False) and self._bound_here(session):
            # Runs on the event loop's thread (inside SQLAlchemy's greenlet bridge).
            self._wake.set()

    def _bound_here(self, session: Session) -> bool:
        bind = session.bind
        return bind is None or getattr(bind, "engine", bind) is self.engine.sync_engine

    def wake(self) -> None:
        self._wake.set()

    # --- lifecycle ----------------------------------------------------------------------

    def start(self) -> None:
        event.listen(Session, "after_flush", self._after_flush)
        event.listen(Session, "after_commit", self._after_commit)
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is None:
            return
        event.remove(Session, "after_flush", self._after_flush)
        event.remove(Session, "after_commit", self._after_commit)
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None
        self._turn.close()

    async def _run(self) -> None:
        while True:
            try:
                published = await self.publish_batch()
            except Exception:
                log.exception("governance outbox relay failed; retrying")
                published = 0
            # At most once per poll interval: a replica waiting for its turn loops fast.
            if time.monotonic() - self._observed_at >= self.poll_interval:
                await self.observe()
            if published is None:
                await asyncio.sleep(self.busy_retry)
            elif published == 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.poll_interval)
                self._wake.clear()

    # --- one batch ----------------------------------------------------------------------

    async def publish_batch(self) -> int | None:
        """Publish the next batch; the count published, or None if another relay is busy."""
        async with self._turn.take() as mine:
            if not mine:
                return None
            # A short read transaction of its own: WAL readers never wait for a writer.
            async with self.session_factory() as session:
                events = await unpublished(session, limit=self.batch_size)
            if not events:
                return 0
            # One span per batch; with tracing on, the Kafka instrumentation's per-message
            # "send" spans nest under it.
            with tracer.start_as_current_span(
                "governance outbox publish", kind=trace.SpanKind.PRODUCER
            ) as span:
                span.set_attribute("messaging.system", self.bus.name)
                span.set_attribute("messaging.batch.message_count", len(events))
                await self.bus.publish(events)
            await self._mark_published(events)
        return len(events)

    async def _mark_published(self, events: list[GovernanceEventMessage]) -> None:
        # One autocommit statement: on SQLite the write lock is taken and released inside a
        # single call on the driver's thread, so a busy event loop (the fan-out just
        # scheduled) cannot keep it held between the UPDATE and a separate COMMIT.
        async with self._relay_engine.connect() as conn:
            autocommit = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await autocommit.execute(
                update(GovernanceEvent)
                .where(GovernanceEvent.id.in_([e.id for e in events]))
                .values(published_at=utcnow())
            )

    async def observe(self) -> None:
        """Set the outbox gauges: unpublished rows and the age of the oldest one."""
        self._observed_at = time.monotonic()
        try:
            async with self.session_factory() as session:
                pending, oldest = (
                    await session.execute(
                        select(func.count(), func.min(GovernanceEvent.occurred_at)).where(
                            GovernanceEvent.published_at.is_(None)
                        )
                    )
                ).one()
        except Exception:
            log.debug("governance outbox not measured", exc_info=True)
            return
        observe_outbox(OUTBOX, pending, oldest)
