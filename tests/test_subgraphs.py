"""Each subgraph alone is a Federation v2 subgraph: `_service { sdl }` and `_entities`."""

from __future__ import annotations

import httpx
import pytest
from graphql import ObjectTypeDefinitionNode, parse

from tests.conftest import gql

SUBGRAPH_FIELDS = {
    "catalog": "versions",
    "search": "similar",
    "usage": "usageStats",
    "governance": "compliance",
}


def _service_fields(sdl: str) -> set[str]:
    document = parse(sdl)
    for definition in document.definitions:
        if isinstance(definition, ObjectTypeDefinitionNode) and definition.name.value == "Service":
            return {f.name.value for f in definition.fields or ()}
    raise AssertionError("no Service type in the subgraph SDL")


@pytest.mark.parametrize("name", sorted(SUBGRAPH_FIELDS))
async def test_subgraph_sdl_declares_service_key_and_own_fields_only(
    client: httpx.AsyncClient, name: str
):
    body = await gql(client, "{ _service { sdl } }", path=f"/subgraphs/{name}/graphql")
    sdl = body["data"]["_service"]["sdl"]
    assert "@link" in sdl and 'type Service @key(fields: "id")' in sdl
    fields = _service_fields(sdl)
    assert "id" in fields and SUBGRAPH_FIELDS[name] in fields
    for other, field in SUBGRAPH_FIELDS.items():
        if other != name:
            assert field not in fields, (name, field)


async def test_entities_resolve_in_representation_order_with_null_for_unknown(
    seeded_client: httpx.AsyncClient,
):
    listing = await gql(seeded_client, "{ services(first: 3) { edges { node { id name } } } }")
    nodes = [e["node"] for e in listing["data"]["services"]["edges"]]
    reps = [{"__typename": "Service", "id": n["id"]} for n in reversed(nodes)]
    reps.insert(1, {"__typename": "Service", "id": "00000000-0000-0000-0000-000000000000"})
    body = await gql(
        seeded_client,
        "query($r: [_Any!]!) { _entities(representations: $r) { ... on Service { id name } } }",
        {"r": reps},
        path="/subgraphs/catalog/graphql",
    )
    entities = body["data"]["_entities"]
    assert entities[1] is None
    assert [e["id"] for e in entities if e] == [n["id"] for n in reversed(nodes)]


async def test_contributing_subgraph_resolves_its_field_from_the_key(
    seeded_client: httpx.AsyncClient,
):
    listing = await gql(seeded_client, "{ services(first: 1) { edges { node { id } } } }")
    service_id = listing["data"]["services"]["edges"][0]["node"]["id"]
    body = await gql(
        seeded_client,
        """query($r: [_Any!]!) { _entities(representations: $r) {
               ... on Service { id compliance { compliant } } } }""",
        {"r": [{"__typename": "Service", "id": service_id}]},
        path="/subgraphs/governance/graphql",
    )
    assert body["data"]["_entities"][0]["id"] == service_id
