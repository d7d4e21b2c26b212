"""The catalog read path end to end through /graphql, on SQLite and PostgreSQL."""

from __future__ import annotations

import httpx

from graph.settings import Settings
from tests.conftest import bearer, gql

PAGE = """
query($first: Int, $after: String) {
  services(first: $first, after: $after) {
    totalCount
    edges { cursor node { id slug name category version status provider { id name } } }
    pageInfo { hasNextPage hasPreviousPage endCursor }
  }
}
"""


async def test_first_page_has_five_services_and_a_next_page(seeded_client: httpx.AsyncClient):
    body = await gql(seeded_client, PAGE, {"first": 5})
    assert "errors" not in body
    conn = body["data"]["services"]
    assert len(conn["edges"]) == 5
    assert conn["pageInfo"]["hasNextPage"] is True
    assert conn["totalCount"] >= 30
    assert all(e["node"]["status"] in {"ACTIVE", "DEPRECATED"} for e in conn["edges"])
    assert all(e["node"]["provider"]["name"] for e in conn["edges"])


async def test_paging_walks_every_service_once(seeded_client: httpx.AsyncClient):
    seen: list[str] = []
    after = None
    while True:
        body = await gql(seeded_client, PAGE, {"first": 7, "after": after})
        conn = body["data"]["services"]
        seen += [e["node"]["id"] for e in conn["edges"]]
        if not conn["pageInfo"]["hasNextPage"]:
            break
        assert conn["pageInfo"]["hasPreviousPage"] is (after is not None)
        after = conn["pageInfo"]["endCursor"]
    assert len(seen) == len(set(seen)) == conn["totalCount"]


async def test_filters_by_category_and_tag(seeded_client: httpx.AsyncClient):
    body = await gql(
        seeded_client,
        """{ services(filter: {categories: ["embeddings"]}, first: 50) {
               totalCount edges { node { category tags } } } }""",
    )
    edges = body["data"]["services"]["edges"]
    assert edges and all(e["node"]["category"] == "embeddings" for e in edges)
    tag = edges[0]["node"]["tags"][0]
    body = await gql(
        seeded_client,
        """query($t: [String!]) {
               services(filter: {tags: $t}, first: 100) { edges { node { tags } } } }""",
        {"t": [tag]},
    )
    tagged = body["data"]["services"]["edges"]
    assert tagged and all(tag in e["node"]["tags"] for e in tagged)


async def test_unknown_category_is_empty_not_an_error(seeded_client: httpx.AsyncClient):
    body = await gql(
        seeded_client,
        '{ services(filter: {categories: ["nope"]}) { totalCount edges { cursor } } }',
    )
    assert "errors" not in body, body
    assert body["data"] == {"services": {"totalCount": 0, "edges": []}}


async def test_service_by_slug_and_id_and_unknown_is_null(seeded_client: httpx.AsyncClient):
    first = (await gql(seeded_client, PAGE, {"first": 1}))["data"]["services"]["edges"][0]["node"]
    by_slug = await gql(
        seeded_client, "query($s: String) { service(slug: $s) { id } }", {"s": first["slug"]}
    )
    assert by_slug["data"]["service"]["id"] == first["id"]
    by_id = await gql(
        seeded_client, "query($i: ID) { service(id: $i) { slug } }", {"i": first["id"]}
    )
    assert by_id["data"]["service"]["slug"] == first["slug"]
    missing = await gql(seeded_client, '{ service(slug: "no-such-service") { id } }')
    assert "errors" not in missing, missing
    assert missing["data"] == {"service": None}


async def test_versions_are_newest_first_and_pricing_is_decimal(seeded_client: httpx.AsyncClient):
    body = await gql(
        seeded_client,
        """{ services(first: 100) { edges { node { version versions { version }
               pricing { model currency inputPricePer1k requestPrice } } } } }""",
    )
    for edge in body["data"]["services"]["edges"]:
        node = edge["node"]
        assert node["versions"][0]["version"] == node["version"]
        if node["pricing"]["model"] == "PER_TOKEN":
            assert isinstance(node["pricing"]["inputPricePer1k"], str)


async def test_providers_and_their_services(seeded_client: httpx.AsyncClient):
    body = await gql(
        seeded_client,
        """{ providers(first: 3) { totalCount pageInfo { hasNextPage } edges { node {
               name services(first: 2) { totalCount edges { node { name } } } } } } }""",
    )
    conn = body["data"]["providers"]
    assert conn["totalCount"] >= 6 and conn["pageInfo"]["hasNextPage"] is True
    for edge in conn["edges"]:
        services = edge["node"]["services"]
        assert len(services["edges"]) <= 2 <= services["totalCount"] or services["totalCount"] < 2


async def test_contributed_fields_from_every_subgraph(
    seeded_client: httpx.AsyncClient, settings: Settings
):
    body = await gql(
        seeded_client,
        """{ services(first: 3, filter: {categories: ["embeddings"]}) { edges { node {
               name similar(first: 2) { name category provider { name } }
               usageStats(window: MONTH) { requests cost }
               compliance { compliant score } } } } }""",
        headers=bearer(settings, "admin-1", "admin"),  # usageStats: provider or admin only
    )
    assert "errors" not in body, body
    for edge in body["data"]["services"]["edges"]:
        node = edge["node"]
        assert all(s["category"] == "embeddings" for s in node["similar"])
        assert node["compliance"]["compliant"] in (True, False)
        assert int(node["usageStats"]["requests"]) >= 0


# --- bad input -------------------------------------------------------------------------------


async def _error_code(client: httpx.AsyncClient, query: str, variables=None) -> str:
    body = await gql(client, query, variables)
    assert body["data"] is None or body["data"].get("services") is None, body
    return body["errors"][0]["extensions"]["code"]


async def test_first_out_of_range_is_bad_user_input(seeded_client: httpx.AsyncClient):
    for first in (101, -1):
        code = await _error_code(seeded_client, PAGE, {"first": first})
        assert code == "BAD_USER_INPUT"


async def test_invalid_cursor_is_bad_user_input(seeded_client: httpx.AsyncClient):
    for cursor in ("not-a-cursor!!", "eyJ4IjoxfQ", "WyJvbmx5LW9uZSJd"):
        assert await _error_code(seeded_client, PAGE, {"after": cursor}) == "BAD_USER_INPUT"


async def test_malformed_json_body_is_http_400(client: httpx.AsyncClient):
    response = await client.post(
        "/graphql", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 400


async def test_unknown_field_is_a_validation_error(client: httpx.AsyncClient):
    body = await gql(client, "{ services { nope } }")
    assert body["data"] is None
    assert "Cannot query field 'nope'" in body["errors"][0]["message"]
