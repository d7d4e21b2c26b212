"""The composed schema's look-ahead: a list's fields that have a batch form resolve once per list.

Every result is compared with the same composed schema run per object (graphql-core's plain
execution, ``FanOutExecutor``): data and errors must be identical.
"""

from __future__ import annotations

import gc
import weakref
from typing import Any

import pytest
import strawberry
from graphql import GraphQLField, GraphQLObjectType, GraphQLString
from graphql.execution.executor import Executor
from strawberry.permission import BasePermission

from graph.composition import ComposedSchema, CompositionError, Subgraph
from graph.fanout import FanOutExecutor
from graph.look_ahead import BATCH, PLAIN_ATTRIBUTE, LookAheadExecutor, _may_batch

LABELS = {"1": "one", "2": "two", "3": "three", "4": "four"}


@strawberry.federation.type(keys=["id"], name="Item")
class Item:
    id: strawberry.ID
    label: str

    @strawberry.field
    def itself(self) -> Item:
        return self


@strawberry.type
class ItemEdge:
    node: Item


@strawberry.type
class ItemConnection:
    edges: list[ItemEdge]


def _item(id: str) -> Item:
    return Item(id=strawberry.ID(id), label=LABELS[id])


SHARED = [_item("1"), _item("2")]  # the same objects in every execution


@strawberry.type(name="Query")
class OwnerQuery:
    @strawberry.field
    async def items(self, ids: list[str]) -> ItemConnection:
        return ItemConnection(edges=[ItemEdge(node=_item(i)) for i in ids])

    @strawberry.field
    def rows(self, ids: list[str]) -> list[Item | None]:
        return [_item(i) if i in LABELS else None for i in ids]

    @strawberry.field
    def shared(self) -> list[Item]:
        return SHARED

    @strawberry.field
    def first_shared(self) -> Item:
        return SHARED[0]


class Calls:
    def __init__(self) -> None:
        self.single: list[str] = []
        self.batch: list[list[str]] = []
        self.loads: list[list[str]] = []


@strawberry.federation.type(keys=["id"], name="Item")
class Scored:
    id: strawberry.ID

    @strawberry.field
    async def score(self, info: strawberry.Info, factor: int = 1) -> int:
        info.context["calls"].single.append(str(self.id))
        if str(self.id) == "4":
            raise ValueError("no score for 4")
        return int(self.id) * factor * info.context.get("scale", 1)

    @strawberry.field
    async def next(self, info: strawberry.Info) -> Scored | None:
        info.context["calls"].single.append(str(self.id))
        following = str(int(self.id) + 1)
        return Scored(id=strawberry.ID(following)) if following in LABELS else None

    @strawberry.field
    async def neighbours(self, info: strawberry.Info) -> list[Scored]:
        info.context["calls"].single.append(str(self.id))
        return _neighbours(str(self.id))


def _neighbours(id: str) -> list[Scored]:
    return [Scored(id=strawberry.ID(str(n))) for n in (int(id) + 1, int(id) + 2) if n <= 3]


async def batch_neighbours(
    context: Any, items: list[Any], _args: dict[str, Any]
) -> list[list[Scored]]:
    context["calls"].batch.append([str(i.id) for i in items])
    return [_neighbours(str(i.id)) for i in items]


async def batch_score(context: Any, items: list[Any], args: dict[str, Any]) -> list[int]:
    context["calls"].batch.append([str(i.id) for i in items])
    if any(str(i.id) == "4" for i in items):
        raise ValueError("no score for 4")
    return [int(i.id) * args["factor"] * context.get("scale", 1) for i in items]


async def batch_next(context: Any, items: list[Any], _args: dict[str, Any]) -> list[Any]:
    context["calls"].batch.append([str(i.id) for i in items])
    following = [str(int(i.id) + 1) for i in items]
    return [Scored(id=strawberry.ID(f)) if f in LABELS else None for f in following]


@strawberry.type(name="Query")
class ScoresQuery:
    @strawberry.field
    def version(self) -> int:
        return 1


def _schema(executor: type[Any], batches: dict[str, Any] | None = None) -> ComposedSchema:
    async def load_items(context: Any, ids: list[str]) -> list[Item | None]:
        context["calls"].loads.append(list(ids))
        return [_item(i) if i in LABELS else None for i in ids]

    owner = strawberry.federation.Schema(query=OwnerQuery, types=[Item])
    scores = strawberry.federation.Schema(query=ScoresQuery, types=[Scored])
    if batches is None:
        batches = {
            "Item.score": batch_score,
            "Item.next": batch_next,
            "Item.neighbours": batch_neighbours,
        }
    return ComposedSchema(
        [
            Subgraph("owner", owner, {"Item": load_items}),
            Subgraph("scores", scores, batch_resolvers=batches),
        ],
        execution_context_class=executor,
    )


