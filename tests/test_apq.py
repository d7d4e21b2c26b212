"""Persisted operations: APQ (in-process and Redis) and trusted documents."""
# ruff: noqa: F401, F811  (the make_client fixture is imported, then requested by name)

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path
from typing import Any

import httpx
import redis.asyncio as aioredis

from graph.persisted import RedisPersistedQueryStore, sha256_hex
from tests.security_clients import make_client

QUERY = "{ policies { name } }"


def _apq(sha: str, query: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": sha}}}
    if query is not None:
        body["query"] = query
    return body


async def _handshake(client: httpx.AsyncClient) -> None:
    query = f"{QUERY} # {uuid.uuid4().hex}"  # unique: Redis outlives the test
    sha = sha256_hex(query)
    miss = (await client.post("/graphql", json=_apq(sha))).json()
    assert miss["errors"][0]["message"] == "PersistedQueryNotFound"
    assert miss["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    stored = (await client.post("/graphql", json=_apq(sha, query))).json()
    assert "errors" not in stored and "policies" in stored["data"]
    hit = (await client.post("/graphql", json=_apq(sha))).json()
    assert hit == stored


async def test_apq_handshake_in_process(make_client):
    await _handshake(await make_client(redis_url=None))


async def test_apq_handshake_in_redis_is_shared_by_replicas(make_client):
    redis_url = os.environ.get("MARKETPLACE_REDIS_URL")
    assert redis_url, "start the local services (Redis)"
    query = "{ policies { name description } }  # " + uuid.uuid4().hex
    sha = sha256_hex(query)
    first = await make_client(redis_url=redis_url)
    second = await make_client(redis_url=redis_url)
    assert (await first.post("/graphql", json=_apq(sha, query))).json()["data"] is not None
    replayed = (await second.post("/graphql", json=_apq(sha))).json()
    assert "errors" not in replayed and "policies" in replayed["data"]
    client = aioredis.from_url(redis_url)
    assert await client.ttl(f"marketplace:apq:{sha}") > 0
    await client.aclose()


async def test_redis_outage_falls_back_to_the_in_process_store():
    store = RedisPersistedQueryStore(aioredis.from_url("redis://127.0.0.1:1"), ttl_seconds=60)
    await store.put("abc", QUERY)
    assert await store.get("abc") == QUERY


async def test_hash_mismatch_is_refused(make_client):
    client = await make_client()
    body = (await client.post("/graphql", json=_apq("0" * 64, QUERY))).json()
    assert body["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_HASH_MISMATCH"


async def test_trusted_documents_accept_only_the_manifest(make_client, tmp_path: Path):
    manifest = tmp_path / "manifest.json"
    manifest.write_text(
        json.dumps(
            {
                "format": "apollo-persisted-query-manifest",
                "version": 1,
                "operations": [{"id": sha256_hex(QUERY), "body": QUERY, "name": "P"}],
            }
        )
    )
    client = await make_client(trusted_documents=str(manifest))
    by_hash = (await client.post("/graphql", json=_apq(sha256_hex(QUERY)))).json()
    assert "errors" not in by_hash
    by_text = (await client.post("/graphql", json={"query": QUERY})).json()
    assert "errors" not in by_text
    other = await client.post(
        "/graphql",
        json={"query": "{ policies { id } }"},
        headers={"accept": "application/graphql-response+json"},
    )
    assert other.status_code == 400
    assert other.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_IN_LIST"
    register = (await client.post("/graphql", json=_apq(sha256_hex("{ x }"), "{ x }"))).json()
    assert register["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_IN_LIST"
