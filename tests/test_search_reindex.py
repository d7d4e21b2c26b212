"""``marketplace-gateway search reindex``: rebuilds with progress; on Elasticsearch a new index
behind the alias, swapped without a gap."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from elasticsearch import AsyncElasticsearch

from graph.cli import main
from graph.runtime import Runtime
from graph.settings import load_settings
from persistence.migrate import upgrade
from persistence.search.base import SearchFilter
from persistence.search.cli import rebuild_indexes
from persistence.search.elastic import ask_for_v8_compatibility
from persistence.seed import seed_demo
from persistence.seed_data import SERVICES
from tests.conftest import service_url
from tests.search_support import search_settings


async def _seeded_sqlite(path: Path) -> str:
    url = f"sqlite+aiosqlite:///{path}"
    await upgrade(url)
    runtime = Runtime.create(load_settings(database_url=url, elasticsearch_url=None))
    try:
        await seed_demo(runtime.session_factory)
    finally:
        await runtime.close()
    return url


def test_cli_reindexes_the_builtin_index_with_progress(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    url = asyncio.run(_seeded_sqlite(tmp_path / "cli.db"))
    monkeypatch.setenv("MARKETPLACE_DATABASE_URL", url)
    monkeypatch.setenv("MARKETPLACE_ELASTICSEARCH_URL", "")
    assert main(["search", "reindex"]) == 0
    out, err = capsys.readouterr()
    total = len(SERVICES)
    assert f"sqlite-fts5: {total} services indexed" in out
    assert f"{total}/{total}" in err and "[" in err


async def test_elasticsearch_reindex_swaps_the_alias(tmp_path: Path):
    url = await _seeded_sqlite(tmp_path / "es.db")
    settings = search_settings("elasticsearch", url, tmp_path)
    es = AsyncElasticsearch(service_url("MARKETPLACE_ELASTICSEARCH_URL"))
    ask_for_v8_compatibility(es)
    runtime = Runtime.create(settings)
    try:
        first = await rebuild_indexes(settings)
        assert "alias" in first
        before = set(await es.indices.get_alias(name=settings.elasticsearch_index))
        await rebuild_indexes(settings)
        after = set(await es.indices.get_alias(name=settings.elasticsearch_index))
        assert len(before) == len(after) == 1
        assert before != after  # a new index took the alias; the old one is gone
        assert not await es.indices.exists(index=next(iter(before)))
        assert runtime.search.elastic is not None
        result = await runtime.search.elastic.match(
            "embeddigns", SearchFilter(statuses=("ACTIVE",))
        )
        assert {m.doc.category for m in result.matches[:4]} == {"embeddings"}
    finally:
        if runtime.search.elastic is not None:
            await runtime.search.elastic.drop()
        await runtime.close()
        await es.close()
