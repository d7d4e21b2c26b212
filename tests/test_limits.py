"""Operation limits: refused before execution with a stable code, and no resolver runs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from graph.app import create_app
from graph.settings import Settings, load_settings
from resolvers import governance
from tests.conftest import gql

OPERATION_TABLES = ("FROM services", "FROM providers", "FROM policies")


@pytest.fixture
async def resolver_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Counts calls of the policies resolver's domain function (``{ policies }``)."""
    calls: list[str] = []
    original = governance.list_policies

    async def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append("list_policies")
        return await original(*args, **kwargs)

    monkeypatch.setattr(governance, "list_policies", counting)
    return calls


async def _refused(
    client: httpx.AsyncClient, count_statements: Any, query: str, variables: Any = None
) -> dict[str, Any]:
    engine = client.app.state.runtime.engine  # type: ignore[attr-defined]
    with count_statements(engine) as counter:
        body = await gql(client, query, variables)
    # Nothing the operation would read reached the database (background workers may run).
    read = [s for s in counter.statements if any(t in s for t in OPERATION_TABLES)]
    assert read == []
    assert body.get("data") is None
    return body


def _code(body: dict[str, Any]) -> str:
    return str(body["errors"][0]["extensions"]["code"])


def _nested(depth: int) -> str:
    # service { provider { services { edges { node { provider { ... } } } } } }
    inner = "id"
    for level in range(depth):
        inner = f"provider {{ {inner} }}" if level % 2 == 0 else f"similar {{ {inner} }}"
    return '{ service(slug: "x") { ' + inner + " } policies { name } }"


async def test_depth_50_query_is_refused_and_runs_no_resolver(
    client, count_statements, resolver_calls
):
    body = await _refused(client, count_statements, _nested(50))
    assert _code(body) == "MAX_DEPTH_LIMIT"
    assert "10" in body["errors"][0]["message"]
    assert resolver_calls == []


async def test_depth_at_the_limit_runs(client, resolver_calls):
    body = await gql(client, '{ policies { name } service(slug: "x") { provider { id } } }')
    assert "errors" not in body, body
    assert resolver_calls == ["list_policies"]


async def test_1000_aliases_are_refused_and_run_no_resolver(
    client, count_statements, resolver_calls
):
    query = "{ " + " ".join(f"a{i}: policies {{ name }}" for i in range(1000)) + " }"
    body = await _refused(client, count_statements, query)
    assert {_code(body)} <= {"MAX_ALIASES_LIMIT", "MAX_TOKENS_LIMIT"}
    codes = {e["extensions"]["code"] for e in body["errors"]}
    assert codes & {"MAX_ALIASES_LIMIT", "MAX_TOKENS_LIMIT"}
    assert resolver_calls == []


async def test_aliases_over_the_limit_are_refused_by_the_alias_rule(
    client, count_statements, resolver_calls
):
    query = "{ " + " ".join(f"a{i}: policies {{ name }}" for i in range(31)) + " }"
    body = await _refused(client, count_statements, query)
    codes = {e["extensions"]["code"] for e in body["errors"]}
    assert "MAX_ALIASES_LIMIT" in codes
    assert resolver_calls == []


async def test_100k_token_query_is_refused_at_parse(client, count_statements, resolver_calls):
    query = "{ policies { " + " ".join(["name"] * 100_000) + " } }"
    body = await _refused(client, count_statements, query)
    assert _code(body) == "MAX_TOKENS_LIMIT"
    assert resolver_calls == []


async def test_too_many_root_fields_are_refused(client, count_statements, resolver_calls):
    query = "{ " + " ".join("policies { name }" for _ in range(21)) + " }"
    body = await _refused(client, count_statements, query)
    assert _code(body) == "MAX_ROOT_FIELDS_LIMIT"
    assert resolver_calls == []


async def test_over_budget_list_query_is_refused_with_its_cost(client, count_statements):
    query = """query($n: Int!) { services(first: $n) { edges { node {
        provider { services(first: 100) { edges { node { id } } } } } } } }"""
    body = await _refused(client, count_statements, query, {"n": 100})
    error = body["errors"][0]
    assert error["extensions"]["code"] == "COST_ESTIMATED_TOO_EXPENSIVE"
    assert error["extensions"]["cost"] > error["extensions"]["maxCost"] == 5000


async def test_list_arguments_drive_the_cost(client, count_statements):
    small = "query($n: Int!) { services(first: $n) { edges { node { provider { id } } } } }"
    assert "errors" not in await gql(client, small, {"n": 5})
    body = await _refused(client, count_statements, small, {"n": 100_000})
    assert _code(body) == "COST_ESTIMATED_TOO_EXPENSIVE"


async def test_fragment_cycles_do_not_hang_the_limits(client):
    query = '{ service(slug: "x") { ...A } } fragment A on Service { provider { id } ...A }'
    body = await gql(client, query)
    assert _code(body) == "GRAPHQL_VALIDATION_FAILED"


@pytest.fixture
async def configured_client(
    database_url: str, tmp_path: Path
) -> AsyncIterator[tuple[httpx.AsyncClient, Settings]]:
    settings = load_settings(
        database_url=database_url,
        data_dir=tmp_path,
        graphql_max_depth=4,
        graphql_max_cost=50,
        graphql_cost_in_extensions=True,
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as http:
            http.app = app  # type: ignore[attr-defined]
            yield http, settings


async def test_limits_come_from_settings_and_cost_is_reported(configured_client):
    client, _ = configured_client
    ok = await gql(client, "{ services(first: 2) { edges { node { id } } } }")
    assert "errors" not in ok, ok
    assert ok["extensions"]["cost"] == {"estimated": 5, "max": 50}
    deep = await gql(client, "{ services { edges { node { provider { id } } } } }")
    assert _code(deep) == "MAX_DEPTH_LIMIT"


async def test_limits_also_guard_subgraph_endpoints(client, count_statements):
    body = await _refused(client, count_statements, _nested(50).replace(" policies { name }", ""))
    assert _code(body) == "MAX_DEPTH_LIMIT"
    sub = await gql(
        client,
        "{ " + " ".join(f"a{i}: policies {{ name }}" for i in range(40)) + " }",
        path="/subgraphs/governance/graphql",
    )
    assert "MAX_ALIASES_LIMIT" in {e["extensions"]["code"] for e in sub["errors"]}
