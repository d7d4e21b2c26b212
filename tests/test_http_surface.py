"""GraphQL over HTTP: media types and status codes, GET rules, CSRF, CORS, headers, size."""
# ruff: noqa: F401, F811  (the make_client fixture is imported, then requested by name)

from __future__ import annotations

import httpx

from tests.security_clients import make_client

GQL_RESPONSE = "application/graphql-response+json"


async def test_graphql_response_json_is_served_and_request_errors_are_400(client):
    ok = await client.post(
        "/graphql", json={"query": "{ policies { name } }"}, headers={"accept": GQL_RESPONSE}
    )
    assert ok.status_code == 200 and ok.headers["content-type"].startswith(GQL_RESPONSE)
    for query in ("{ policies { ", "{ nope }"):
        bad = await client.post("/graphql", json={"query": query}, headers={"accept": GQL_RESPONSE})
        assert bad.status_code == 400, bad.text
        assert "data" not in bad.json()
        assert bad.json()["errors"][0]["extensions"]["code"] in {
            "GRAPHQL_PARSE_FAILED",
            "GRAPHQL_VALIDATION_FAILED",
        }
    coerce = await client.post(
        "/graphql",
        json={
            "query": "query($a: Boolean!) { policies(activeOnly: $a) { name } }",
            "variables": {"a": "yes"},
        },
        headers={"accept": GQL_RESPONSE},
    )
    assert coerce.status_code == 400
    assert coerce.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_legacy_json_keeps_200_for_request_errors(client):
    bad = await client.post("/graphql", json={"query": "{ nope }"})
    assert bad.status_code == 200
    assert bad.headers["content-type"].startswith("application/json")


async def test_get_runs_queries_but_mutations_answer_405(client):
    ok = await client.get(
        "/graphql",
        params={"query": "{ policies { name } }"},
        headers={"accept": "application/json"},
    )
    assert ok.status_code == 200 and "errors" not in ok.json()
    mutation = await client.get(
        "/graphql",
        params={"query": 'mutation { revokeApiKey(input: {id: "x"}) { __typename } }'},
        headers={"accept": "application/json"},
    )
    assert mutation.status_code == 405
    assert mutation.headers["allow"] == "POST"


async def test_csrf_simple_requests_are_refused(client):
    for content_type, body in (
        ("text/plain", '{"query": "{ policies { name } }"}'),
        ("application/x-www-form-urlencoded", "query=%7B+policies+%7B+name+%7D+%7D"),
        ("multipart/form-data; boundary=x", "--x--"),
    ):
        response = await client.post(
            "/graphql", content=body, headers={"content-type": content_type}
        )
        assert response.status_code == 400, content_type
        assert "Content-Type" in response.json()["errors"][0]["message"]
    bare_get = await client.get(
        "/graphql", params={"query": "{ policies { name } }"}, headers={"accept": "*/*"}
    )
    assert bare_get.status_code == 400
    preflighted = await client.get(
        "/graphql",
        params={"query": "{ policies { name } }"},
        headers={"accept": "*/*", "GraphQL-Require-Preflight": "1"},
    )
    assert preflighted.status_code == 200


async def test_batching_is_off_by_default_and_capped_when_on(client, make_client):
    batch = [{"query": "{ policies { name } }"}] * 2
    assert (await client.post("/graphql", json=batch)).status_code == 400
    capped = await make_client(graphql_max_batch=2)
    assert (await capped.post("/graphql", json=batch)).status_code == 200
    assert (await capped.post("/graphql", json=batch * 2)).status_code == 400


async def test_body_size_limit(make_client):
    small = await make_client(graphql_max_body_bytes=2048)
    response = await small.post("/graphql", json={"query": "{ policies { name } }" + " " * 4096})
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"


async def test_security_headers_on_every_answer(client):
    response = await client.post("/graphql", json={"query": "{ policies { name } }"})
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert "default-src 'none'" in response.headers["content-security-policy"]
    assert (await client.get("/health")).headers["referrer-policy"] == "no-referrer"


async def test_cors_allows_only_the_allowlist(make_client):
    http = await make_client(cors_allow_origins=["https://app.example"])
    allowed = await http.options(
        "/graphql",
        headers={
            "origin": "https://app.example",
            "access-control-request-method": "POST",
            "access-control-request-headers": "content-type",
        },
    )
    assert allowed.headers["access-control-allow-origin"] == "https://app.example"
    refused = await http.options(
        "/graphql",
        headers={"origin": "https://evil.example", "access-control-request-method": "POST"},
    )
    assert "access-control-allow-origin" not in refused.headers


async def test_request_timeout_answers_504(make_client, monkeypatch):
    import asyncio

    from resolvers import governance

    async def slow(*args, **kwargs):
        await asyncio.sleep(5)

    monkeypatch.setattr(governance, "list_policies", slow)
    http: httpx.AsyncClient = await make_client(request_timeout_seconds=0.2)
    response = await http.post("/graphql", json={"query": "{ policies { name } }"})
    assert response.status_code == 504
    assert response.json()["errors"][0]["extensions"]["code"] == "GATEWAY_TIMEOUT"
