"""The governance event stream of one gateway process: bus + relay + fan-out + replay.

``events(filter, since)`` is what a subscription iterates. With ``since`` it registers for
live events first, then pages through the stored events after ``since``, then continues
with the live queue, dropping any id it already sent: the replay query runs after the
registration, and event ids commit in id order (the governance write lock), so every event
is either in the replay or arrives live — no gap — and the id check removes the overlap.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from graph.settings import Settings
from persistence.database import create_engine, create_session_factory
from subscriptions.access import EventFilter
from subscriptions.bus import EventBus
from subscriptions.events import GovernanceEventMessage
from subscriptions.factory import create_bus
from subscriptions.hub import EventHub, HubClosed
from subscriptions.relay import OutboxRelay
from subscriptions.store import events_after

REPLAY_PAGE_SIZE = 500
RECONNECT_INITIAL_SECONDS = 1.0
RECONNECT_MAX_SECONDS = 30.0

logger = logging.getLogger(__name__)


@dataclass
class GovernanceStream:
    bus: EventBus
    hub: EventHub
    relay: OutboxRelay
    session_factory: async_sessionmaker[AsyncSession]
    relay_engine: AsyncEngine
    started: bool = False
    _connector: asyncio.Task[None] | None = field(default=None, repr=False)

    @classmethod
    def create(
        cls,
        settings: Settings,
        engine: AsyncEngine,
        session_factory: async_sessionmaker[AsyncSession],
        *,
        bus: EventBus | None = None,
    ) -> GovernanceStream:
        bus = bus or create_bus(settings)
        # The relay polls on an engine of its own: its statements stay out of the request
        # engine's pool and statement counts.
        relay_engine = create_engine(settings.effective_database_url)
        relay = OutboxRelay(
            engine,
            create_session_factory(relay_engine),
            bus,
            poll_interval=settings.governance_relay_interval_seconds,
            batch_size=settings.governance_relay_batch_size,
        )
        hub = EventHub(queue_size=settings.subscription_queue_size)
        return cls(
            bus=bus,
            hub=hub,
            relay=relay,
            session_factory=session_factory,
            relay_engine=relay_engine,
        )

    async def start(self) -> None:
        """Connect the bus and start relaying. An unreachable bus does not stop the gateway:
        events wait in the outbox while a background task keeps reconnecting, and readiness
        reports the backend down meanwhile."""
        try:
            await self._connect()
        except Exception as exc:  # any connection failure of any bus backend
            logger.warning("governance event bus unavailable (%s); retrying in background", exc)
            self._connector = asyncio.create_task(self._reconnect())
        self.started = True

    async def _connect(self) -> None:
        try:
            await self.bus.start(self.hub.dispatch)
        except BaseException:
            await self.bus.close()
            raise
        self.relay.start()

    async def _reconnect(self) -> None:
        delay = RECONNECT_INITIAL_SECONDS
        while True:
            # The relay is not running yet, so the outbox lag is measured here: the backlog
            # that builds up during the outage stays visible.
            await self.relay.observe()
            await asyncio.sleep(delay)
            try:
                await self._connect()
            except Exception as exc:
                logger.warning("governance event bus still unavailable: %s", exc)
                delay = min(delay * 2, RECONNECT_MAX_SECONDS)
            else:
                logger.info("governance event bus connected")
                return

    async def close(self) -> None:
        """Complete every open subscription, then stop relaying and disconnect the bus."""
        if self._connector is not None:
            self._connector.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._connector
            self._connector = None
        self.hub.close()
        await self.relay.stop()
        await self.bus.close()
        await self.relay_engine.dispose()
        self.started = False

    async def events(
        self, event_filter: EventFilter, *, since: int | None = None
    ) -> AsyncGenerator[GovernanceEventMessage, None]:
        """Stored events after ``since`` (if given), then live ones; ids strictly increase.

        Ends when the process shuts down; raises ``SubscriberOverflow`` if the consumer
        falls too far behind.
        """
        subscriber = self.hub.add(event_filter)
        try:
            last = since if since is not None else 0
            if since is not None:
                while True:
                    async with self.session_factory() as session:
                        page = await events_after(
                            session, last, event_filter, limit=REPLAY_PAGE_SIZE
                        )
                    for stored in page:
                        yield stored
                        last = stored.id
                    if len(page) < REPLAY_PAGE_SIZE:
                        break
            while True:
                try:
                    live = await subscriber.next()
                except HubClosed:
                    return
                if live.id > last:
                    yield live
                    last = live.id
        finally:
            self.hub.remove(subscriber)
