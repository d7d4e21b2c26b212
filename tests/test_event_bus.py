"""The event bus contract, run against every implementation, plus the fan-out hub.

In-process, Redis and Kafka must each: deliver what is published, in order, to the handler
of every instance sharing the backend; deliver nothing once closed; close twice safely.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime

import pytest

from subscriptions.access import EventFilter
from subscriptions.bus import EventBus
from subscriptions.events import GovernanceEventMessage
from subscriptions.hub import EventHub, HubClosed, SubscriberOverflow
from subscriptions.kafka_bus import KafkaBus
from subscriptions.memory_bus import InProcessBus
from subscriptions.redis_bus import RedisBus
from tests.conftest import service_url

BUSES = ("in-process", "redis", "kafka")
DISTRIBUTED = ("redis", "kafka")


def _bus_factory(kind: str) -> Callable[[], EventBus]:
    """Instances made by one factory share a backend channel, like gateway replicas."""
    name = f"test.governance.{uuid.uuid4().hex}"
    if kind == "redis":
        url = service_url("MARKETPLACE_REDIS_URL")
        return lambda: RedisBus(url, channel=name)
    if kind == "kafka":
        servers = service_url("MARKETPLACE_KAFKA_BOOTSTRAP_SERVERS")
        return lambda: KafkaBus(servers, topic=name)
    shared = InProcessBus()
    return lambda: shared


def event(id: int, type: str = "SERVICE_SUSPENDED", **payload: object) -> GovernanceEventMessage:
    return GovernanceEventMessage(
        id=id,
        type=type,
        occurred_at=datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC),
        service_id="svc-1",
        actor="admin:1",
        payload=dict(payload),
        owner_subject="provider:a",
    )


class Received:
    def __init__(self) -> None:
        self.events: list[GovernanceEventMessage] = []
        self.changed = asyncio.Event()

    def __call__(self, message: GovernanceEventMessage) -> None:
        self.events.append(message)
        self.changed.set()

    async def wait_for(self, count: int, within: float = 10.0) -> list[GovernanceEventMessage]:
        async with asyncio.timeout(within):
            while len(self.events) < count:
                self.changed.clear()
                await self.changed.wait()
        return self.events


@pytest.fixture(params=BUSES)
async def make_bus(request: pytest.FixtureRequest) -> AsyncIterator[Callable[[], EventBus]]:
    factory = _bus_factory(str(request.param))
    made: list[EventBus] = []

    def make() -> EventBus:
        bus = factory()
        made.append(bus)
        return bus

    yield make
    for bus in made:
        await bus.close()


async def test_published_events_arrive_in_order_and_intact(
    make_bus: Callable[[], EventBus],
) -> None:
    bus = make_bus()
    received = Received()
    await bus.start(received)
    sent = [event(i, n=i, nested={"a": [1, "x"]}) for i in range(1, 21)]
    await bus.publish(sent[:10])
    await bus.publish(sent[10:])
    assert await received.wait_for(20) == sent


async def test_nothing_arrives_after_close_and_close_is_idempotent(
    make_bus: Callable[[], EventBus],
) -> None:
    publisher, listener = make_bus(), make_bus()
    received = Received()
    await listener.start(received)
    await publisher.start(Received())
    await listener.close()
    await listener.close()
    await publisher.publish([event(1)])
    await asyncio.sleep(0.3)
    assert received.events == []


@pytest.mark.parametrize("kind", DISTRIBUTED)
async def test_every_instance_receives_every_event(kind: str) -> None:
    factory = _bus_factory(kind)
    replicas = [factory(), factory(), factory()]
    inboxes = [Received() for _ in replicas]
    try:
        for bus, inbox in zip(replicas, inboxes, strict=True):
            await bus.start(inbox)
        await replicas[0].publish([event(1), event(2)])
        await replicas[2].publish([event(3)])
        for inbox in inboxes:
            assert [e.id for e in await inbox.wait_for(3)] == [1, 2, 3]
    finally:
        for bus in replicas:
            await bus.close()


def test_wire_format_round_trips() -> None:
    original = event(7, reason="r", price="0.10")
    assert GovernanceEventMessage.from_json(original.to_json()) == original


# --- the fan-out hub -----------------------------------------------------------------------


async def test_hub_drops_repeated_and_older_ids() -> None:
    hub = EventHub(queue_size=10)
    subscriber = hub.add(EventFilter())
    for id in (1, 2, 2, 1, 3):
        hub.dispatch(event(id))
    assert [(await subscriber.next()).id for _ in range(3)] == [1, 2, 3]
    assert subscriber.queue.empty()


async def test_a_slow_subscriber_alone_is_cut_off() -> None:
    hub = EventHub(queue_size=3)
    slow = hub.add(EventFilter())
    fast = hub.add(EventFilter())
    for id in range(1, 6):
        hub.dispatch(event(id))
        assert (await fast.next()).id == id
    assert [(await slow.next()).id for _ in range(3)] == [1, 2, 3]
    with pytest.raises(SubscriberOverflow, match="resubscribe with `since`"):
        await slow.next()
    assert slow not in hub.subscribers and fast in hub.subscribers
    hub.dispatch(event(6))
    assert (await fast.next()).id == 6


async def test_hub_applies_each_subscribers_filter() -> None:
    hub = EventHub(queue_size=10)
    mine = hub.add(EventFilter(owner_subject="provider:a"))
    theirs = hub.add(EventFilter(owner_subject="provider:b"))
    reinstated = hub.add(EventFilter(types=frozenset({"SERVICE_REINSTATED"})))
    hub.dispatch(event(1))
    hub.dispatch(event(2, "SERVICE_REINSTATED"))
    assert [(await mine.next()).id for _ in range(2)] == [1, 2]
    assert theirs.queue.empty()
    assert (await reinstated.next()).id == 2 and reinstated.queue.empty()


async def test_closing_the_hub_ends_every_stream() -> None:
    hub = EventHub(queue_size=10)
    subscriber = hub.add(EventFilter())
    hub.close()
    with pytest.raises(HubClosed):
        await subscriber.next()
    with pytest.raises(HubClosed):
        hub.add(EventFilter())


def test_environment_names_the_services() -> None:
    # The shared suite needs the real backends; a missing one fails, never skips.
    assert os.environ.get("MARKETPLACE_REDIS_URL")
    assert os.environ.get("MARKETPLACE_KAFKA_BOOTSTRAP_SERVERS")
