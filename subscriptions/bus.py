"""The event bus interface: every replica's handler receives every published event.

Implementations: ``InProcessBus`` (embedded default, one process), ``RedisBus`` (pub/sub
channel) and ``KafkaBus`` (topic). Delivery is at-least-once from the relay's side and in
publish order; the fan-out drops repeats by id.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence

from subscriptions.events import GovernanceEventMessage

GOVERNANCE_TOPIC = "marketplace.governance.v1"

EventHandler = Callable[[GovernanceEventMessage], None]
"""Called on the event loop for each received event; must not block."""


class EventBus(ABC):
    """Publish governance events to every replica; deliver received ones to ``handler``."""

    name: str

    @abstractmethod
    async def start(self, handler: EventHandler) -> None:
        """Connect and begin delivering; returns once events published from now on arrive."""

    @abstractmethod
    async def publish(self, events: Sequence[GovernanceEventMessage]) -> None:
        """Publish in order; returns once the backend has accepted every event."""

    @abstractmethod
    async def close(self) -> None:
        """Stop delivering and release connections; safe to call more than once."""
