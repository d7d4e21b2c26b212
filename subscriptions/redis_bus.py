"""Redis pub/sub: every replica subscribes to one channel; PUBLISH reaches all of them."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence

from redis.asyncio import Redis
from redis.asyncio.client import PubSub

from subscriptions.bus import GOVERNANCE_TOPIC, EventBus, EventHandler
from subscriptions.events import GovernanceEventMessage

log = logging.getLogger(__name__)


class RedisBus(EventBus):
    name = "redis"

    def __init__(self, url: str, *, channel: str = GOVERNANCE_TOPIC) -> None:
        self.channel = channel
        self._redis: Redis = Redis.from_url(url)
        self._pubsub: PubSub | None = None
        self._listener: asyncio.Task[None] | None = None

    async def start(self, handler: EventHandler) -> None:
        pubsub = self._redis.pubsub(ignore_subscribe_messages=False)
        await pubsub.subscribe(self.channel)
        # Wait for the server's confirmation: from then on every PUBLISH reaches us.
        while True:
            message = await pubsub.get_message(timeout=5.0)
            if message is None:
                raise ConnectionError(f"no subscribe confirmation from Redis for {self.channel}")
            if message["type"] == "subscribe":
                break
        self._pubsub = pubsub
        self._listener = asyncio.create_task(self._listen(pubsub, handler))

    async def _listen(self, pubsub: PubSub, handler: EventHandler) -> None:
        async for message in pubsub.listen():
            if message["type"] != "message":
                continue
            try:
                handler(GovernanceEventMessage.from_json(message["data"]))
            except Exception:  # a bad message must not stop the listener
                log.exception("dropping an unreadable governance event from Redis")

    async def publish(self, events: Sequence[GovernanceEventMessage]) -> None:
        if not events:
            return
        async with self._redis.pipeline(transaction=False) as pipe:
            for event in events:
                pipe.publish(self.channel, event.to_json())
            await pipe.execute()

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
            self._listener = None
        if self._pubsub is not None:
            await self._pubsub.aclose()
            self._pubsub = None
        await self._redis.aclose()
