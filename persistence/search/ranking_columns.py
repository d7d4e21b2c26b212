"""The built-in index's ranking columns, in memory: filter, score, order and facets of a search.

A broad query matches most of the catalog (at 10,000 services, one common word ≈ 8,000
documents). The database's full-text engine finds the matches and scores their text; what
remains per hit (joining each match to its document, the filters, the combined score, the
order, and four facet counts, the tags one over ≈ 3 values per hit) cost the SQL engines
two thirds of a first-time search, ≈ 16 of 25 ms. The same work over numpy arrays of the
documents' ranking columns takes ≈ 1.5 ms.

The columns are a snapshot of ``search_documents`` (with the vocabulary, ``search_terms``,
so a query of known words needs no look-up) at one index generation
(``generation.py``), loaded once per generation and process, like the doc values and global
ordinals Elasticsearch keeps in memory per index refresh. Each search reads the generation
first and uses the snapshot of that generation (loading it if the index has changed since),
so a search never ranks by columns older than what it reads. The load reads both tables
whole (the first search after a write takes ≈ 70 ms at 10,000 services;
docs/benchmarks.md).

The ranking rules are those of the in-Python reference, ``ranked.rank_in_memory``: relevance
is the text score divided by the best one of the filtered result, the score adds the stored
factors times their weights in the same order of operations, and every order ends with the
service id.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from persistence.search.base import SearchFilter
from persistence.search.ranked import FacetCounts, RankedQuery
from persistence.search.result_cache import RankedResult

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
# A text query's hits: each one's row key and text score.
TextHits = tuple[Ints, Floats]

# What a snapshot row holds, in this order, after the dialect's integer row key (SQLite's
# ``rowid``, PostgreSQL's ``doc_key``: what its text engine returns per hit). Plain values, as the
# dialects read them through the driver (a snapshot is 10,000s of rows, and SQLAlchemy's
# decimals, datetimes and JSON cost several times the rest of the load): ``price_per_1k`` and
# ``compliance_score`` as floats or None, ``created_at`` as epoch seconds, ``tags`` as a
# sequence of distinct tags.
COLUMNS = (
    "service_id",
    "status",
    "category",
    "provider_id",
    "pricing_model",
    "price_per_1k",
    "usage_count",
    "created_at",
    "compliance_score",
    "popularity_factor",
    "performance_factor",
    "compliance_factor",
    "tags",
)


@dataclass(frozen=True)
class _Codes:
    """A text column as integer codes into its sorted distinct values (-1 for None)."""

    codes: Ints
    values: list[str]

    @classmethod
    def of(cls, column: Sequence[str | None]) -> _Codes:
        values = sorted({v for v in column if v is not None})
        index = {v: i for i, v in enumerate(values)}
        codes = np.fromiter((-1 if v is None else index[v] for v in column), np.int64, len(column))
        return cls(codes, values)

    def wanted(self, values: Iterable[str]) -> Ints:
        index = {v: i for i, v in enumerate(self.values)}
        return np.array([index[v] for v in values if v in index], np.int64)

    def counts(self, positions: Ints) -> list[tuple[str, int]]:
        codes = self.codes[positions]
        counted = np.bincount(codes[codes >= 0], minlength=len(self.values))
        return _ordered(self.values, counted)


def _ordered(values: list[str], counts: Ints) -> list[tuple[str, int]]:
    present = [(values[i], int(n)) for i, n in enumerate(counts) if n]
    return sorted(present, key=lambda kv: (-kv[1], kv[0]))


def _floats(column: Iterable[Any], size: int) -> Floats:
    return np.fromiter((np.nan if v is None else float(v) for v in column), np.float64, size)


def _leading(keys: tuple[Any, ...], window: int) -> Ints:
    """The indices of the first ``window`` elements in ``np.lexsort(keys)`` order (the last
    key is the primary one). Only elements whose primary key is at most the window-th
    smallest can be among them, so only those are sorted: ≈ the window, not every hit."""
    primary = keys[-1]
    if len(primary) <= window:
        return np.lexsort(keys)
    cut = np.partition(primary, window - 1)[window - 1]
    candidates = np.flatnonzero(primary <= cut)
    return candidates[np.lexsort(tuple(key[candidates] for key in keys))[:window]]


class RankingColumns:
    """The ranking columns of every document of one generation (see the module docstring)."""

    def __init__(
        self, generation: int, rows: Sequence[Sequence[Any]], vocabulary: Iterable[str] = ()
    ) -> None:
        self.generation = generation
        # The words the index held at this generation: a query of known words needs no
        # look-up of its own.
        self.vocabulary = frozenset(vocabulary)
        size = len(rows)
        self.size = size
        columns = list(zip(*rows, strict=True)) if rows else [()] * (len(COLUMNS) + 1)
        keys, ids, status, category, provider, pricing, price, usage, created = columns[:9]
        compliance_score, popularity, performance, compliance, tags = columns[9:]
        # Row keys in order, and each one's position: hits are placed by binary search.
        key_array = np.fromiter(keys, np.int64, size)
        self._key_order: Ints = np.argsort(key_array, kind="stable")
        self._sorted_keys: Ints = key_array[self._key_order]
        self.service_ids: list[str] = list(ids)
        # The service id's place in sorted order: every ranking ends with it.
        self.id_order: Ints = np.empty(size, np.int64)
        self.id_order[np.argsort(np.array(ids, dtype=object))] = np.arange(size)
        self.status = _Codes.of(status)
        self.category = _Codes.of(category)
        self.provider = _Codes.of(provider)
        self.pricing = _Codes.of(pricing)
        self.price = _floats(price, size)
        self.usage: Ints = np.fromiter(usage, np.int64, size)
        self.created = np.array(created, np.float64)
        self.compliance_score = _floats(compliance_score, size)
        self.popularity = _floats(popularity, size)
        self.performance = _floats(performance, size)
        self.compliance = _floats(compliance, size)
        # Tags, flattened: each (document, tag) pair once (stored tags are distinct).
        self.tags = _Codes.of([t for ts in tags for t in ts])
        self.tag_document: Ints = np.repeat(
            np.arange(size, dtype=np.int64), [len(ts) for ts in tags]
        )

    def rank(
        self,
        hits: TextHits | None,
        flt: SearchFilter,
        ask: RankedQuery,
        window: int,
        terms: tuple[str, ...],
        score_type: type[np.floating[Any]] = np.float64,
    ) -> RankedResult:
        """Rank the ``hits`` (keys, text scores) of a full-text query, or every document when None
        (browse mode, relevance 0). ``score_type``: the precision the engine computes its text
        score in (PostgreSQL's ``ts_rank`` is a 4-byte float), so relevance is divided in it."""
        if hits is None:
            positions: Ints = np.arange(self.size, dtype=np.int64)
            text: Floats = np.zeros(self.size)
        else:
            keys, scores = hits
            places = np.searchsorted(self._sorted_keys, keys)
            places[places == self.size] = 0
            # A hit written after this generation's snapshot waits for the next generation.
            known = self._sorted_keys[places] == keys if self.size else np.zeros(len(keys), bool)
            positions, text = self._key_order[places[known]], scores[known]
        keep = self._accepted(positions, flt)
        positions, text = positions[keep], text[keep]
        relevance = self._relevance(text, score_type)
        w = ask.weights
        score = (
            w.relevance * relevance
            + w.popularity * self.popularity[positions]
            + w.performance * self.performance[positions]
            + w.compliance * self.compliance[positions]
        )
        order = _leading(self._sort_keys(positions, score, ask.sort), window)
        ranked = [(self.service_ids[positions[i]], float(relevance[i])) for i in order]
        return RankedResult(
            terms=terms,
            ranked=ranked,
            complete=len(positions) <= window,
            total=len(positions),
            facets=self._facets(positions),
        )

    def _accepted(self, positions: Ints, flt: SearchFilter) -> npt.NDArray[np.bool_]:
        def among(codes: _Codes, values: Iterable[str]) -> npt.NDArray[np.bool_]:
            return np.isin(codes.codes[positions], codes.wanted(values))

        keep = among(self.status, flt.statuses)
        if flt.categories:
            keep &= among(self.category, flt.categories)
        if flt.provider_ids:
            keep &= among(self.provider, flt.provider_ids)
        if flt.pricing_models:
            keep &= among(self.pricing, flt.pricing_models)
        if flt.max_price_per_1k is not None:  # an unpriced service (NaN) never passes
            keep &= self.price[positions] <= float(flt.max_price_per_1k)
        if flt.min_compliance is not None:
            keep &= self.compliance_score[positions] >= float(flt.min_compliance)
        if flt.tags:
            tagged = np.zeros(self.size, np.bool_)
            tagged[self.tag_document[np.isin(self.tags.codes, self.tags.wanted(flt.tags))]] = True
            keep &= tagged[positions]
        return keep

    @staticmethod
    def _relevance(text: Floats, score_type: type[np.floating[Any]]) -> Floats:
        best = text.max() if len(text) else 0.0
        if best <= 0:
            return np.zeros(len(text))
        typed = text.astype(score_type)
        return (typed / score_type(best)).astype(np.float64)

    def _sort_keys(self, positions: Ints, score: Floats, sort: str) -> tuple[Any, ...]:
        # np.lexsort sorts by the last key first: each tuple reads from tie-break to primary.
        ids = self.id_order[positions]
        if sort == "POPULARITY":
            return ids, -score, -self.usage[positions]
        if sort == "NEWEST":
            return ids, -self.created[positions]
        if sort == "PRICE_ASC":
            price = self.price[positions]
            unpriced = np.isnan(price)
            return ids, -score, np.where(unpriced, 0.0, price), unpriced
        return ids, -score

    def _facets(self, positions: Ints) -> FacetCounts:
        hit = np.zeros(self.size, np.bool_)
        hit[positions] = True
        tag_codes = self.tags.codes[hit[self.tag_document]]
        tags = np.bincount(tag_codes, minlength=len(self.tags.values))
        return FacetCounts(
            categories=self.category.counts(positions),
            tags=_ordered(self.tags.values, tags),
            pricing_models=self.pricing.counts(positions),
            providers=self.provider.counts(positions),
        )


class ColumnsCache:
    """The latest generation's ``RankingColumns`` of one index, loaded once per generation."""

    def __init__(self) -> None:
        self._columns: RankingColumns | None = None
        self._lock = asyncio.Lock()

    async def at(
        self, generation: int, load: Callable[[], Awaitable[RankingColumns]]
    ) -> RankingColumns:
        """The columns of ``generation`` (or of a newer one another search loaded meanwhile,
        which is as current as the caller's reads)."""
        columns = self._columns
        if columns is not None and columns.generation >= generation:
            return columns
        async with self._lock:  # concurrent first searches load once
            columns = self._columns
            if columns is None or columns.generation < generation:
                columns = await load()
                self._columns = columns
            return columns

    def clear(self) -> None:
        self._columns = None
