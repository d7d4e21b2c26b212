"""MARKETPLACE_ENV=production: introspection, GraphiQL and suggestions off, errors masked."""
# ruff: noqa: F401, F811  (the make_client fixture is imported, then requested by name)

from __future__ import annotations

import pytest

from resolvers import governance
from tests.security_clients import make_client

SECRET = "router-shared-secret"


@pytest.fixture
async def prod(make_client):
    return await make_client(env="production", subgraph_secret=SECRET)


async def test_introspection_is_off(prod, client):
    query = {"query": "{ __schema { types { name } } }"}
    refused = (await prod.post("/graphql", json=query)).json()
    assert refused["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "introspection" in refused["errors"][0]["message"].lower()
    assert "errors" not in (await client.post("/graphql", json=query)).json()  # development
    typename = (await prod.post("/graphql", json={"query": "{ __typename }"})).json()
    assert typename["data"] == {"__typename": "Query"}


async def test_graphiql_is_off(prod):
    assert (await prod.get("/graphql", headers={"accept": "text/html"})).status_code == 404


async def test_field_suggestions_are_off(prod, client):
    query = {"query": "{ policie { name } }"}
    assert "Did you mean" in (await client.post("/graphql", json=query)).text
    body = (await prod.post("/graphql", json=query)).json()
    assert "Did you mean" not in body["errors"][0]["message"]


async def test_unexpected_error_is_masked_with_code_and_request_id(prod, monkeypatch):
    async def broken(*args, **kwargs):
        raise RuntimeError("database password is hunter2")

    monkeypatch.setattr(governance, "list_policies", broken)
    response = await prod.post(
        "/graphql", json={"query": "{ policies { name } }"}, headers={"X-Request-ID": "req-42"}
    )
    error = response.json()["errors"][0]
    assert error["message"] == "Internal server error."
    assert error["extensions"] == {"code": "INTERNAL_SERVER_ERROR", "requestId": "req-42"}
    assert "hunter2" not in response.text and "Traceback" not in response.text


async def test_expected_errors_keep_their_message_and_code(prod):
    body = (await prod.post("/graphql", json={"query": "{ me { id } }"})).json()
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_subgraph_endpoints_need_the_shared_secret(prod, make_client):
    query = {"query": "{ _service { sdl } }"}
    refused = await prod.post("/subgraphs/catalog/graphql", json=query)
    assert refused.status_code == 403
    wrong = await prod.post(
        "/subgraphs/catalog/graphql", json=query, headers={"X-Subgraph-Secret": "guess"}
    )
    assert wrong.status_code == 403
    ok = await prod.post(
        "/subgraphs/catalog/graphql", json=query, headers={"X-Subgraph-Secret": SECRET}
    )
    assert ok.status_code == 200 and "type Service" in ok.json()["data"]["_service"]["sdl"]
    no_secret = await make_client(env="production")  # unconfigured: closed, not open
    assert (await no_secret.post("/subgraphs/catalog/graphql", json=query)).status_code == 403
