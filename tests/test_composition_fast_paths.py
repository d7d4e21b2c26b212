"""The composed schema's fast paths keep results identical to the subgraphs' own resolvers.

* plain attribute fields (no resolver, permission or extension) read the attribute by its
  Python name, also when the GraphQL name differs;
* a list of another subgraph's key-only stubs is materialised with one entity-loader call
  for the whole list, null entries kept in place.
"""

from __future__ import annotations

from typing import Any

import strawberry

from graph.composition import ComposedSchema, Subgraph

ITEMS = {"1": "one", "2": "two", "3": "three"}


@strawberry.federation.type(keys=["id"], name="Item")
class OwnedItem:
    id: strawberry.ID
    display_label: str


@strawberry.type(name="Query")
class OwnerQuery:
    @strawberry.field
    def item(self, id: strawberry.ID) -> OwnedItem | None:
        return OwnedItem(id=id, display_label=ITEMS[str(id)]) if str(id) in ITEMS else None


@strawberry.federation.type(keys=["id"], name="Item")
class ItemStub:
    id: strawberry.ID


@strawberry.type(name="Query")
class ListsQuery:
    @strawberry.field
    def picks(self) -> list[ItemStub | None]:
        return [ItemStub(id=strawberry.ID("3")), None, ItemStub(id=strawberry.ID("1"))]


def _schema(calls: list[list[str]]) -> ComposedSchema:
    async def load_items(_context: Any, ids: list[str]) -> list[OwnedItem | None]:
        calls.append(list(ids))
        return [OwnedItem(id=strawberry.ID(i), display_label=ITEMS[i]) for i in ids]

    owner = strawberry.federation.Schema(query=OwnerQuery, types=[OwnedItem])
    lists = strawberry.federation.Schema(query=ListsQuery, types=[ItemStub])
    return ComposedSchema(
        [Subgraph("owner", owner, {"Item": load_items}), Subgraph("lists", lists)]
    )


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
