"""Keep the objects start-up built out of the garbage collector's scans.

A started gateway process tracks ≈ 210,000 container objects (Strawberry and graphql-core
schemas, SQLAlchemy mappers and compiled-statement caches, imported modules) that live as long
as the process. CPython's cyclic collector walks all of them on every generation-2 collection,
and a GraphQL request allocates enough short-lived containers (execution results, ORM rows,
futures) to trigger those collections steadily: under load they were about a quarter of a
worker's CPU on the cross-subgraph query (docs/performance.md, "Third pass").

``gc.freeze()`` moves every object tracked at that moment to the permanent generation, which
automatic collections never walk (CPython documents it for pre-fork servers, to keep the
collector off the state built before forking; the same property is what counts here).
Frozen objects are still freed by reference counting; only cyclic garbage among them would
wait, and start-up's objects are alive until shutdown, which unfreezes them. Freezing costs
O(1): no collection runs first, so the little cyclic garbage start-up left behind is simply
kept until shutdown.

This is the start-up half of ``graph/gc_tuning.py``, which (opt-in, for processes holding many
subscribers) also keeps freezing what lives long after start-up.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def startup_heap_frozen() -> Iterator[None]:
    """Freeze what exists now for the duration of the block; unfreeze on the way out."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()  # hand everything back: nothing stays frozen after the app stops
