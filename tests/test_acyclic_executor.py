"""A finished execution is freed by reference counting: nothing of it waits for the cyclic
collector, whose passes would otherwise land on some later request's latency."""

from __future__ import annotations

import asyncio
import gc
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
import strawberry
from strawberry.dataloader import DataLoader

from graph.acyclic_executor import AcyclicExecutor
from graph.context import GatewayContext
from graph.fanout import FanOutExecutor
from graph.look_ahead import LookAheadExecutor
from tests.conftest import gql


class _Context(dict[str, Any]):
    """A GraphQL context that can be weakly referenced."""


@strawberry.type
class Query:
    @strawberry.field
    async def greeting(self, info: strawberry.Info) -> str:
        await asyncio.sleep(0)
        return f"hello {info.context['name']}"


@contextmanager
def _collector_off() -> Iterator[None]:
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


@pytest.mark.parametrize("executor", [AcyclicExecutor, FanOutExecutor, LookAheadExecutor])
async def test_an_execution_and_its_context_are_freed_without_the_collector(
    executor: type[AcyclicExecutor],
) -> None:
    schema = strawberry.Schema(query=Query, execution_context_class=executor)
    with _collector_off():
        context = _Context(name="world")
        result = await schema.execute("{ greeting }", context_value=context)
        assert result.data == {"greeting": "hello world"}
        freed = weakref.ref(context)
        del context, result
        assert freed() is None


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_a_gateway_request_leaves_no_cyclic_garbage(
    seeded_client: httpx.AsyncClient,
) -> None:
    query = (
        "{ services(first: 5) { edges { node { slug provider { name } compliance { score } } } } }"
    )
    await gql(seeded_client, query)  # first use: caches, pools and compiled statements fill
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        body = await gql(seeded_client, query)
        gc.collect()
        leftovers = {type(o).__name__ for o in gc.garbage}
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
    assert "errors" not in body and len(body["data"]["services"]["edges"]) == 5
    # What one request builds: its executor, context and DataLoaders (and all they reach).
    request_types = {AcyclicExecutor, LookAheadExecutor, GatewayContext, DataLoader}
    assert leftovers.isdisjoint(t.__name__ for t in request_types)
