"""Smoke test for the real Kafka broker (deploy/local/services.sh up kafka).

Round-trips messages through a fresh, uniquely named topic with aiokafka, the
client the app uses.  Fails (never skips) when the broker is not configured.
"""

from __future__ import annotations

import asyncio
import os
import uuid

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

ENV_VAR = "MARKETPLACE_KAFKA_BOOTSTRAP_SERVERS"
TIMEOUT_S = 30


def bootstrap_servers() -> str:
    value = os.environ.get(ENV_VAR, "").strip()
    if not value:
        pytest.fail(
            f"{ENV_VAR} is not set: start Kafka with `bash deploy/local/services.sh up kafka` "
            "and load deploy/local/services.env (set -a; . deploy/local/services.env; set +a)",
            pytrace=False,
        )
    return value


async def test_produce_consume_round_trip() -> None:
    servers = bootstrap_servers()
    topic = f"infra-smoke-{uuid.uuid4().hex}"
    sent = [(f"key-{i}".encode(), f"value-{i}".encode()) for i in range(3)]

    admin = AIOKafkaAdminClient(bootstrap_servers=servers, request_timeout_ms=TIMEOUT_S * 1000)
    await admin.start()
    try:
        # One partition, so the consumer must see the messages in send order.
        await admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)])

        producer = AIOKafkaProducer(bootstrap_servers=servers, acks="all")
        await producer.start()
        try:
            for key, value in sent:
                await producer.send_and_wait(topic, value, key=key, headers=[("smoke", b"1")])
        finally:
            await producer.stop()

        consumer = AIOKafkaConsumer(
            topic,
            bootstrap_servers=servers,
            group_id=f"{topic}-group",
            auto_offset_reset="earliest",
            enable_auto_commit=False,
        )
        await consumer.start()
        try:
            received = [await asyncio.wait_for(consumer.getone(), timeout=TIMEOUT_S) for _ in sent]
            # Committing exercises the group coordinator (offsets topic).
            await consumer.commit()
        finally:
            await consumer.stop()
    finally:
        try:
            await admin.delete_topics([topic])
        finally:
            await admin.close()

    assert [(m.key, m.value) for m in received] == sent
    assert all(m.topic == topic for m in received)
    assert [m.offset for m in received] == [0, 1, 2]
    assert received[0].headers == (("smoke", b"1"),)