async def _run(
    executor: type[Any], query: str, schema: ComposedSchema | None = None, scale: int = 1
) -> tuple[Any, list[Any], Calls]:
    calls = Calls()
    schema = schema or _schema(executor)
    result = await schema.execute(query, context_value={"calls": calls, "scale": scale})
    errors = [(e.message, e.path) for e in result.errors or []]
    return result.data, errors, calls


QUERY = """
{
  items(ids: ["1", "2"]) { edges { node {
    label
    score
    triple: score(factor: 3)
    ... on Item { next { id label score } }
  } } }
}
"""


async def test_batch_forms_run_once_per_list_with_the_same_result() -> None:
    data, errors, calls = await _run(LookAheadExecutor, QUERY)
    expected_data, expected_errors, per_object = await _run(FanOutExecutor, QUERY)
    assert (data, errors) == (expected_data, expected_errors)
    assert errors == []
    assert data["items"]["edges"][0]["node"] == {
        "label": "one",
        "score": 1,
        "triple": 3,
        "next": {"id": "2", "label": "two", "score": 2},
    }
    # One batch per selected field under the list (score, triple, next), then one for the
    # batch field selected beneath what `next` loaded (its score): nothing per object.
    assert calls.batch == [["1", "2"], ["1", "2"], ["1", "2"], ["2", "3"]]
    assert calls.single == []
    assert len(per_object.single) == 8
    # The other subgraph's stubs are materialised with one owner load for the whole list.
    assert calls.loads == [["2", "3"]]


