"""Reading what the gateway published to a Kafka topic."""

from __future__ import annotations

import json
import time

from aiokafka import AIOKafkaConsumer

from tests.conftest import service_url


async def topic_ids(topic: str, expected: int) -> set[str]:
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=service_url("MARKETPLACE_KAFKA_BOOTSTRAP_SERVERS"),
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        group_id=None,
    )
    await consumer.start()
    ids: set[str] = set()
    try:
        deadline = time.monotonic() + 30
        while len(ids) < expected and time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=500)
            for messages in batches.values():
                for message in messages:
                    ids.add(json.loads(message.value)["id"])
    finally:
        await consumer.stop()
    return ids
