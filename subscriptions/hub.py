"""Per-process fan-out: each subscriber has its own bounded queue, fed without waiting.

``dispatch`` runs on the bus listener and never awaits, so a slow subscriber cannot delay
the others: when its queue is full it alone is cut off (``SubscriberOverflow``) and may
resume with ``since``.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from subscriptions.access import EventFilter
from subscriptions.events import GovernanceEventMessage


class SubscriberOverflow(Exception):
    """The subscriber fell ``capacity`` events behind and was dropped."""

    def __init__(self, capacity: int) -> None:
        super().__init__(
            f"The subscriber fell more than {capacity} events behind and was disconnected; "
            "resubscribe with `since` set to the last received id."
        )
        self.capacity = capacity


class HubClosed(Exception):
    """The process is shutting down: open streams end normally."""


_END = object()


@dataclass(eq=False)
class Subscriber:
    filter: EventFilter
    capacity: int
    queue: asyncio.Queue[object] = field(init=False)
    overflowed: bool = False

    def __post_init__(self) -> None:
        # One slot more than the capacity, kept free for the end-of-stream marker.
        self.queue = asyncio.Queue(maxsize=self.capacity + 1)

    def offer(self, event: GovernanceEventMessage) -> None:
        if self.overflowed or not self.filter.matches(event):
            return
        if self.queue.qsize() >= self.capacity:
            self.overflowed = True
            self.queue.put_nowait(_END)
            return
        self.queue.put_nowait(event)

    def end(self) -> None:
        if not self.queue.full():
            self.queue.put_nowait(_END)

    async def next(self) -> GovernanceEventMessage:
        """The next live event; raises ``SubscriberOverflow`` or ``HubClosed`` at the end."""
        item = await self.queue.get()
        if item is _END:
            if self.overflowed:
                raise SubscriberOverflow(self.capacity)
            raise HubClosed
        assert isinstance(item, GovernanceEventMessage)
        return item


class EventHub:
    def __init__(self, *, queue_size: int) -> None:
        self.queue_size = queue_size
        self.subscribers: set[Subscriber] = set()
        self.last_id = 0
        self.closed = False

    def dispatch(self, event: GovernanceEventMessage) -> None:
        # Ids are strictly increasing; a repeat (a relay re-publishing after a crash) is dropped.
        if event.id <= self.last_id:
            return
        self.last_id = event.id
        for subscriber in tuple(self.subscribers):
            subscriber.offer(event)
            if subscriber.overflowed:
                self.subscribers.discard(subscriber)

    def add(self, event_filter: EventFilter) -> Subscriber:
        if self.closed:
            raise HubClosed
        subscriber = Subscriber(event_filter, self.queue_size)
        self.subscribers.add(subscriber)
        return subscriber

    def remove(self, subscriber: Subscriber) -> None:
        self.subscribers.discard(subscriber)

    def close(self) -> None:
        """End every open stream (each completes normally)."""
        self.closed = True
        for subscriber in tuple(self.subscribers):
            subscriber.end()
        self.subscribers.clear()
