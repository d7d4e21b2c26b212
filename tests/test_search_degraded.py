"""Elasticsearch unreachable: search answers from the built-in index and says so."""

from __future__ import annotations

import socket
from pathlib import Path

import httpx
import pytest

from graph.settings import Settings
from tests.conftest import gql
from tests.search_support import SEARCH, indexer_of, search_settings


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def settings(backend: str, database_url: str, tmp_path: Path) -> Settings:
    return search_settings(
        "elasticsearch",
        database_url,
        tmp_path,
        elasticsearch_url=f"http://127.0.0.1:{closed_port()}",
    )


async def rebuild_builtin(client: httpx.AsyncClient) -> None:
    """Rebuild only the built-in index (Elasticsearch is unreachable in these tests)."""
    indexer = indexer_of(client)
    async with indexer.indexes.write_lock:
        await indexer.rebuild_builtin()


async def test_search_falls_back_to_builtin_and_flags_degraded(
    seeded_client: httpx.AsyncClient, backend: str
):
    await rebuild_builtin(seeded_client)
    body = await gql(seeded_client, SEARCH, {"query": "embeddigns", "first": 3})
    assert "errors" not in body, body
    assert body["extensions"]["degraded"] is True
    result = body["data"]["searchServices"]
    assert result["backend"] == ("postgres" if backend == "postgres" else "sqlite-fts5")
    assert {e["node"]["service"]["category"] for e in result["edges"]} == {"embeddings"}

    suggest = await gql(seeded_client, '{ suggestServices(prefix: "lexica") { name } }')
    assert suggest["extensions"]["degraded"] is True
    assert suggest["data"]["suggestServices"]

    ready = await seeded_client.get("/health/ready")
    assert ready.status_code == 503
    assert ready.json()["backends"]["elasticsearch"]["status"] == "down"


async def test_healthy_answers_carry_no_degraded_flag(seeded_client: httpx.AsyncClient):
    await rebuild_builtin(seeded_client)
    settings_ok = await gql(seeded_client, "{ trendingServices(first: 1) { id } }")
    assert "degraded" not in (settings_ok.get("extensions") or {})
