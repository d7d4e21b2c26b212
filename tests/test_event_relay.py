"""The outbox relay (both databases) and the replay-then-live stream seam."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import select

from graph.runtime import Runtime
from persistence.models import GovernanceEvent
from resolvers.events import GovernanceEventType, emit_event
from subscriptions.access import EventFilter
from subscriptions.bus import EventBus, EventHandler
from subscriptions.events import GovernanceEventMessage
from subscriptions.hub import SubscriberOverflow
from subscriptions.memory_bus import InProcessBus
from subscriptions.relay import OutboxRelay
from subscriptions.stream import GovernanceStream


class RecordingBus(EventBus):
    name = "recording"

    def __init__(self) -> None:
        self.published: list[int] = []
        self.changed = asyncio.Event()

    async def start(self, handler: EventHandler) -> None:
        pass

    async def publish(self, events: Sequence[GovernanceEventMessage]) -> None:
        await asyncio.sleep(0)  # let another relay run in between
        self.published.extend(e.id for e in events)
        self.changed.set()

    async def close(self) -> None:
        pass


async def _emit(runtime: Runtime, count: int, *, rollback: bool = False) -> list[int]:
    ids = []
    async with runtime.session_factory() as session:
        async with session.begin() as tx:
            for i in range(count):
                event = await emit_event(
                    session,
                    type=GovernanceEventType.POLICY_CREATED,
                    actor="admin:1",
                    service_id=None,
                    payload={"n": i},
                )
                ids.append(event.id)
            if rollback:
                await tx.rollback()
    return ids


def _relay(runtime: Runtime, bus: EventBus, batch_size: int = 7) -> OutboxRelay:
    return OutboxRelay(
        runtime.engine, runtime.session_factory, bus, poll_interval=0.05, batch_size=batch_size
    )


async def test_relay_publishes_committed_events_in_order_and_marks_them(
    runtime: Runtime,
) -> None:
    committed = await _emit(runtime, 10)
    await _emit(runtime, 3, rollback=True)
    bus = RecordingBus()
    relay = _relay(runtime, bus)
    while await relay.publish_batch():
        pass
    assert bus.published == committed
    async with runtime.session_factory() as session:
        pending = await session.scalars(
            select(GovernanceEvent.id).where(GovernanceEvent.published_at.is_(None))
        )
        assert list(pending) == []
    assert await relay.publish_batch() == 0


async def test_concurrent_relays_publish_each_event_once_in_order(runtime: Runtime) -> None:
    committed = await _emit(runtime, 60)
    bus = RecordingBus()
    relays = [_relay(runtime, bus, batch_size=5) for _ in range(3)]

    async def drain(relay: OutboxRelay) -> None:
        while True:
            published = await relay.publish_batch()
            if published == 0:
                return
            if published is None:
                await asyncio.sleep(0.005)

    await asyncio.gather(*(drain(r) for r in relays))
    assert bus.published == committed


async def test_a_commit_wakes_the_running_relay(runtime: Runtime) -> None:
    bus = RecordingBus()
    relay = OutboxRelay(
        runtime.engine, runtime.session_factory, bus, poll_interval=30, batch_size=100
    )
    relay.start()
    try:
        await asyncio.sleep(0.1)  # the relay is now waiting for the 30 s poll
        ids = await _emit(runtime, 2)
        async with asyncio.timeout(2):
            await bus.changed.wait()
        assert bus.published == ids
    finally:
        await relay.stop()


async def test_replay_then_live_has_no_gap_and_no_repeat(runtime: Runtime) -> None:
    stream = GovernanceStream.create(
        runtime.settings.model_copy(update={"governance_bus": "in-process"}),
        runtime.engine,
        runtime.session_factory,
        bus=InProcessBus(),
    )
    await stream.start()
    try:
        before = await _emit(runtime, 4)
        events = stream.events(EventFilter(), since=before[0])
        received = [(await anext(events)).id for _ in range(3)]
        after = await _emit(runtime, 3)
        # The relay also publishes the replayed rows live; they must not come again.
        received += [(await anext(events)).id for _ in range(3)]
        assert received == before[1:] + after
        await events.aclose()
    finally:
        await stream.close()


async def test_stream_overflow_is_raised_to_the_slow_reader(runtime: Runtime) -> None:
    stream = GovernanceStream.create(
        runtime.settings.model_copy(update={"subscription_queue_size": 2}),
        runtime.engine,
        runtime.session_factory,
        bus=InProcessBus(),
    )
    events = stream.events(EventFilter())
    first = asyncio.ensure_future(anext(events))
    await asyncio.sleep(0.05)  # the reader has registered and waits for its first event
    assert stream.hub.subscribers
    for id in range(1, 5):
        stream.hub.dispatch(
            GovernanceEventMessage(
                id=id,
                type="POLICY_CREATED",
                occurred_at=datetime.now(UTC),
                service_id=None,
                actor="a",
            )
        )
    assert (await first).id == 1
    assert (await anext(events)).id == 2
    try:
        await anext(events)
    except SubscriberOverflow as overflow:
        assert overflow.capacity == 2
    else:
        raise AssertionError("the slow reader was not cut off")


class WritingBus(RecordingBus):
    """Commits another governance write while the relay is publishing."""

    def __init__(self, runtime: Runtime) -> None:
        super().__init__()
        self.runtime = runtime
        self.written_meanwhile: list[int] = []

    async def publish(self, events: Sequence[GovernanceEventMessage]) -> None:
        if not self.written_meanwhile:
            # On SQLite this waited for the relay's write lock (busy timeout 30 s) when the
            # relay held a write transaction across the publish.
            async with asyncio.timeout(2):
                self.written_meanwhile = await _emit(self.runtime, 1)
        await super().publish(events)


async def test_writers_do_not_wait_for_a_publishing_relay(runtime: Runtime) -> None:
    first = await _emit(runtime, 3)
    bus = WritingBus(runtime)
    relay = _relay(runtime, bus)
    while await relay.publish_batch():
        pass
    # The event committed during the first publish goes out in the next batch, in order.
    assert bus.published == first + bus.written_meanwhile
