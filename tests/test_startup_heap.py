"""Start-up's objects stay out of the collector's scans while the app runs."""

from __future__ import annotations

import gc
import weakref

import httpx

from graph.app import create_app
from graph.settings import Settings
from graph.startup_heap import startup_heap_frozen


class Node:
    def __init__(self) -> None:
        self.me = self  # a reference cycle: only the collector can free it


def test_objects_alive_at_start_are_frozen_and_handed_back_at_the_end() -> None:
    kept = Node()
    with startup_heap_frozen():
        assert gc.get_freeze_count() > 0
        made_later = Node()
        freed = []
        weakref.finalize(made_later, freed.append, True)
        del made_later
        gc.collect()  # what the app allocates after start-up is collected as usual
        assert freed == [True]
    assert gc.get_freeze_count() == 0
    assert kept.me is kept


async def test_the_app_freezes_start_up_objects_for_its_lifetime(settings: Settings) -> None:
    # The default (whatever the environment says): the periodic maintenance is off.
    app = create_app(settings.model_copy(update={"gc_tuning": False}))
    async with app.router.lifespan_context(app):
        assert gc.get_freeze_count() > 0
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as http:
            answer = await http.post("/graphql", json={"query": "{ __typename }"})
        assert answer.json()["data"] == {"__typename": "Query"}
    assert gc.get_freeze_count() == 0


async def test_with_gc_tuning_the_periodic_maintenance_owns_the_freezing(
    settings: Settings,
) -> None:
    tuned = settings.model_copy(update={"gc_tuning": True})
    app = create_app(tuned)
    async with app.router.lifespan_context(app):
        assert gc.get_freeze_count() > 0
    assert gc.get_freeze_count() == 0
