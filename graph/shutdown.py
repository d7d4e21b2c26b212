"""Bounded shutdown steps.

A process stops its background work and closes its clients one step after another (the
search indexer, the usage writer and relay, the event bus, the database pools). Each step
normally takes milliseconds, but one that waits on a dependency that stopped answering (a
Kafka client mid-reconnect, a pool connection never returned) would keep the process from
exiting, and a deployment's rolling restart or a test run waiting with it. So each step gets
a time limit: past it, the step is cancelled, left behind and logged, and shutdown goes on.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

log = logging.getLogger(__name__)


async def stop_within(seconds: float, name: str, step: Coroutine[Any, Any, None]) -> None:
    """Run one shutdown step for at most ``seconds``; its own error, if any, is raised."""
    task = asyncio.ensure_future(step)
    # asyncio.wait, not wait_for: wait_for waits for the cancelled step to finish, which a
    # step that ignores cancellation never does.
    done, _ = await asyncio.wait({task}, timeout=seconds)
    if not done:
        task.cancel()
        log.warning("shutdown: %s did not finish within %.0f s; left behind", name, seconds)
        return
    await task