async def test_prefetched_objects_of_plain_leaves_complete_as_graphql_core_does(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    query = """{ items(ids: ["1", "3", "4"]) { edges { node {
        next { id label } neighbours { id label }
    } } } }"""
    resolved: list[str] = []
    execute_field = Executor.execute_field

    def spy(self: Executor, parent_type: Any, source: Any, details: Any, *args: Any) -> Any:
        resolved.append(details[0].node.name.value)
        return execute_field(self, parent_type, source, details, *args)

    monkeypatch.setattr(Executor, "execute_field", spy)
    data, errors, _ = await _run(LookAheadExecutor, query)
    fast = list(resolved)
    resolved.clear()
    assert (data, errors) == (await _run(FanOutExecutor, query))[:2]
    assert [e["node"]["next"] for e in data["items"]["edges"]] == [
        {"id": "2", "label": "two"},
        {"id": "4", "label": "four"},
        None,  # nullable: no item 5
    ]
    assert data["items"]["edges"][0]["node"]["neighbours"] == [
        {"id": "2", "label": "two"},
        {"id": "3", "label": "three"},
    ]
    # Completed from the prefetched values, without graphql-core's field execution.
    assert "next" not in fast and "neighbours" not in fast
    assert "next" in resolved and "neighbours" in resolved


async def test_batch_fields_beneath_a_prefetched_list_load_once_per_level() -> None:
    query = '{ items(ids: ["1", "2"]) { edges { node { neighbours { id score } } } } }'
    data, errors, calls = await _run(LookAheadExecutor, query)
    assert (data, errors) == (await _run(FanOutExecutor, query))[:2]
    assert [e["node"]["neighbours"] for e in data["items"]["edges"]] == [
        [{"id": "2", "score": 2}, {"id": "3", "score": 3}],
        [{"id": "3", "score": 3}],
    ]
    # The neighbours of both items (the owner's objects: one load, each key once), then the
    # scores of every distinct neighbour; completing the prefetched lists loads nothing again.
    assert calls.loads == [["2", "3"]]
    assert calls.batch == [["1", "2"], ["2", "3"]]
    assert calls.single == []


class _Context(dict[str, Any]):
    """A GraphQL context that can be weakly referenced."""


async def test_an_execution_keeps_nothing_in_a_long_lived_task() -> None:
    # A subscription's task, or a caller awaiting the app in its own task, runs execution
    # after execution: none may keep another's values (or, through them, its context) alive.
    schema = _schema(LookAheadExecutor)
    contexts = []
    for _ in range(3):
        context = _Context(calls=Calls())
        result = await schema.execute(QUERY, context_value=context)
        assert result.errors is None
        contexts.append(weakref.ref(context))
        del context, result
    gc.collect()
    assert [c() for c in contexts] == [None, None, None]


async def test_a_failed_batch_leaves_each_field_to_its_own_resolver() -> None:
    query = '{ rows(ids: ["3", "9", "4"]) { id score } }'
    data, errors, calls = await _run(LookAheadExecutor, query)
    assert (data, errors) == (await _run(FanOutExecutor, query))[:2]
    assert data == {"rows": [{"id": "3", "score": 3}, None, None]}
    assert errors == [("no score for 4", ["rows", 2, "score"])]
    assert calls.batch == [["3", "4"]]
    assert calls.single == ["3", "4"]


async def test_skipped_fields_are_not_loaded() -> None:
    query = '{ rows(ids: ["1", "2"]) { id score @include(if: false) } }'
    data, errors, calls = await _run(LookAheadExecutor, query)
    assert (data, errors) == (await _run(FanOutExecutor, query))[:2]
    assert calls.batch == [] and calls.single == []


class Never(BasePermission):
    message = "never"

    def has_permission(self, source: Any, info: strawberry.Info, **kwargs: Any) -> bool:
        return False


@strawberry.federation.type(keys=["id"], name="Item")
class Guarded:
    id: strawberry.ID

    @strawberry.field(permission_classes=[Never])
    def score(self) -> int:
        return 0


def test_a_guarded_field_cannot_have_a_batch_form() -> None:
    owner = strawberry.federation.Schema(query=OwnerQuery, types=[Item])
    guarded = strawberry.federation.Schema(query=ScoresQuery, types=[Guarded])
    with pytest.raises(CompositionError, match=r"Item\.score is guarded"):
        ComposedSchema(
            [
                Subgraph("owner", owner, {"Item": lambda _c, ids: []}),
                Subgraph("guarded", guarded, batch_resolvers={"Item.score": batch_score}),
            ]
        )


async def test_values_belong_to_their_own_execution() -> None:
    schema = _schema(LookAheadExecutor)
    data, _, calls = await _run(LookAheadExecutor, "{ shared { score } }", schema, scale=1)
    assert data == {"shared": [{"score": 1}, {"score": 2}]} and calls.batch == [["1", "2"]]
    # Same objects, next request: nothing from the first execution is served.
    data, _, calls = await _run(LookAheadExecutor, "{ firstShared { score } }", schema, scale=10)
    assert data == {"firstShared": {"score": 10}} and calls.single == ["1"]


async def test_repeated_keys_are_loaded_once() -> None:
    query = '{ rows(ids: ["1", "1", "2"]) { next { id label } } }'
    data, errors, calls = await _run(LookAheadExecutor, query)
    assert (data, errors) == (await _run(FanOutExecutor, query))[:2]
    assert [row["next"]["id"] for row in data["rows"]] == ["2", "2", "3"]
    assert calls.loads == [["2", "3"]]


async def test_one_object_in_two_lists_keeps_each_lists_arguments() -> None:
    # Both lists hold the same Python objects (SHARED); their `s` children share a response
    # key but not their arguments, and are prefetched concurrently.
    query = "{ a: shared { s: score(factor: 2) } b: shared { s: score(factor: 5) } }"
    data, errors, calls = await _run(LookAheadExecutor, query)
    assert (data, errors) == (await _run(FanOutExecutor, query))[:2]
    assert data == {"a": [{"s": 2}, {"s": 4}], "b": [{"s": 5}, {"s": 10}]}
    assert calls.batch == [["1", "2"], ["1", "2"]] and calls.single == []


async def test_a_prefetched_value_serves_only_the_field_it_was_loaded_for() -> None:
    # The inner `s` has the outer one's object and response key, not its arguments.
    query = "{ shared { s: score(factor: 2) itself { s: score(factor: 7) } } }"
    data, errors, calls = await _run(LookAheadExecutor, query)
    assert (data, errors) == (await _run(FanOutExecutor, query))[:2]
    assert data == {"shared": [{"s": 2, "itself": {"s": 7}}, {"s": 4, "itself": {"s": 14}}]}
    assert calls.batch == [["1", "2"]] and calls.single == ["1", "2"]


def test_a_list_is_planned_only_when_a_batch_field_can_lie_beneath_its_items() -> None:
    def plain(of: Any, name: str) -> GraphQLField:
        return GraphQLField(of, extensions={PLAIN_ATTRIBUTE: name})

    leaf = GraphQLObjectType("Leaf", {"value": GraphQLField(GraphQLString)})
    batched = GraphQLObjectType(
        "Batched", {"score": GraphQLField(GraphQLString, extensions={BATCH: object()})}
    )
    # Two types that reach each other through plain attributes, and only one the batch.
    first: GraphQLObjectType = GraphQLObjectType(
        "First", lambda: {"second": plain(second, "second"), "leaf": plain(leaf, "leaf")}
    )
    second: GraphQLObjectType = GraphQLObjectType(
        "Second", lambda: {"first": plain(first, "first"), "batched": plain(batched, "batched")}
    )
    assert [_may_batch(t) for t in (leaf, batched, first, second)] == [False, True, True, True]
