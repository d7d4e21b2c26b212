"""The gateway's garbage-collector maintenance (graph/gc_tuning.py)."""

from __future__ import annotations

import asyncio
import gc
import weakref

from graph.gc_tuning import GEN0_THRESHOLD, GcMaintenance


class Node:
    def __init__(self) -> None:
        self.me = self  # a reference cycle: only the collector can free it


async def test_long_lived_objects_are_frozen_and_handed_back_on_stop() -> None:
    before = gc.get_threshold()
    maintenance = GcMaintenance(freeze_seconds=0.01, full_collect_seconds=3600)
    maintenance.start()
    try:
        assert gc.get_threshold()[0] >= GEN0_THRESHOLD
        assert gc.get_freeze_count() > 0  # startup's objects
        kept = [Node() for _ in range(100)]
        frozen = gc.get_freeze_count()
        await asyncio.sleep(0.1)
        assert gc.get_freeze_count() >= frozen + len(kept)
    finally:
        await maintenance.stop()
    assert gc.get_freeze_count() == 0
    assert gc.get_threshold() == before


async def test_frozen_cyclic_garbage_is_reclaimed_by_the_periodic_full_collection() -> None:
    maintenance = GcMaintenance(freeze_seconds=0.01, full_collect_seconds=0.3)
    maintenance.start()
    try:
        node = Node()
        freed = asyncio.Event()
        weakref.finalize(node, freed.set)
        await asyncio.sleep(0.05)  # frozen now: automatic collections no longer see it
        del node
        gc.collect()
        assert not freed.is_set()  # frozen: even an explicit collection skips it
        async with asyncio.timeout(5):
            await freed.wait()
    finally:
        await maintenance.stop()


async def test_cyclic_garbage_that_died_before_a_freeze_is_reclaimed_not_frozen() -> None:
    maintenance = GcMaintenance(freeze_seconds=0.01, full_collect_seconds=3600)
    maintenance.start()
    try:
        node = Node()
        freed = asyncio.Event()
        weakref.finalize(node, freed.set)
        del node  # cyclic garbage in the young generation, not yet collected
        # The next freeze must collect it: frozen, it would wait for the hourly collection.
        async with asyncio.timeout(5):
            await freed.wait()
    finally:
        await maintenance.stop()
