"""Repeated documents are parsed and validated once, and the cache never changes an answer:
limits, token budgets, production rules and errors stay what they are without it."""

# ruff: noqa: F401, F811  (the make_client fixture is imported, then requested by name)

from __future__ import annotations

from typing import Any

from graph import document_cache
from tests.conftest import gql
from tests.security_clients import make_client

QUERY = "query($n: Int) { services(first: $n) { edges { node { id name } } } }"


def _code(body: dict[str, Any]) -> str:
    return str(body["errors"][0]["extensions"]["code"])


def _parsed_document(query: str) -> Any:
    return next(
        (doc for (text, _), doc in document_cache.PARSED._items.items() if text == query), None
    )


async def test_a_repeated_document_is_parsed_and_validated_once(client):
    first = await gql(client, QUERY, {"n": 2})
    assert "errors" not in first, first
    document = _parsed_document(QUERY)
    assert document is not None
    validated = [key for key in document_cache.VALIDATED._items if key[1] == QUERY]
    assert len(validated) == 1

    second = await gql(client, QUERY, {"n": 3})
    assert second["data"] == first["data"]  # an empty database: the same (empty) page
    # The cost is still measured per request, from this request's variables.
    assert (
        first["extensions"]["cost"]["estimated"],
        second["extensions"]["cost"]["estimated"],
    ) == (5, 7)
    assert _parsed_document(QUERY) is document  # the same parsed tree, not a new parse
    assert [key for key in document_cache.VALIDATED._items if key[1] == QUERY] == validated


async def test_limits_still_see_each_requests_variables(make_client):
    client = await make_client(graphql_max_cost=50)
    assert "errors" not in await gql(client, QUERY, {"n": 2})  # cached as valid
    refused = await gql(client, QUERY, {"n": 100})
    assert refused.get("data") is None
    assert _code(refused) == "COST_ESTIMATED_TOO_EXPENSIVE"


async def test_a_smaller_token_budget_is_not_bypassed_by_the_cache(make_client):
    query = "{ services(first: 1) { edges { node { id slug name category } } } }"
    roomy = await make_client(graphql_max_tokens=2000)
    assert "errors" not in await gql(roomy, query)
    tight = await make_client(graphql_max_tokens=10)
    assert _code(await gql(tight, query)) == "MAX_TOKENS_LIMIT"


async def test_production_refuses_introspection_cached_as_valid_in_development(make_client):
    query = "{ __schema { queryType { name } } }"
    development = await make_client()
    assert "errors" not in await gql(development, query)
    production = await make_client(env="production", subgraph_secret="s" * 32)
    refused = await gql(production, query)
    assert refused.get("data") is None
    assert "introspection" in refused["errors"][0]["message"].lower()


async def test_invalid_documents_are_not_cached_and_keep_their_errors(client):
    query = "{ services { edges { node { noSuchField } } } }"
    first = await gql(client, query)
    second = await gql(client, query)
    assert _code(first) == _code(second) == "GRAPHQL_VALIDATION_FAILED"
    assert first["errors"] == second["errors"]
    assert not [key for key in document_cache.VALIDATED._items if key[1] == query]
    broken = "{ services { "
    assert _code(await gql(client, broken)) == "GRAPHQL_PARSE_FAILED"
    assert _parsed_document(broken) is None


def test_the_cache_is_bounded():
    lru: document_cache.LRU[str, bool] = document_cache.LRU(2)
    for key in ("a", "b", "c"):
        lru.put(key, True)
    assert len(lru) == 2
    assert lru.get("a") is None
    assert lru.get("c") is True
