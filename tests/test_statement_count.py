"""DataLoaders keep a query's SQL statement count flat, whatever the list sizes."""

from __future__ import annotations

import httpx

from graph.settings import Settings
from tests.conftest import bearer, gql

NESTED = """
query($n: Int) {
  services(first: $n) { edges { node {
    provider { name services(first: 3) { edges { node { name versions { version } } } } }
    versions { version }
  } } }
}
"""


async def test_nested_catalog_query_statement_count_is_constant(
    seeded_client: httpx.AsyncClient, count_statements
):
    engine = seeded_client.app.state.runtime.engine  # type: ignore[attr-defined]
    counts = {}
    for n in (5, 50):
        with count_statements(engine) as counter:
            body = await gql(seeded_client, NESTED, {"n": n})
        assert "errors" not in body, body
        counts[n] = counter.count
        assert 0 < len(body["data"]["services"]["edges"]) <= n
    assert counts[5] == counts[50], counts
    assert counts[5] <= 6, counts


async def test_cross_subgraph_fields_are_batched(
    seeded_client: httpx.AsyncClient, count_statements, settings: Settings
):
    query = """query($n: Int) { services(first: $n) { edges { node {
        similar(first: 3) { name provider { name } } usageStats { requests } compliance { score }
    } } } }"""
    engine = seeded_client.app.state.runtime.engine  # type: ignore[attr-defined]
    admin = bearer(settings, "ops", "admin")  # usageStats is for providers and admins
    counts = []
    for n in (5, 40):
        with count_statements(engine) as counter:
            body = await gql(seeded_client, query, {"n": n}, headers=admin)
        assert "errors" not in body, body
        counts.append(counter.count)
    assert counts[0] == counts[1], counts
