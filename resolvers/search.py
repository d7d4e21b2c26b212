"""Search reads: ``searchServices``, suggestions and content-based similar services.

The engine behind the index ranks, sorts, pages and counts facets itself (only one page
crosses back, see persistence/search/ranked.py); this module validates the request and turns
each hit's relevance into the score breakdown.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import bindparam, select

from graph.errors import bad_input
from persistence.models import Service, ServiceStatus
from persistence.search.base import MAX_QUERY_LENGTH, IndexedService, SearchFilter
from persistence.search.indexes import SearchIndexes
from persistence.search.ranked import RankedHit, RankedQuery, RankWeights
from resolvers.catalog import LISTED_STATUSES
from resolvers.db import RequestDB
from resolvers.pagination import PageArgs, encode_cursor, page_args
from resolvers.search_ranking import Breakdown, Weights, breakdown

# What search shows when the caller does not filter by status.
DEFAULT_SEARCH_STATUSES = (ServiceStatus.ACTIVE,)
MAX_SUGGESTIONS = 20


class SearchSort(StrEnum):
    RELEVANCE = "RELEVANCE"
    POPULARITY = "POPULARITY"
    NEWEST = "NEWEST"
    PRICE_ASC = "PRICE_ASC"


@dataclass(frozen=True)
class Hit:
    doc: IndexedService
    breakdown: Breakdown
    highlights: tuple[str, ...]

    @property
    def score(self) -> float:
        return self.breakdown.score


@dataclass(frozen=True)
class Facets:
    categories: list[tuple[str, int]]
    tags: list[tuple[str, int]]
    pricing_models: list[tuple[str, int]]
    providers: list[tuple[str, int]]


@dataclass(frozen=True)
class SearchPage:
    hits: list[tuple[int, Hit]]  # (position in the whole ranked result, hit)
    total: int
    facets: Facets
    has_next: bool
    has_previous: bool
    took_ms: float
    backend: str
    degraded: bool


def search_filter(
    *,
    statuses: Sequence[str] = (),
    categories: Sequence[str] = (),
    tags: Sequence[str] = (),
    provider_ids: Sequence[str] = (),
    pricing_models: Sequence[str] = (),
    max_price_per_1k: Decimal | None = None,
    min_compliance: Decimal | None = None,
) -> SearchFilter:
    if max_price_per_1k is not None and max_price_per_1k < 0:
        raise bad_input("`maxPricePer1k` must not be negative.", field="maxPricePer1k")
    if min_compliance is not None and not Decimal(0) <= min_compliance <= Decimal(1):
        raise bad_input("`minComplianceScore` must be between 0 and 1.", field="minComplianceScore")
    return SearchFilter(
        statuses=tuple(statuses) or tuple(s.value for s in DEFAULT_SEARCH_STATUSES),
        categories=tuple(categories),
        tags=tuple(tags),
        provider_ids=tuple(provider_ids),
        pricing_models=tuple(pricing_models),
        max_price_per_1k=max_price_per_1k,
        min_compliance=min_compliance,
    )


def _validated_query(query: str | None) -> str:
    text = (query or "").strip()
    if len(text) > MAX_QUERY_LENGTH:
        raise bad_input(f"`query` must be at most {MAX_QUERY_LENGTH} characters.", field="query")
    return text


def _offset(page: PageArgs) -> int:
    if page.after is None:
        return 0
    if len(page.after) != 2 or page.after[0] != "s" or not isinstance(page.after[1], int):
        raise bad_input("Invalid cursor.", field="after")
    return int(page.after[1]) + 1


def hit_cursor(position: int) -> str:
    return encode_cursor(["s", position])


def _hit(hit: RankedHit, weights: Weights) -> Hit:
    return Hit(
        doc=hit.doc,
        breakdown=breakdown(hit.doc, hit.relevance, weights),
        highlights=hit.highlights,
    )


async def search_services(
    indexes: SearchIndexes,
    weights: Weights,
    *,
    query: str | None,
    flt: SearchFilter,
    sort: SearchSort | None,
    first: int | None,
    after: str | None,
    db: RequestDB | None = None,
) -> SearchPage:
    """One page of search results. ``db``: the request's, whose session the built-in engine
    reads through (one connection and transaction per request instead of two)."""
    started = time.perf_counter()
    text = _validated_query(query)
    page = page_args(first, after)
    offset = _offset(page)
    # Empty query: browse mode, by popularity unless the caller chose a sort.
    chosen = sort or (SearchSort.RELEVANCE if text else SearchSort.POPULARITY)
    w = RankWeights(weights.relevance, weights.popularity, weights.performance, weights.compliance)
    # One row more than the page tells whether there is a next page.
    ask = RankedQuery(tuple(), chosen.value, offset, page.first + 1, w)
    if db is None:
        answer = await indexes.ranked(text, flt, ask)
    else:
        async with db.reading() as session:
            answer = await indexes.ranked(text, flt, ask, session)
    found = answer.page
    window = [_hit(h, weights) for h in found.hits[: page.first]]
    facets = found.facets
    return SearchPage(
        hits=list(enumerate(window, start=offset)),
        total=found.total,
        facets=Facets(facets.categories, facets.tags, facets.pricing_models, facets.providers),
        has_next=len(found.hits) > page.first,
        has_previous=offset > 0,
        took_ms=round((time.perf_counter() - started) * 1000, 2),
        backend=answer.backend,
        degraded=answer.degraded,
    )


async def suggest_services(
    indexes: SearchIndexes, prefix: str, first: int
) -> tuple[list[str], bool]:
    if len(prefix) > MAX_QUERY_LENGTH:
        raise bad_input(f"`prefix` must be at most {MAX_QUERY_LENGTH} characters.", field="prefix")
    if not 0 <= first <= MAX_SUGGESTIONS:
        raise bad_input(f"`first` must be between 0 and {MAX_SUGGESTIONS}.", field="first")
    statuses = [s.value for s in DEFAULT_SEARCH_STATUSES]
    return await indexes.suggest(prefix, statuses, first)


# --- content-based similar services (a loader: one statement for all keys) ---------------

SimilarKey = tuple[str, int]

# Every service of the given services' categories, each row once (a self-join returned a row
# per pair, with both sides' tags to decode: 0.35 ms of a cross-subgraph request). Built once,
# on the table's columns, the ids an expanding parameter bound at execution.
_services = Service.__table__
_bases = _services.alias("base")
_SIMILAR_POOL = select(
    _services.c.id, _services.c.category, _services.c.tags, _services.c.created_at,
    _services.c.status,
).where(
    _services.c.category.in_(
        select(_bases.c.category).where(_bases.c.id.in_(bindparam("ids", expanding=True)))
    )
)  # fmt: skip


async def similar_services(db: RequestDB, keys: Sequence[SimilarKey]) -> list[list[str]]:
    """Ids of services like each given one: listed services of the same category, most shared
    tags first, then newest first. One statement for all keys."""
    rows = await db.rows(_SIMILAR_POOL, {"ids": sorted({service_id for service_id, _ in keys})})
    # Each read service's category and tags; the listed ones, per category, as candidates.
    seen: dict[str, tuple[str, set[str]]] = {}
    listed: dict[str, list[tuple[str, set[str], float]]] = defaultdict(list)
    for service_id, category, tag_list, created_at, status in rows:
        tags = set(tag_list)
        seen[service_id] = (category, tags)
        if status in LISTED_STATUSES:
            listed[category].append((service_id, tags, -created_at.timestamp()))
    similar: list[list[str]] = []
    for service_id, first in keys:
        if service_id not in seen:
            similar.append([])
            continue
        category, own = seen[service_id]
        ranked = sorted(
            (-len(own & theirs), newest, candidate)
            for candidate, theirs, newest in listed[category]
            if candidate != service_id
        )
        similar.append([candidate for _, _, candidate in ranked[:first]])
    return similar
