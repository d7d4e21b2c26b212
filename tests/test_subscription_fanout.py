"""Subscription fan-out: one execution per (event, audience, shape), every subscriber served."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator
from contextlib import AsyncExitStack
from typing import Any

import strawberry

from graph import fanout
from graph.schema import composed_schema
from subgraphs.registry import BY_NAME
from tests.subscription_support import PROTOCOLS, GraphQLWebSocket, ws_connect
from tests.test_subscriptions import Gateway, _ready, gateway

__all__ = ["gateway"]  # the live-server fixture, shared with test_subscriptions


@strawberry.type
class Tick:
    number: int
    executions: strawberry.Private[list[str]]

    @strawberry.field
    def label(self, prefix: str = "#") -> str:
        self.executions.append(prefix)
        return f"{prefix}{self.number}"

    @strawberry.field
    def broken(self) -> str | None:
        self.executions.append("broken")
        raise ValueError("no value")


@strawberry.type
class Query:
    ok: bool = True


def _schema(ticks: list[Tick]) -> strawberry.Schema:
    @strawberry.type
    class Subscription:
        @strawberry.subscription
        async def ticks(self) -> AsyncGenerator[Tick, None]:
            for tick in ticks:
                yield tick

    return fanout.install(strawberry.Schema(query=Query, subscription=Subscription))


async def _collect(schema: strawberry.Schema, query: str, **variables: Any) -> list[Any]:
    stream = await schema.subscribe(query, variable_values=variables or None)
    assert not isinstance(stream, strawberry.types.ExecutionResult)
    return [result.data async for result in stream]


def _ticks(count: int, *, shared: bool) -> tuple[list[Tick], list[str]]:
    executions: list[str] = []
    ticks = [Tick(number=n, executions=executions) for n in range(count)]
    return ([fanout.mark_shared(t) for t in ticks] if shared else ticks), executions


LABEL = "subscription($p: String!) { ticks { number label(prefix: $p) } }"


async def test_subscribers_of_one_shape_share_one_execution_per_event() -> None:
    ticks, executions = _ticks(3, shared=True)
    schema = _schema(ticks)
    results = await asyncio.gather(*(_collect(schema, LABEL, p="#") for _ in range(5)))
    expected = [{"ticks": {"number": n, "label": f"#{n}"}} for n in range(3)]
    assert all(r == expected for r in results)
    assert executions == ["#"] * 3  # once per event, not once per subscriber


async def test_each_distinct_shape_is_executed_on_its_own() -> None:
    ticks, executions = _ticks(2, shared=True)
    schema = _schema(ticks)
    hashes, stars, plain = await asyncio.gather(
        _collect(schema, LABEL, p="#"),
        _collect(schema, LABEL, p="*"),
        _collect(schema, "subscription { ticks { number } }"),
    )
    assert hashes == [{"ticks": {"number": n, "label": f"#{n}"}} for n in range(2)]
    assert stars == [{"ticks": {"number": n, "label": f"*{n}"}} for n in range(2)]
    assert plain == [{"ticks": {"number": n}} for n in range(2)]
    assert sorted(executions) == ["#", "#", "*", "*"]


async def test_unmarked_events_are_executed_per_subscriber() -> None:
    ticks, executions = _ticks(2, shared=False)
    schema = _schema(ticks)
    first, second = await asyncio.gather(
        _collect(schema, LABEL, p="#"), _collect(schema, LABEL, p="#")
    )
    assert first == second
    assert executions == ["#"] * 4


async def test_results_with_errors_are_not_shared() -> None:
    ticks, executions = _ticks(1, shared=True)
    schema = _schema(ticks)

    async def errors() -> list[Any]:
        stream = await schema.subscribe("subscription { ticks { broken } }")
        assert not isinstance(stream, strawberry.types.ExecutionResult)
        return [result.errors async for result in stream]

    first, second = await asyncio.gather(errors(), errors())
    assert first[0] and second[0]
    assert first[0][0] is not second[0][0]  # each subscriber's own error objects
    assert executions == ["broken", "broken"]


def test_a_shared_result_is_encoded_like_any_message() -> None:
    data = fanout.RenderedData({"ticks": {"number": 1, "label": 'a "quoted" ü'}})
    for message in (
        {"id": "op-1", "type": "next", "payload": {"data": data}},
        {"type": "data", "id": "7", "payload": {"data": data}},
    ):
        encoded = fanout.encode_message(message)
        assert encoded is not None
        assert json.loads(encoded) == json.loads(json.dumps(message))
    # Errors or extensions may differ per subscriber: those messages are encoded normally.
    with_errors = {"type": "next", "payload": {"data": data, "errors": [{"message": "x"}]}}
    assert fanout.encode_message(with_errors) is None
    assert fanout.encode_message({"type": "next", "payload": {"data": {"a": 1}}}) is None


SHAPES = {
    "ids": "subscription { governanceEvents { id type } }",
    "actors": "subscription { governanceEvents { id actor serviceId } }",
}


async def _open(
    stack: AsyncExitStack, gateway: Gateway, protocol: str, token: dict[str, str], query: str
) -> GraphQLWebSocket:
    ws = await stack.enter_async_context(ws_connect(gateway.url, protocol))
    assert (await ws.init(token))["type"] == "connection_ack"
    await ws.subscribe("1", query, {})
    return ws


async def test_live_subscribers_get_their_own_shape_and_view(gateway: Gateway) -> None:
    """Admins and a provider, two shapes, both protocols, over one shared event object."""
    own = await gateway.add_service("provider:fanout")
    other = await gateway.add_service("provider:someone-else")
    admin = gateway.token("admin:1", "admin")
    provider = gateway.token("provider:fanout", "provider")
    async with AsyncExitStack() as stack:
        admins = {
            (shape, protocol): await _open(stack, gateway, protocol, admin, query)
            for shape, query in SHAPES.items()
            for protocol in PROTOCOLS
        }
        providers = [
            await _open(stack, gateway, protocol, provider, SHAPES["actors"])
            for protocol in PROTOCOLS
        ]
        await _ready(gateway, len(admins) + len(providers))
        hidden = await gateway.emit(other, reason="not the provider's")
        shown = await gateway.emit(own, reason="the provider's")
        for (shape, _), ws in admins.items():
            events = [await ws.next_event("1"), await ws.next_event("1")]
            assert [e["id"] for e in events] == [str(hidden), str(shown)]
            if shape == "ids":
                assert all(set(e) == {"id", "type"} for e in events)
            else:
                assert [e["serviceId"] for e in events] == [other, own]
                assert all(set(e) == {"id", "actor", "serviceId"} for e in events)
        for ws in providers:
            event = await ws.next_event("1")
            assert event == {"id": str(shown), "actor": "admin:1", "serviceId": own}


def test_every_served_schema_fans_out(gateway: Gateway) -> None:
    for schema in (composed_schema(), BY_NAME["governance"].schema):
        # The composed schema's executor extends it (graph/look_ahead.py).
        assert issubclass(schema.execution_context_class, fanout.FanOutExecutor)
