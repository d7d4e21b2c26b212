"""Keep the garbage collector's pauses off the event loop's hot path.

CPython's collector stops the event loop while it walks the objects of the generations it
collects. A gateway with 1,000 open subscriptions holds ≈ 700,000 tracked objects (≈ 500 per
WebSocket subscriber: connection, protocol, tasks, queues, GraphQL operation), and a pass
over them took 0.3 to 1 s on the benchmark machine: every delivery, mutation and relay turn
in flight waited for it. Those passes were the governance events' p99 outliers (a full
collection, or the first generation-1 collection after the subscribers connected).

* Objects that have lived a while are frozen (``gc.freeze()``, which costs O(1)): moved to
  the permanent generation, which automatic collections never walk. Long-lived connections
  are therefore walked at most once or twice, soon after they open. Frozen objects are still
  freed by reference counting as usual; only *cyclic* garbage among them waits.
* Each freeze first collects the young generations (``gc.collect(1)``; frozen objects are
  not walked, so it costs what the last second allocated). ``gc.freeze()`` moves every
  tracked object, dead or alive: without that collection, the cyclic garbage of every
  request finished since the last young collection was frozen too and kept until the
  periodic full collection (measured under HTTP load: ≈ 30,000 objects per second).
  What still gets frozen and dies later is what was alive at the tick (requests in flight).
* That waiting garbage is reclaimed by a full collection every ``full_collect_seconds``
  (unfreeze, collect, freeze): one pause per interval, instead of one per few hundred events.
* A larger generation-0 threshold: an event's fan-out creates thousands of short-lived
  objects, and with the default (700) collections ran in the middle of it, promoting objects
  that die a moment later. The cost is a young generation of up to that many objects.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import time

GEN0_THRESHOLD = 50_000
FREEZE_SECONDS = 1.0
FULL_COLLECT_SECONDS = 600.0


class GcMaintenance:
    def __init__(
        self,
        *,
        freeze_seconds: float = FREEZE_SECONDS,
        full_collect_seconds: float = FULL_COLLECT_SECONDS,
    ) -> None:
        self.freeze_seconds = freeze_seconds
        self.full_collect_seconds = full_collect_seconds
        self._task: asyncio.Task[None] | None = None
        self._threshold = gc.get_threshold()

    def start(self) -> None:
        gen0, gen1, gen2 = self._threshold
        gc.set_threshold(max(gen0, GEN0_THRESHOLD), gen1, gen2)
        self.full_collect()  # what startup built lives as long as the process
        self._task = asyncio.create_task(self._run(), name="gc-maintenance")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        # Hand everything back to the collector: nothing stays frozen after the app stops.
        gc.unfreeze()
        gc.set_threshold(*self._threshold)

    @staticmethod
    def full_collect() -> None:
        gc.unfreeze()
        gc.collect()
        gc.freeze()

    @staticmethod
    def freeze_survivors() -> None:
        gc.collect(1)  # young cyclic garbage is freed now, not frozen with the survivors
        gc.freeze()

    async def _run(self) -> None:
        last_full = time.monotonic()
        while True:
            await asyncio.sleep(self.freeze_seconds)
            if time.monotonic() - last_full >= self.full_collect_seconds:
                self.full_collect()
                last_full = time.monotonic()
            else:
                self.freeze_survivors()
