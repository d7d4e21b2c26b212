"""The composed schema's fast paths keep results identical to the subgraphs' own resolvers.

* plain attribute fields (no resolver, permission or extension) read the attribute by its
  Python name, also when the GraphQL name differs;
* a list of another subgraph's key-only stubs is materialised with one entity-loader call
  for the whole list, null entries kept in place;
* plain scalar and enum fields are completed directly (graph/look_ahead.py), and an object
  whose selected fields are all such leaves in one pass: the same values, and the same errors
  for values their type rejects, as graphql-core's full completion; a field middleware still
  sees every field.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import Any

import pytest
import strawberry
from graphql.execution.executor import Executor
from strawberry.extensions import SchemaExtension

from graph.composition import ComposedSchema, Subgraph

ITEMS = {"1": "one", "2": "two", "3": "three"}


@strawberry.enum
class Kind(enum.Enum):
    SMALL = "small"
    LARGE = "large"


@strawberry.federation.type(keys=["id"], name="Item")
class OwnedItem:
    id: strawberry.ID
    display_label: str
    rank: int = 1
    ratio: float | None = 0.5
    active: bool = True
    kind: Kind = Kind.SMALL


# Items whose stored values break their declared types, as bad data would.
BROKEN: dict[str, dict[str, Any]] = {
    "null-label": {"display_label": None},
    "huge-rank": {"rank": 2**40},
    "text-rank": {"rank": "many"},
}


@strawberry.type(name="Query")
class OwnerQuery:
    @strawberry.field
    def item(self, id: strawberry.ID) -> OwnedItem | None:
        if str(id) in BROKEN:
            return OwnedItem(id=id, **{"display_label": "x", **BROKEN[str(id)]})
        return OwnedItem(id=id, display_label=ITEMS[str(id)]) if str(id) in ITEMS else None


@strawberry.federation.type(keys=["id"], name="Item")
class ItemStub:
    id: strawberry.ID


@strawberry.type(name="Query")
class ListsQuery:
    @strawberry.field
    def picks(self) -> list[ItemStub | None]:
        return [ItemStub(id=strawberry.ID("3")), None, ItemStub(id=strawberry.ID("1"))]


def _schema(calls: list[list[str]], **kwargs: Any) -> ComposedSchema:
    async def load_items(_context: Any, ids: list[str]) -> list[OwnedItem | None]:
        calls.append(list(ids))
        return [OwnedItem(id=strawberry.ID(i), display_label=ITEMS[i]) for i in ids]

    owner = strawberry.federation.Schema(query=OwnerQuery, types=[OwnedItem])
    lists = strawberry.federation.Schema(query=ListsQuery, types=[ItemStub])
    return ComposedSchema(
        [Subgraph("owner", owner, {"Item": load_items}), Subgraph("lists", lists)], **kwargs
    )


OWNER = strawberry.federation.Schema(query=OwnerQuery, types=[OwnedItem])
LEAVES = "{ item(id: $id) { id displayLabel rank ratio active kind label: displayLabel } }"


async def test_plain_fields_read_the_python_attribute() -> None:
    result = await _schema([]).execute('{ item(id: "2") { id displayLabel } }')
    assert result.errors is None
    assert result.data == {"item": {"id": "2", "displayLabel": "two"}}


async def test_a_list_of_stubs_is_one_loader_call_with_nulls_in_place() -> None:
    calls: list[list[str]] = []
    result = await _schema(calls).execute("{ picks { id displayLabel } }")
    assert result.errors is None
    assert result.data == {
        "picks": [{"id": "3", "displayLabel": "three"}, None, {"id": "1", "displayLabel": "one"}]
    }
    assert calls == [["3", "1"]]


async def _both(item_id: str) -> tuple[Any, Any]:
    query = "query($id: ID!) " + LEAVES
    variables = {"id": item_id}
    composed = await _schema([]).execute(query, variable_values=variables)
    own = await OWNER.execute(query, variable_values=variables)
    return composed, own


async def test_plain_leaves_complete_as_graphql_core_does() -> None:
    composed, own = await _both("1")
    assert composed.errors is None
    assert (
        composed.data
        == own.data
        == {
            "item": {
                "id": "1",
                "displayLabel": "one",
                "rank": 1,
                "ratio": 0.5,
                "active": True,
                "kind": "SMALL",
                "label": "one",
            }
        }
    )


async def test_an_object_of_plain_leaves_is_completed_in_one_pass(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    executed: list[str] = []
    execute_fields = Executor.execute_fields

    def spy(self: Executor, parent_type: Any, *args: Any, **kwargs: Any) -> Any:
        executed.append(parent_type.name)
        return execute_fields(self, parent_type, *args, **kwargs)

    monkeypatch.setattr(Executor, "execute_fields", spy)
    composed = await _schema([]).execute("query($id: ID!) " + LEAVES, variable_values={"id": "1"})
    assert composed.errors is None
    assert executed == ["Query"]  # the item's fields without graphql-core's field loop
    # A field that is not a plain leaf (__typename) sends the object the full way.
    executed.clear()
    result = await _schema([]).execute('{ item(id: "1") { __typename rank } }')
    assert result.data == {"item": {"__typename": "Item", "rank": 1}}
    assert executed == ["Query", "Item"]


async def test_values_their_type_rejects_fail_as_graphql_core_reports_them() -> None:
    for item_id in BROKEN:
        composed, own = await _both(item_id)
        assert composed.data == own.data
        assert [(e.message, e.path) for e in composed.errors or []] == [
            (e.message, e.path) for e in own.errors or []
        ]
        assert composed.errors, item_id


async def test_a_field_middleware_still_sees_every_leaf() -> None:
    seen: list[str] = []

    class Recorder(SchemaExtension):
        def resolve(
            self, _next: Callable[..., Any], root: Any, info: Any, *args: Any, **kwargs: Any
        ) -> Any:
            seen.append(info.field_name)
            return _next(root, info, *args, **kwargs)

    schema = _schema([], extensions=[Recorder])
    result = await schema.execute('{ item(id: "1") { displayLabel rank kind } }')
    assert result.errors is None
    assert seen == ["item", "displayLabel", "rank", "kind"]
