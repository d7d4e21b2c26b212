"""`_entities` is batched: one SQL statement per entity type (or contributed field) per request.

A router sends every representation of one fetch in a single `_entities` call; each subgraph
must answer it through its DataLoaders, however many representations arrive.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import bearer, gql

REPRESENTATIONS = 100
UNKNOWN_ID = "00000000-0000-0000-0000-000000000000"


async def _service_ids(client: httpx.AsyncClient) -> list[str]:
    body = await gql(
        client,
        "{ services(first: 100, filter: {statuses: [ACTIVE, DEPRECATED, SUSPENDED, RETIRED,"
        " DRAFT, PENDING_APPROVAL]}) { edges { node { id } } } }",
    )
    return [edge["node"]["id"] for edge in body["data"]["services"]["edges"]]


async def _representations(
    client: httpx.AsyncClient, *, with_unknown: bool = True
) -> list[dict[str, str]]:
    """REPRESENTATIONS Service keys: every seeded service, repeated, and unknown ids."""
    ids = await _service_ids(client)
    keys = [
        ids[i % len(ids)] if i % 10 or not with_unknown else UNKNOWN_ID
        for i in range(REPRESENTATIONS)
    ]
    return [{"__typename": "Service", "id": key} for key in keys]


async def _entities(
    client: Any,
    count_statements: Any,
    subgraph: str,
    selection: str,
    representations: list[dict[str, str]],
    headers: dict[str, str] | None = None,
) -> tuple[list[Any], list[str]]:
    query = (
        "query($r: [_Any!]!) { _entities(representations: $r) { ... on Service { "
        f"{selection} }} }} }}"
    )
    with count_statements(client.app.state.runtime.engine) as counter:
        body = await gql(
            client,
            query,
            {"r": representations},
            headers=headers,
            path=f"/subgraphs/{subgraph}/graphql",
        )
    assert "errors" not in body, body["errors"]
    return body["data"]["_entities"], counter.statements


def _touching(statements: list[str], table: str) -> list[str]:
    # Counted per table: the app's background workers (outbox relay, search indexer) share the
    # engine and may run a statement of their own during the request.
    return [s for s in statements if f"FROM {table}" in s or f"FROM public.{table}" in s]


async def test_catalog_resolves_100_services_with_one_statement(
    seeded_client: httpx.AsyncClient, count_statements: Any
):
    reps = await _representations(seeded_client)
    entities, statements = await _entities(
        seeded_client, count_statements, "catalog", "id name", reps
    )
    assert len(_touching(statements, "services")) == 1, statements
    assert [e["id"] if e else None for e in entities] == [
        None if r["id"] == UNKNOWN_ID else r["id"] for r in reps
    ]


async def test_catalog_entities_with_provider_add_one_statement_for_providers(
    seeded_client: httpx.AsyncClient, count_statements: Any
):
    reps = await _representations(seeded_client)
    entities, statements = await _entities(
        seeded_client,
        count_statements,
        "catalog",
        "id provider { id name } pricing { model }",
        reps,
    )
    assert len(_touching(statements, "services")) == 1, statements
    assert len(_touching(statements, "providers")) == 1, statements
    assert all(e is None or e["provider"]["name"] for e in entities)


@pytest.mark.parametrize(
    ("subgraph", "selection", "roles", "tables"),
    [
        ("search", "id similar(first: 3) { id }", (), ("services",)),
        # usage sums the records; an admin needs no ownership lookup (services, providers)
        (
            "usage",
            "id usageStats(window: MONTH) { requests cost }",
            ("admin",),
            ("usage_records",),
        ),
        ("governance", "id compliance { compliant }", (), ("compliance_checks",)),
        ("governance", "id auditTrail(first: 5) { action }", ("admin",), ("audit_log",)),
    ],
)
async def test_contributing_subgraph_answers_100_representations_with_one_statement(
    seeded_client: httpx.AsyncClient,
    count_statements: Any,
    subgraph: str,
    selection: str,
    roles: tuple[str, ...],
    tables: tuple[str, ...],
):
    settings = seeded_client.app.state.runtime.settings  # type: ignore[attr-defined]
    headers = bearer(settings, "entities-batching", *roles) if roles else None
    reps = await _representations(seeded_client, with_unknown=False)
    entities, statements = await _entities(
        seeded_client, count_statements, subgraph, selection, reps, headers
    )
    for table in tables:
        assert len(_touching(statements, table)) == 1, (table, statements)
    assert [e["id"] for e in entities] == [r["id"] for r in reps]
