"""The built-in index's result cache (persistence/search/result_cache.py): a repeated or paged
search is answered from memory, and never once the index has changed, whoever changed it."""

from __future__ import annotations

import contextvars
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import event, text

from graph.runtime import Runtime
from graph.settings import Settings
from persistence.models import ServiceStatus
from persistence.search import builtin
from persistence.search.base import SearchFilter
from persistence.search.documents import load_documents
from persistence.search.ranked import FacetCounts, RankedQuery, RankWeights
from persistence.search.result_cache import RankedResult, ResultCache
from tests.search_support import (
    SEARCH_BACKENDS,
    change_status,
    indexed,
    runtime_of,
    search,
    search_settings,
    within,
)

BUILTIN_BACKENDS = {k: v for k, v in SEARCH_BACKENDS.items() if k != "elasticsearch"}
INDEX_TABLES = ("search_terms", "search_documents", "search_fts")


@pytest.fixture(params=list(BUILTIN_BACKENDS))
def search_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def backend(search_backend: str) -> str:
    return BUILTIN_BACKENDS[search_backend]


@pytest.fixture
def settings(search_backend: str, database_url: str, tmp_path: Path) -> Settings:
    return search_settings(search_backend, database_url, tmp_path)


@pytest.fixture
async def app(seeded_client: httpx.AsyncClient) -> AsyncIterator[httpx.AsyncClient]:
    async for client in indexed(seeded_client):
        yield client


def _ids(result: dict[str, Any]) -> list[str]:
    return [e["node"]["service"]["id"] for e in result["edges"]]


async def _uncached(app: httpx.AsyncClient, **variables: Any) -> dict[str, Any]:
    runtime_of(app).search.builtin.results.clear()
    return await search(app, **variables)


def _index_reads(statements: list[str]) -> list[str]:
    return [s for s in statements if any(t in s for t in INDEX_TABLES)]


async def test_repeats_and_next_pages_are_not_ranked_again(
    app: httpx.AsyncClient, count_statements: Any
):
    engine = runtime_of(app).engine
    first = await search(app, query="multilingual", first=3)
    with count_statements(engine) as repeat:
        again = await search(app, query="multilingual", first=3)
    with count_statements(engine) as next_page:
        second = await search(
            app, query="multilingual", first=3, after=first["pageInfo"]["endCursor"]
        )
    assert _index_reads(repeat.statements) == []
    # The next page only reads its own documents, by key.
    (documents,) = _index_reads(next_page.statements)
    assert "WHERE search_documents.service_id IN" in documents
    # Served from memory with the same hits, highlights included (kept with the documents).
    assert again == {**first, "tookMs": again["tookMs"]}
    assert all(e["node"]["highlights"] for e in again["edges"] + second["edges"])
    fresh = await _uncached(
        app, query="multilingual", first=3, after=first["pageInfo"]["endCursor"]
    )
    assert second == {**fresh, "tookMs": second["tookMs"]}


async def test_a_first_time_search_of_known_words_reads_no_vocabulary(
    app: httpx.AsyncClient, count_statements: Any
):
    engine = runtime_of(app).engine
    await search(app, query="multilingual", first=3)  # loads this generation's snapshot
    with count_statements(engine) as known:
        result = await search(app, query="embeddings rerank", first=3)
    with count_statements(engine) as typo:
        corrected = await search(app, query="embeddigns", first=3)
    assert result["totalCount"] > 0 and corrected["totalCount"] > 0
    # The snapshot's vocabulary knows both words; an unknown one is looked up, with its
    # near misses, in the vocabulary table.
    assert [s for s in known.statements if "search_terms" in s] == []
    assert [s for s in typo.statements if "search_terms" in s] != []


async def test_a_search_request_reads_through_one_connection(app: httpx.AsyncClient):
    # The search and the loaders of its hits' services share the request's session.
    pool = runtime_of(app).engine.sync_engine.pool
    mine: contextvars.ContextVar[bool] = contextvars.ContextVar("mine", default=False)
    checkouts: list[int] = []

    def checkout(*_: Any) -> None:
        if mine.get():  # this test's tasks only, not the gateway's background workers
            checkouts.append(1)

    event.listen(pool, "checkout", checkout)
    token = mine.set(True)
    try:
        result = await _uncached(app, query="multilingual", first=3)
    finally:
        mine.reset(token)
        event.remove(pool, "checkout", checkout)
    assert result["edges"][0]["node"]["service"]["name"]
    assert len(checkouts) == 1


