"""The embedded bus: one process, so publishing is handing the event to the handler."""

from __future__ import annotations

from collections.abc import Sequence

from subscriptions.bus import EventBus, EventHandler
from subscriptions.events import GovernanceEventMessage


class InProcessBus(EventBus):
    name = "in-process"

    def __init__(self) -> None:
        self._handler: EventHandler | None = None

    async def start(self, handler: EventHandler) -> None:
        self._handler = handler

    async def publish(self, events: Sequence[GovernanceEventMessage]) -> None:
        handler = self._handler
        if handler is None:
            return
        for event in events:
            handler(event)

    async def close(self) -> None:
        self._handler = None
