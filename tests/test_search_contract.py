"""The search contract, run identically against every backend: SQLite FTS5, PostgreSQL
full-text + pg_trgm, and Elasticsearch."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from rapidfuzz.distance import OSA
from sqlalchemy import select

from graph.settings import Settings
from persistence.models import Service, ServiceStatus
from persistence.search.base import tokenize
from persistence.search.ranked import RankedQuery, RankWeights, rank_in_memory
from persistence.search.text import max_edits
from resolvers.search import search_filter
from resolvers.search_ranking import Weights
from tests.conftest import gql
from tests.search_support import (
    SEARCH_BACKENDS,
    change_service,
    change_status,
    indexed,
    runtime_of,
    search,
    search_error,
    search_settings,
    within,
)


@pytest.fixture(params=list(SEARCH_BACKENDS))
def search_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def backend(search_backend: str) -> str:
    return SEARCH_BACKENDS[search_backend]


@pytest.fixture
def settings(search_backend: str, database_url: str, tmp_path: Path) -> Settings:
    return search_settings(search_backend, database_url, tmp_path)


@pytest.fixture
async def app(seeded_client: httpx.AsyncClient) -> AsyncIterator[httpx.AsyncClient]:
    async for client in indexed(seeded_client):
        yield client


async def _services(client: httpx.AsyncClient) -> list[Service]:
    async with runtime_of(client).session_factory() as session:
        return list((await session.scalars(select(Service))).all())


# --- relevance -------------------------------------------------------------------------------


async def test_answers_from_the_configured_backend(app: httpx.AsyncClient, search_backend: str):
    assert (await search(app, query="chat"))["backend"] == search_backend


async def test_typo_finds_embedding_services_first(app: httpx.AsyncClient):
    result = await search(app, query="embeddigns", first=10)
    categories = [e["node"]["service"]["category"] for e in result["edges"]]
    embedding_count = sum(
        1
        for s in await _services(app)
        if s.category == "embeddings" and s.status == ServiceStatus.ACTIVE
    )
    assert embedding_count >= 3
    assert categories[:embedding_count] == ["embeddings"] * embedding_count


async def test_a_typo_beside_a_known_word_is_corrected_and_the_known_word_kept(
    app: httpx.AsyncClient,
):
    typo = await search(app, query="multilingual embeddigns")
    exact = await search(app, query="multilingual embeddings")
    alone = await search(app, query="multilingual")
    # Each word adds its matches: the typo's (as corrected, or matched fuzzily), and the known
    # word's own, which its neighbour's correction leaves as it is.
    assert typo["totalCount"] == exact["totalCount"] > alone["totalCount"] > 0


async def test_a_word_the_index_knows_matches_only_itself(app: httpx.AsyncClient):
    # Typo tolerance is for words the index lacks: a correctly spelled word does not also
    # match its neighbours (on Elasticsearch, fuzzy matching only the unknown words).
    indexes = runtime_of(app).search
    engine = indexes.elastic or indexes.builtin
    flt = search_filter()
    docs = (await engine.match("", flt)).matches
    words = {w for m in docs for text in m.doc.text_fields.values() for w in tokenize(text)}
    word, neighbour = min(
        (a, b)
        for a in words
        for b in words
        if a != b and a.isalpha() and max_edits(a) and OSA.distance(a, b) <= max_edits(a)
    )
    hits = (await engine.match(word, flt)).matches
    assert hits, (word, neighbour)
    for hit in hits:
        tokens = {w for text in hit.doc.text_fields.values() for w in tokenize(text)}
        assert word in tokens, (word, neighbour, hit.doc.name)


async def test_name_matches_rank_first_and_are_highlighted(app: httpx.AsyncClient):
    result = await search(app, query="rerank")
    top = result["edges"][0]["node"]
    assert "rerank" in top["service"]["name"].lower()
    assert any("<em>" in h and "rerank" in h.lower() for h in top["highlights"])
    for edge in result["edges"]:
        node = edge["node"]
        assert node["highlights"], node["service"]["name"]


async def test_score_is_the_sum_of_its_breakdown(app: httpx.AsyncClient):
    result = await search(app, query="streaming speech")
    assert result["totalCount"] > 0
    scores = [e["node"]["score"] for e in result["edges"]]
    assert scores == sorted(scores, reverse=True)
    for edge in result["edges"]:
        node = edge["node"]
        parts = node["scoreBreakdown"]
        assert sum(parts.values()) == pytest.approx(node["score"], abs=1e-5)
        assert 0 < parts["relevance"] <= 0.4 + 1e-9
        assert 0 <= parts["compliance"] <= 0.2 + 1e-9


@pytest.mark.parametrize("sort", ["RELEVANCE", "POPULARITY", "NEWEST", "PRICE_ASC"])
async def test_engine_ranking_agrees_with_the_reference(app: httpx.AsyncClient, sort: str):
    # The engine ranks, pages and counts itself; the in-memory reference ranks every match
    # of the same engine. Same page (ids and relevance), same total and facets.
    indexes = runtime_of(app).search
    engine = indexes.elastic or indexes.builtin
    weights = Weights.from_settings(runtime_of(app).settings)
    w = RankWeights(weights.relevance, weights.popularity, weights.performance, weights.compliance)
    flt = search_filter()
    for query in ("multilingual embeddings", "embeddigns", ""):
        ask = RankedQuery((), sort, 2, 6, w)
        page = await engine.ranked_search(query, flt, ask)
        reference = rank_in_memory(await engine.match(query, flt), ask)
        assert [h.doc.service_id for h in page.hits] == [
            h.doc.service_id for h in reference.hits
        ], query
        assert [h.relevance for h in page.hits] == pytest.approx(
            [h.relevance for h in reference.hits], abs=1e-5
        )
        assert (page.total, page.facets) == (reference.total, reference.facets)


async def test_empty_query_browses_by_popularity(app: httpx.AsyncClient):
    active = [s for s in await _services(app) if s.status == ServiceStatus.ACTIVE]
    result = await search(app, query="  ", first=100)
    assert result["totalCount"] == len(active)
    popularity = [e["node"]["scoreBreakdown"]["popularity"] for e in result["edges"]]
    assert popularity == sorted(popularity, reverse=True)
    assert all(e["node"]["scoreBreakdown"]["relevance"] == 0 for e in result["edges"])
    assert all(e["node"]["highlights"] == [] for e in result["edges"])


# --- filters ---------------------------------------------------------------------------------


async def test_default_status_filter_is_active_only(app: httpx.AsyncClient):
    services = await _services(app)
    hidden = [s for s in services if s.status != ServiceStatus.ACTIVE]
    assert hidden
    result = await search(app, first=100)
    shown = {e["node"]["service"]["id"] for e in result["edges"]}
    assert shown.isdisjoint({s.id for s in hidden})
    assert {e["node"]["service"]["status"] for e in result["edges"]} == {"ACTIVE"}
    suspended = await search(app, filter={"statuses": ["SUSPENDED"]}, first=100)
    assert {e["node"]["service"]["status"] for e in suspended["edges"]} == {"SUSPENDED"}


async def test_filters_by_category_tag_and_provider(app: httpx.AsyncClient):
    result = await search(app, filter={"categories": ["embeddings"]}, first=100)
    assert result["totalCount"] >= 3
    assert {e["node"]["service"]["category"] for e in result["edges"]} == {"embeddings"}

    tagged = await search(app, filter={"tags": ["rag", "ocr"]}, first=100)
    assert tagged["totalCount"] > 0
    for edge in tagged["edges"]:
        assert {"rag", "ocr"} & set(edge["node"]["service"]["tags"])

    provider = result["edges"][0]["node"]["service"]["provider"]["id"]
    own = await search(app, query="embeddings", filter={"providerIds": [provider]}, first=100)
    assert own["totalCount"] > 0
    assert {e["node"]["service"]["provider"]["id"] for e in own["edges"]} == {provider}


async def test_filters_by_pricing_price_and_compliance(app: httpx.AsyncClient):
    per_request = await search(app, filter={"pricingModels": ["PER_REQUEST"]}, first=100)
    per_token = await search(app, filter={"pricingModels": ["PER_TOKEN"]}, first=100)
    everything = await search(app, first=100)
    assert per_request["totalCount"] + per_token["totalCount"] == everything["totalCount"]

    cheap = await search(app, filter={"maxPricePer1k": "0.0001"}, first=100)
    assert 0 < cheap["totalCount"] < per_token["totalCount"]
    assert {f["value"] for f in cheap["facets"]["pricingModels"]} == {"PER_TOKEN"}

    strict = await search(app, filter={"minComplianceScore": "0.9"}, first=100)
    assert strict["totalCount"] == everything["totalCount"] - 1  # one seeded finding at 0.8
    assert "forgeline-code-edge" not in {e["node"]["service"]["slug"] for e in strict["edges"]}


async def test_unknown_category_is_an_empty_result(app: httpx.AsyncClient):
    result = await search(app, query="chat", filter={"categories": ["no-such-category"]})
    assert result["totalCount"] == 0
    assert result["edges"] == []
    assert result["facets"]["categories"] == []
    assert result["pageInfo"]["hasNextPage"] is False


async def test_a_word_nothing_contains_is_an_empty_result(app: httpx.AsyncClient):
    result = await search(app, query="xylophone")
    assert (result["totalCount"], result["edges"]) == (0, [])
    assert result["facets"]["tags"] == [] and result["pageInfo"]["hasNextPage"] is False


# --- facets, sorting, paging -------------------------------------------------------------------


async def test_facets_count_every_hit(app: httpx.AsyncClient):
    result = await search(app, query="multilingual", first=1)
    total = result["totalCount"]
    assert total > 1
    facets = result["facets"]
    assert sum(v["count"] for v in facets["categories"]) == total
    assert sum(v["count"] for v in facets["providers"]) == total
    assert sum(v["count"] for v in facets["pricingModels"]) == total
    tag_counts = {v["value"]: v["count"] for v in facets["tags"]}
    assert tag_counts["multilingual"] <= total
    counts = [v["count"] for v in facets["categories"]]
    assert counts == sorted(counts, reverse=True)


async def test_pages_through_all_hits_without_repeats(app: httpx.AsyncClient):
    seen: list[str] = []
    after = None
    pages = 0
    while True:
        page = await search(app, first=7, after=after)
        seen += [e["node"]["service"]["id"] for e in page["edges"]]
        pages += 1
        assert page["pageInfo"]["hasPreviousPage"] is (after is not None)
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert len(seen) == len(set(seen)) == page["totalCount"]
    assert pages == -(-page["totalCount"] // 7)


async def test_sorts_newest_and_cheapest(app: httpx.AsyncClient):
    newest = await search(app, sort="NEWEST", first=100)
    created = [e["node"]["service"]["createdAt"] for e in newest["edges"]]
    assert created == sorted(created, reverse=True)

    cheapest = await search(app, sort="PRICE_ASC", filter={"pricingModels": ["PER_TOKEN"]})
    slugs = [e["node"]["service"]["slug"] for e in cheapest["edges"]]
    assert slugs[0] == "lexica-embed-small"  # the cheapest per-1K price in the demo data


async def test_suggestions_match_name_prefixes(app: httpx.AsyncClient):
    body = await gql(app, '{ suggestServices(prefix: "lexica emb", first: 5) { name status } }')
    suggestions = body["data"]["suggestServices"]
    assert suggestions
    assert all(s["name"].lower().startswith("lexica") for s in suggestions)
    assert all(" emb" in s["name"].lower() for s in suggestions)
    assert {s["status"] for s in suggestions} == {"ACTIVE"}


# --- bad input -------------------------------------------------------------------------------


async def test_bad_input_is_refused_with_a_stable_code(app: httpx.AsyncClient):
    too_long = await search_error(app, query="x" * 257)
    assert too_long["extensions"]["code"] == "BAD_USER_INPUT"
    too_many = await search_error(app, query="chat", first=101)
    assert too_many["extensions"]["code"] == "BAD_USER_INPUT"
    bad_cursor = await search_error(app, after="not-a-cursor")
    assert bad_cursor["extensions"]["code"] == "BAD_USER_INPUT"
    bad_score = await search_error(app, filter={"minComplianceScore": "1.5"})
    assert bad_score["extensions"]["code"] == "BAD_USER_INPUT"
    body = await gql(app, '{ suggestServices(prefix: "a", first: 500) { id } }')
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


# --- index sync from the outbox --------------------------------------------------------------


async def test_suspended_service_leaves_and_reinstated_returns_within_a_second(
    app: httpx.AsyncClient,
):
    async def rerank_slugs() -> set[str]:
        result = await search(app, query="rerank", first=50)
        return {e["node"]["service"]["slug"] for e in result["edges"]}

    assert "lexica-rerank-v2" in await rerank_slugs()
    await change_status(app, "lexica-rerank-v2", ServiceStatus.SUSPENDED)

    async def gone() -> bool:
        return "lexica-rerank-v2" not in await rerank_slugs()

    await within(1.0, gone)
    await change_status(app, "lexica-rerank-v2", ServiceStatus.ACTIVE)

    async def back() -> bool:
        return "lexica-rerank-v2" in await rerank_slugs()

    await within(1.0, back)


async def test_an_edited_service_is_found_by_its_new_words_within_a_second(
    app: httpx.AsyncClient,
):
    async def slugs(query: str) -> set[str]:
        result = await search(app, query=query, first=50)
        return {e["node"]["service"]["slug"] for e in result["edges"]}

    assert "lexica-rerank-v2" in await slugs("rerank")
    await change_service(
        app,
        "lexica-rerank-v2",
        "SERVICE_UPDATED",
        name="Lexica Quokka",
        description="Orders passages for retrieval.",
    )

    async def renamed() -> bool:
        return "lexica-rerank-v2" in await slugs("quokka")

    await within(1.0, renamed)
    assert "lexica-rerank-v2" not in await slugs("rerank")


# --- statement count ---------------------------------------------------------------------------


async def test_statement_count_does_not_grow_with_page_size(
    app: httpx.AsyncClient, count_statements: Any
):
    engine = runtime_of(app).engine

    async def statements(first: int) -> int:
        # Background tasks (indexer, relays, re-checks) share the engine: count the tables a
        # search reads, and take the fewest over a few runs (background work only adds).
        counts = []
        for _ in range(3):
            # A first-time search: the built-in index would answer a repeat from its cache.
            runtime_of(app).search.builtin.results.clear()
            with count_statements(engine) as counter:
                await search(app, query="multilingual", first=first)
            counts.append(sum(1 for s in counter.statements if _read_by_search(s)))
        return min(counts)

    await search(app, query="multilingual", first=1)  # warm up
    assert await statements(50) == await statements(1)


def _read_by_search(statement: str) -> bool:
    tables = ("search_terms", "search_documents", "search_fts", "FROM services", "FROM providers")
    return any(t in statement for t in tables)
