"""Kafka: one single-partition topic (order is global); every replica reads it on its own.

Each replica consumes without a consumer group (every replica must see every event) from
the end of the topic at start-up; what it missed before is served by replay from the
database, not by Kafka.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from subscriptions.bus import GOVERNANCE_TOPIC, EventBus, EventHandler
from subscriptions.events import GovernanceEventMessage

log = logging.getLogger(__name__)

# Events carry a global order, so the topic has one partition and the key is constant.
PARTITION_KEY = b"governance"


class KafkaBus(EventBus):
    name = "kafka"

    def __init__(self, bootstrap_servers: str, *, topic: str = GOVERNANCE_TOPIC) -> None:
        self.bootstrap_servers = bootstrap_servers
        self.topic = topic
        self._producer: AIOKafkaProducer | None = None
        self._consumer: AIOKafkaConsumer | None = None
        self._listener: asyncio.Task[None] | None = None

    async def _ensure_topic(self) -> None:
        admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap_servers)
        await admin.start()
        try:
            await admin.create_topics(
                [NewTopic(self.topic, num_partitions=1, replication_factor=1)]
            )
        except TopicAlreadyExistsError:
            pass
        finally:
            await admin.close()

    async def start(self, handler: EventHandler) -> None:
        await self._ensure_topic()
        producer = AIOKafkaProducer(
            bootstrap_servers=self.bootstrap_servers, acks="all", linger_ms=0
        )
        await producer.start()
        self._producer = producer
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap_servers,
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="latest",
            fetch_max_wait_ms=50,
        )
        await consumer.start()
        self._consumer = consumer
        partitions = [TopicPartition(self.topic, 0)]
        consumer.assign(partitions)
        await consumer.seek_to_end(*partitions)
        # Resolve the end offset now, so that everything published after start() is read.
        for partition in partitions:
            await consumer.position(partition)
        self._listener = asyncio.create_task(self._listen(consumer, handler))

    async def _listen(self, consumer: AIOKafkaConsumer, handler: EventHandler) -> None:
        async for record in consumer:
            if record.value is None:
                continue
            try:
                handler(GovernanceEventMessage.from_json(record.value))
            except Exception:  # a bad record must not stop the listener
                log.exception("dropping an unreadable governance event from Kafka")

    async def publish(self, events: Sequence[GovernanceEventMessage]) -> None:
        if not events:
            return
        if self._producer is None:
            raise RuntimeError("KafkaBus.publish before start")
        sent = [
            await self._producer.send(self.topic, event.to_json(), key=PARTITION_KEY)
            for event in events
        ]
        await asyncio.gather(*sent)

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
            self._listener = None
        if self._consumer is not None:
            await self._consumer.stop()
            self._consumer = None
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None
