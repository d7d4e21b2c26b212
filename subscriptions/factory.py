"""Pick the bus the settings ask for (``auto``: Kafka, else Redis, else in-process)."""

from __future__ import annotations

from graph.settings import Settings
from subscriptions.bus import EventBus
from subscriptions.kafka_bus import KafkaBus
from subscriptions.memory_bus import InProcessBus
from subscriptions.redis_bus import RedisBus


def create_bus(settings: Settings) -> EventBus:
    choice = settings.governance_bus
    if choice == "auto":
        if settings.kafka_bootstrap_servers:
            choice = "kafka"
        elif settings.redis_url:
            choice = "redis"
        else:
            choice = "in-process"
    if choice == "kafka":
        if not settings.kafka_bootstrap_servers:
            raise ValueError(
                "MARKETPLACE_GOVERNANCE_BUS=kafka needs MARKETPLACE_KAFKA_BOOTSTRAP_SERVERS"
            )
        return KafkaBus(settings.kafka_bootstrap_servers, topic=settings.governance_topic)
    if choice == "redis":
        if not settings.redis_url:
            raise ValueError("MARKETPLACE_GOVERNANCE_BUS=redis needs MARKETPLACE_REDIS_URL")
        return RedisBus(settings.redis_url, channel=settings.governance_topic)
    return InProcessBus()
