"""A ranked search asked of an engine, and its answer: one page, the total and the facets.

The engine scores, sorts, limits and counts itself, so a search costs the same whatever the
number of hits crossing back to the gateway (only one page does). The ranking rules are those
of docs/search.md; ``resolvers/search.py`` keeps the in-Python reference (``rank``) that the
engines must agree with and that serves engines without a native ranked search.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from persistence.search import signals
from persistence.search.base import IndexedService, MatchResult


@dataclass(frozen=True)
class RankWeights:
    """The normalised weights of relevance and of the three stored factors."""

    relevance: float
    popularity: float
    performance: float
    compliance: float


@dataclass(frozen=True)
class RankedQuery:
    terms: tuple[str, ...]  # searched words (after typo correction); empty = browse mode
    sort: str  # a SearchSort value: RELEVANCE, POPULARITY, NEWEST, PRICE_ASC
    offset: int
    limit: int  # rows wanted; callers ask for one more than the page to learn hasNextPage
    weights: RankWeights


@dataclass(frozen=True)
class RankedHit:
    doc: IndexedService
    relevance: float  # text score divided by the best of the whole result, in [0, 1]
    highlights: tuple[str, ...] = ()


@dataclass(frozen=True)
class FacetCounts:
    categories: list[tuple[str, int]]
    tags: list[tuple[str, int]]
    pricing_models: list[tuple[str, int]]
    providers: list[tuple[str, int]]


@dataclass(frozen=True)
class RankedPage:
    hits: list[RankedHit]
    total: int
    facets: FacetCounts


# --- the in-memory reference -----------------------------------------------------------------


def static_score(doc: IndexedService, w: RankWeights) -> float:
    """The query-independent part of the score (what the engines read from stored factors)."""
    return (
        w.popularity * signals.popularity(doc)
        + w.performance * signals.performance(doc)
        + w.compliance * signals.compliance(doc)
    )


def _sort_key(ask: RankedQuery) -> Callable[[tuple[float, RankedHit]], Any]:
    # (score, hit) pairs; every key ends with the service id, so paging is deterministic.
    if ask.sort == "POPULARITY":
        return lambda sh: (-sh[1].doc.usage_count, -sh[0], sh[1].doc.service_id)
    if ask.sort == "NEWEST":
        return lambda sh: (-sh[1].doc.created_at.timestamp(), sh[1].doc.service_id)
    if ask.sort == "PRICE_ASC":
        return lambda sh: (
            sh[1].doc.price_per_1k is None,
            sh[1].doc.price_per_1k or Decimal(0),
            -sh[0],
            sh[1].doc.service_id,
        )
    return lambda sh: (-sh[0], sh[1].doc.service_id)


def _counts(values: Iterable[str]) -> list[tuple[str, int]]:
    return sorted(Counter(values).items(), key=lambda kv: (-kv[1], kv[0]))


def facets_of(docs: Sequence[IndexedService]) -> FacetCounts:
    return FacetCounts(
        categories=_counts(d.category for d in docs),
        tags=_counts(t for d in docs for t in set(d.tags)),
        pricing_models=_counts(d.pricing_model for d in docs if d.pricing_model),
        providers=_counts(d.provider_id for d in docs),
    )


def rank_in_memory(result: MatchResult, ask: RankedQuery) -> RankedPage:
    """Rank every match in Python: the reference the engines' own ranking must agree with,
    and the path of a backend that returns all its matches (``SearchBackend.match``)."""
    best = max((m.text_score for m in result.matches), default=0.0)
    scored = []
    for m in result.matches:
        relevance = m.text_score / best if best > 0 else 0.0
        hit = RankedHit(m.doc, relevance, m.highlights)
        scored.append((ask.weights.relevance * relevance + static_score(m.doc, ask.weights), hit))
    scored.sort(key=_sort_key(ask))
    window = [hit for _, hit in scored[ask.offset : ask.offset + ask.limit]]
    return RankedPage(window, len(scored), facets_of([m.doc for m in result.matches]))