@pytest.mark.parametrize("search_backend", ["postgres"])
async def test_a_search_leaves_the_callers_session_settings_as_they_were(app: httpx.AsyncClient):
    # PostgreSQL plans the search's own statements for their words (docs/search.md); the
    # request's loaders that read on in the same transaction keep their prepared plans.
    runtime = runtime_of(app)
    async with runtime.session_factory() as session:
        before = await session.scalar(text("SHOW plan_cache_mode"))
        flt = SearchFilter(statuses=("ACTIVE",))
        ask = RankedQuery((), "RELEVANCE", 0, 3, RankWeights(0.4, 0.2, 0.2, 0.2))
        page = await runtime.search.builtin.ranked_search("multilingual", flt, ask, session)
        assert page.hits and session.in_transaction()
        assert await session.scalar(text("SHOW plan_cache_mode")) == before


async def test_a_suspended_service_is_not_served_from_the_cache(app: httpx.AsyncClient):
    async def slugs() -> set[str]:
        result = await search(app, query="rerank", first=50)
        return {e["node"]["service"]["slug"] for e in result["edges"]}

    assert "lexica-rerank-v2" in await slugs()
    assert "lexica-rerank-v2" in await slugs()  # now answered from the cache
    await change_status(app, "lexica-rerank-v2", ServiceStatus.SUSPENDED)

    async def gone() -> bool:
        return "lexica-rerank-v2" not in await slugs()

    await within(1.0, gone)


async def test_a_signals_refresh_is_not_served_from_the_cache(app: httpx.AsyncClient):
    before = await search(app, sort="POPULARITY", first=5)
    last = _ids(before)[-1]
    runtime = runtime_of(app)
    async with runtime.session_factory() as session:
        (doc,) = await load_documents(session, [last])
    # What the periodic refresh writes when a service's usage grows.
    await runtime.search.builtin.upsert([replace(doc, usage_count=10**9)])
    after = await search(app, sort="POPULARITY", first=5)
    assert _ids(after)[0] == last


async def test_a_write_by_another_process_is_not_served_from_the_cache(
    app: httpx.AsyncClient, settings: Settings
):
    before = _ids(await search(app, query="embeddings", first=10))
    # Another gateway process on the same database: its own engine, index and cache.
    other = Runtime.create(settings)
    try:
        await other.search.builtin.delete([before[0]])
    finally:
        await other.close()
    after = _ids(await search(app, query="embeddings", first=10))
    assert before[0] not in after
    assert after == _ids(await _uncached(app, query="embeddings", first=10))


@pytest.mark.parametrize("sort", ["RELEVANCE", "POPULARITY", "NEWEST", "PRICE_ASC"])
async def test_pages_past_the_ranked_window_match_uncached_pages(
    app: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch, sort: str
):
    # A window smaller than the result, so paging on must extend the cached ranking.
    monkeypatch.setattr(builtin, "RANKED_WINDOW", 4)
    cached: list[str] = []
    uncached: list[str] = []
    after = None
    while True:
        page = await search(app, query="model", sort=sort, first=3, after=after)
        fresh = await _uncached(app, query="model", sort=sort, first=3, after=after)
        cached += _ids(page)
        uncached += _ids(fresh)
        assert page["totalCount"] == fresh["totalCount"]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert cached == uncached
    assert len(set(cached)) == len(cached) == page["totalCount"] > 4


def _result(total: int) -> RankedResult:
    return RankedResult((), [], True, total, FacetCounts([], [], [], []))


def test_the_cache_holds_one_generation_and_a_bounded_number_of_results():
    cache = ResultCache(max_entries=2)
    cache.put(1, "a", _result(1))
    cache.put(1, "b", _result(2))
    assert cache.get(1, "a") is not None  # "a" is now the most recently used
    cache.put(1, "c", _result(3))
    assert (cache.get(1, "b"), len(cache)) == (None, 2)
    # A newer generation drops every older result; a result computed under an older one
    # than the cache has seen is not kept.
    assert cache.get(2, "a") is None
    cache.put(1, "a", _result(1))
    assert (cache.get(2, "a"), len(cache)) == (None, 0)
