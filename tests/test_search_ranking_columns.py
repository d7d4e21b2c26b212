"""The built-in engines' in-memory ranking (persistence/search/ranking_columns.py) agrees with
the in-Python reference (``ranked.rank_in_memory`` over the matches the filter accepts) for
every filter and sort, on generated documents with ties, missing prices, missing compliance
scores and shared tags; and its columns are loaded once per index generation."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
import pytest

from persistence.search import signals
from persistence.search.base import IndexedService, Match, MatchResult, SearchFilter
from persistence.search.ranked import RankedQuery, RankWeights, rank_in_memory
from persistence.search.ranking_columns import ColumnsCache, RankingColumns, TextHits

WEIGHTS = RankWeights(0.4, 0.2, 0.2, 0.2)
TAGS = ["chat", "fast", "vision", "code", "rag", "audio"]
NOW = datetime(2026, 11, 1, tzinfo=UTC)


def _documents(count: int, seed: int) -> list[IndexedService]:
    rng = random.Random(seed)
    docs = []
    for i in range(count):
        priced = rng.random() < 0.8
        docs.append(
            IndexedService(
                service_id=f"{rng.randrange(16**8):08x}-{i:04d}",
                slug=f"s-{i}",
                name=f"Service {i}",
                description="",
                category=rng.choice(["chat", "embeddings", "speech"]),
                tags=tuple(rng.sample(TAGS, rng.randint(0, 3))),
                provider_id=f"p{rng.randint(1, 4)}",
                provider_name="",
                status=rng.choice(["ACTIVE", "ACTIVE", "ACTIVE", "SUSPENDED"]),
                pricing_model=rng.choice(["PER_TOKEN", "PER_REQUEST"]) if priced else None,
                price_per_1k=Decimal(rng.randint(1, 6)) / 1000 if priced else None,
                # Few distinct values: ties on every sort key.
                created_at=NOW - timedelta(days=rng.randint(0, 5)),
                usage_count=rng.choice([0, 10, 100]),
                p95_latency_ms=rng.choice([None, 200, 900]),
                error_rate=rng.choice([None, 0.0, 0.05]),
                compliance_score=rng.choice([None, Decimal("0.5"), Decimal("0.9")]),
            )
        )
    return docs


def _key(i: int) -> int:
    """The i-th document's row key: in no particular order, with gaps, as rowids may be."""
    return 10_000 - 7 * i


def _hits(pairs: list[tuple[int, float]]) -> TextHits:
    return np.array([k for k, _ in pairs], np.int64), np.array([s for _, s in pairs])


def _row(i: int, doc: IndexedService) -> tuple[Any, ...]:
    """The snapshot row of a document, in the plain values the dialects read."""
    return (
        _key(i),
        doc.service_id,
        doc.status,
        doc.category,
        doc.provider_id,
        doc.pricing_model,
        None if doc.price_per_1k is None else float(doc.price_per_1k),
        doc.usage_count,
        doc.created_at.timestamp(),
        None if doc.compliance_score is None else float(doc.compliance_score),
        signals.popularity(doc),
        signals.performance(doc),
        signals.compliance(doc),
        doc.tags,
    )


FILTERS = [
    SearchFilter(statuses=("ACTIVE",)),
    SearchFilter(statuses=("ACTIVE", "SUSPENDED"), categories=("speech", "chat")),
    SearchFilter(statuses=("ACTIVE",), tags=("vision", "rag")),
    SearchFilter(statuses=("ACTIVE",), provider_ids=("p2",), pricing_models=("PER_TOKEN",)),
    SearchFilter(statuses=("ACTIVE",), max_price_per_1k=Decimal("0.003")),
    SearchFilter(statuses=("ACTIVE",), min_compliance=Decimal("0.9")),
    SearchFilter(statuses=("ACTIVE",), categories=("no-such-category",)),
]


@pytest.mark.parametrize("sort", ["RELEVANCE", "POPULARITY", "NEWEST", "PRICE_ASC"])
@pytest.mark.parametrize("browse", [False, True])
def test_ranking_agrees_with_the_reference(sort: str, browse: bool) -> None:
    docs = _documents(300, seed=7)
    columns = RankingColumns(1, [_row(i, d) for i, d in enumerate(docs)])
    rng = random.Random(11)
    matched = [(i, d) for i, d in enumerate(docs) if browse or rng.random() < 0.7]
    # Text scores with ties (a few distinct values), as the same words score alike.
    scores = {d.service_id: 0.0 if browse else rng.choice([1.5, 2.0, 3.25]) for _, d in matched}
    hits = None if browse else _hits([(_key(i), scores[d.service_id]) for i, d in matched])
    for flt in FILTERS:
        ask = RankedQuery((), sort, 3, 40, WEIGHTS)
        result = columns.rank(hits, flt, ask, 100, ())
        accepted = [Match(d, scores[d.service_id]) for _, d in matched if flt.accepts(d)]
        reference = rank_in_memory(MatchResult(accepted), ask)
        page = result.ranked[ask.offset : ask.offset + ask.limit]
        assert [sid for sid, _ in page] == [h.doc.service_id for h in reference.hits], flt
        assert [r for _, r in page] == pytest.approx([h.relevance for h in reference.hits])
        assert (result.total, result.facets) == (reference.total, reference.facets), flt
        assert result.complete == (reference.total <= 100)
        # The whole window the result keeps (later pages are served from it), ties included.
        whole = rank_in_memory(MatchResult(accepted), RankedQuery((), sort, 0, 100, WEIGHTS))
        assert [sid for sid, _ in result.ranked] == [h.doc.service_id for h in whole.hits]


def test_hits_unknown_to_the_generation_wait_for_the_next_one() -> None:
    docs = _documents(5, seed=3)
    columns = RankingColumns(1, [_row(i, d) for i, d in enumerate(docs)])
    flt = SearchFilter(statuses=("ACTIVE", "SUSPENDED"))
    # Keys past either end of the snapshot's, and between two of them.
    hits = _hits([(_key(0), 1.0), (_key(0) + 1, 9.0), (_key(len(docs)), 9.0), (_key(1) + 1, 9.0)])
    result = columns.rank(hits, flt, RankedQuery((), "RELEVANCE", 0, 10, WEIGHTS), 100, ())
    assert result.ranked == [(docs[0].service_id, 1.0)]
    assert result.total == 1


def test_an_empty_index_ranks_nothing() -> None:
    columns = RankingColumns(1, [])
    for hits in (None, _hits([(3, 1.0)])):
        ask = RankedQuery((), "POPULARITY", 0, 10, WEIGHTS)
        result = columns.rank(hits, FILTERS[0], ask, 100, ())
        assert (result.ranked, result.total, result.facets.categories) == ([], 0, [])


async def test_columns_load_once_per_generation() -> None:
    cache = ColumnsCache()
    loads: list[int] = []
    rows = [_row(i, d) for i, d in enumerate(_documents(3, seed=5))]

    def load(generation: int) -> Callable[[], Awaitable[RankingColumns]]:
        async def columns() -> RankingColumns:
            loads.append(generation)
            await asyncio.sleep(0.01)  # concurrent searches arrive while it loads
            return RankingColumns(generation, rows)

        return columns

    first = await asyncio.gather(*(cache.at(4, load(4)) for _ in range(5)))
    assert len(loads) == 1 and all(c is first[0] for c in first)
    assert await cache.at(3, load(3)) is first[0]  # an older generation's reader: as current
    assert (await cache.at(5, load(5))).generation == 5
    assert len(loads) == 2
