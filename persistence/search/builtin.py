"""The built-in index: search documents in the application database, plus the database's own
full-text engine (SQLite FTS5, or PostgreSQL tsvector + pg_trgm; see the dialect modules).

Writes go through the caller's session so the indexer commits documents and its outbox cursor
in one transaction.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Container, Sequence
from typing import Any

import numpy as np
from sqlalchemy import (
    ColumnElement,
    Row,
    Select,
    Text,
    and_,
    bindparam,
    cast,
    delete,
    exists,
    func,
    select,
    union_all,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.sql.elements import TextClause

from persistence.models import SearchDocument, SearchTerm
from persistence.models.base import utcnow
from persistence.search import generation, signals
from persistence.search.base import IndexedService, Match, MatchResult, SearchFilter, tokenize
from persistence.search.ranked import RankedHit, RankedPage, RankedQuery
from persistence.search.ranking_columns import ColumnsCache, RankingColumns, TextHits
from persistence.search.result_cache import RankedResult, ResultCache
from persistence.search.text import correct_terms, highlight, max_edits

# A select of any columns.
AnySelect = Select[*tuple[Any, ...]]


# A page's documents as rows, not ORM objects: a page is read once and turned into
# ``IndexedService`` values straight away, and ORM objects cost twice as much to load.
_documents = SearchDocument.__table__
_PAGE_DOCUMENTS = select(_documents).where(
    _documents.c.service_id.in_(bindparam("ids", expanding=True))
)


def to_indexed(row: SearchDocument | Row[Any]) -> IndexedService:
    return IndexedService(
        service_id=row.service_id,
        slug=row.slug,
        name=row.name,
        description=row.description,
        category=row.category,
        tags=tuple(row.tags),
        provider_id=row.provider_id,
        provider_name=row.provider_name,
        status=row.status,
        pricing_model=row.pricing_model,
        price_per_1k=row.price_per_1k,
        created_at=row.created_at,
        usage_count=row.usage_count,
        p95_latency_ms=row.p95_latency_ms,
        error_rate=row.error_rate,
        compliance_score=row.compliance_score,
    )


def _row_values(doc: IndexedService) -> dict[str, Any]:
    return {
        "service_id": doc.service_id,
        "slug": doc.slug,
        "name": doc.name,
        "description": doc.description,
        "category": doc.category,
        # Each tag once: the tags facet counts (document, tag) rows, and a tag listed twice
        # on one service counts once for it (the catalog's validation already dedupes).
        "tags": list(dict.fromkeys(doc.tags)),
        "tags_text": " ".join(doc.tags),
        "provider_id": doc.provider_id,
        "provider_name": doc.provider_name,
        "status": doc.status,
        "pricing_model": doc.pricing_model,
        "price_per_1k": doc.price_per_1k,
        "created_at": doc.created_at,
        "usage_count": doc.usage_count,
        "p95_latency_ms": doc.p95_latency_ms,
        "error_rate": doc.error_rate,
        "compliance_score": doc.compliance_score,
        "popularity_factor": signals.popularity(doc),
        "performance_factor": signals.performance(doc),
        "compliance_factor": signals.compliance(doc),
        "indexed_at": utcnow(),
    }


# Hits kept per ranking: a first search ranks the first five pages of 20, so paging on is
# served from the result cache.
RANKED_WINDOW = 100


class BuiltinIndex(ABC):
    """Shared logic of the two database-backed indexes; subclasses supply the text engine."""

    name: str
    # The precision of the engine's text score (see RankingColumns.rank).
    text_score_type: type[np.floating[Any]] = np.float64
    # The dialect's ``insert`` (with ``on_conflict_do_update``/``on_conflict_do_nothing``),
    # and how many bound variables one statement may carry.
    dialect_insert: Callable[[Any], Any]
    max_variables: int

    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self.session_factory = session_factory
        self.results = ResultCache()
        self.columns = ColumnsCache()

    # --- what a dialect supplies ---------------------------------------------------------

    @abstractmethod
    def _text_match(self, terms: Sequence[str], *columns: Any) -> AnySelect:
        """``columns`` of the documents with any of the terms, and each one's score
        (``text_score``, higher is better)."""

    @abstractmethod
    async def _text_scores(self, session: AsyncSession, terms: Sequence[str]) -> TextHits:
        """The row key and text score of every document with any of the terms."""

    @abstractmethod
    async def _column_rows(self, session: AsyncSession) -> Sequence[Sequence[Any]]:
        """Every document as (integer row key, ``ranking_columns.COLUMNS``…) in plain values."""

    @abstractmethod
    def _name_prefix_match(self, words: Sequence[str]) -> ColumnElement[bool] | TextClause:
        """Documents whose name has, for every word, a word starting with it."""

    @abstractmethod
    def _near_misses(self, words: Sequence[str]) -> ColumnElement[bool]:
        """Vocabulary rows that may be near misses of the words (which the index lacks)."""

    @abstractmethod
    def _tags_any(self, tags: Sequence[str]) -> ColumnElement[bool]: ...

    @abstractmethod
    async def _write_text_index(
        self, session: AsyncSession, docs: Sequence[IndexedService]
    ) -> None:
        """Bring the engine's own text index up to date with ``docs`` (already upserted)."""

    @abstractmethod
    async def _delete_text_index(self, session: AsyncSession, ids: Sequence[str] | None) -> None:
        """Drop the given documents (all when ``ids`` is None) from the text index."""

    async def _before_ranking(self, session: AsyncSession) -> None:
        """Session settings the near-miss search and the text scores statement need (none by
        default)."""
        return None

    async def _after_ranking(self, session: AsyncSession) -> None:
        """Undo ``_before_ranking``: the session may be a request's, which reads on."""
        return None

    # --- reads -----------------------------------------------------------------------------

    def _filter_clauses(self, flt: SearchFilter) -> list[ColumnElement[bool]]:
        d = SearchDocument
        clauses: list[ColumnElement[bool]] = [d.status.in_(flt.statuses)]
        if flt.categories:
            clauses.append(d.category.in_(flt.categories))
        if flt.tags:
            clauses.append(self._tags_any(flt.tags))
        if flt.provider_ids:
            clauses.append(d.provider_id.in_(flt.provider_ids))
        if flt.pricing_models:
            clauses.append(d.pricing_model.in_(flt.pricing_models))
        if flt.max_price_per_1k is not None:
            clauses.append(d.price_per_1k <= flt.max_price_per_1k)
        if flt.min_compliance is not None:
            clauses.append(d.compliance_score >= flt.min_compliance)
        return clauses

    async def _corrected(
        self, session: AsyncSession, tokens: list[str], known: Container[str] | None = None
    ) -> list[str]:
        # Most queries use words the index knows: the ranking snapshot's vocabulary (``known``)
        # or a primary-key look-up settles that, and the near-miss search runs only for the
        # words that could need correcting (one written after the snapshot is found by it).
        if known is None:
            known = await _known(session, tokens)
        unknown = [t for t in dict.fromkeys(tokens) if t not in known and max_edits(t) > 0]
        if not unknown:
            return list(tokens)
        near = await session.scalars(select(SearchTerm.term).where(self._near_misses(unknown)))
        return correct_terms(tokens, {*near.all(), *(t for t in tokens if t in known)})

    async def known_terms(self, tokens: Sequence[str]) -> set[str]:
        """The tokens the index's vocabulary holds (Elasticsearch matches these exactly)."""
        if not tokens:
            return set()
        async with self.session_factory() as session:
            return await _known(session, tokens)

    async def match(self, query: str, flt: SearchFilter) -> MatchResult:
        tokens = tokenize(query)
        async with self.session_factory() as session:
            if not tokens:
                rows = await session.scalars(
                    select(SearchDocument).where(and_(*self._filter_clauses(flt)))
                )
                return MatchResult([Match(to_indexed(r), 0.0) for r in rows])
            terms = await self._corrected(session, tokens)
            result = await session.execute(
                self._text_match(terms, SearchDocument).where(*self._filter_clauses(flt))
            )
            matches = [
                Match(doc, float(s), highlight(doc.text_fields, terms))
                for doc, s in ((to_indexed(r), s) for r, s in result)
            ]
        return MatchResult(matches, tuple(terms))

    async def ranked_search(
        self, query: str, flt: SearchFilter, ask: RankedQuery, session: AsyncSession | None = None
    ) -> RankedPage:
        """One page of the ranked result, the total and the facets. A search not answered
        yet under the index's current generation costs the text engine's statement (plus the
        near-miss search for words the index lacks) and an in-memory ranking; the page's
        documents are read by key.

        ``session``: the caller's (a GraphQL request's, which goes on to load the hits'
        services), read in its transaction; without one the search opens its own."""
        if session is None:
            async with self.session_factory() as own:
                return await self._ranked_search(own, query, flt, ask)
        return await self._ranked_search(session, query, flt, ask)

    async def _ranked_search(
        self, session: AsyncSession, query: str, flt: SearchFilter, ask: RankedQuery
    ) -> RankedPage:
        tokens = tuple(tokenize(query))
        key = (tokens, flt, ask.sort, ask.weights)
        end = ask.offset + ask.limit
        # Read before the index itself: the rows read below are of this generation or newer.
        current = await generation.current(session)
        result = self.results.get(current, key)
        if result is None or not result.covers(end):
            result = await self._rank(session, current, list(tokens), flt, ask, end)
            self.results.put(current, key, result)
        window = result.ranked[ask.offset : end]
        missing = [sid for sid, _ in window if sid not in result.docs]
        if missing:
            rows = await session.execute(_PAGE_DOCUMENTS, {"ids": missing})
            result.add_documents(to_indexed(row) for row in rows)
        # A document removed by a write that committed after the generation was read is
        # left out; the next search, under the new generation, ranks without it.
        hits = [
            RankedHit(page[0], relevance, page[1])
            for page, relevance in ((result.docs.get(s), r) for s, r in window)
            if page is not None
        ]
        return RankedPage(hits, result.total, result.facets)

    async def _rank(
        self,
        session: AsyncSession,
        current: int,
        tokens: list[str],
        flt: SearchFilter,
        ask: RankedQuery,
        end: int,
    ) -> RankedResult:
        """Rank the whole result once: its leading hits up to ``end`` (rounded up to whole
        windows, so the next pages are served from the cache too), the total, the facets.
        The engine scores the text of the matches; the rest is done over the generation's
        ranking columns (ranking_columns.py)."""
        columns = await self.columns.at(current, lambda: self._snapshot(session, current))
        terms: list[str] = []
        hits = None
        if tokens:
            await self._before_ranking(session)  # the near-miss search is planned by it too
            terms = await self._corrected(session, tokens, columns.vocabulary)
            hits = await self._text_scores(session, terms)
            await self._after_ranking(session)
        window = -(-max(end, 1) // RANKED_WINDOW) * RANKED_WINDOW
        return columns.rank(hits, flt, ask, window, tuple(terms), self.text_score_type)

    async def _snapshot(self, session: AsyncSession, current: int) -> RankingColumns:
        """Generation ``current``'s ranking columns and vocabulary."""
        rows = await self._column_rows(session)
        vocabulary = await session.scalars(select(SearchTerm.term))
        return RankingColumns(current, rows, vocabulary.all())

    async def suggest(self, prefix: str, statuses: Sequence[str], limit: int) -> list[str]:
        words = tokenize(prefix)
        if not words or limit == 0:
            return []
        async with self.session_factory() as session:
            rows = await session.scalars(
                select(SearchDocument.service_id)
                .where(self._name_prefix_match(words), SearchDocument.status.in_(statuses))
                .order_by(
                    SearchDocument.usage_count.desc(),
                    SearchDocument.name,
                    SearchDocument.service_id,
                )
                .limit(limit)
            )
            return list(rows.all())

    async def count(self) -> int:
        async with self.session_factory() as session:
            return int(await session.scalar(select(func.count()).select_from(SearchDocument)) or 0)

    # --- writes (in the caller's transaction) ----------------------------------------------

    async def write(self, session: AsyncSession, docs: Sequence[IndexedService]) -> None:
        if not docs:
            return
        await self._upsert_rows(session, [_row_values(d) for d in docs])
        await self._write_text_index(session, docs)
        words = {w for d in docs for text in d.text_fields.values() for w in tokenize(text)}
        await self._add_terms(session, sorted(words))
        await self._bump_generation(session)

    async def remove(self, session: AsyncSession, ids: Sequence[str]) -> None:
        if not ids:
            return
        await self._delete_text_index(session, ids)
        await session.execute(delete(SearchDocument).where(SearchDocument.service_id.in_(ids)))
        await self._bump_generation(session)

    async def clear(self, session: AsyncSession) -> None:
        await self._delete_text_index(session, None)
        await session.execute(delete(SearchDocument))
        await session.execute(delete(SearchTerm))
        await self._bump_generation(session)

    async def _upsert_rows(self, session: AsyncSession, rows: list[dict[str, Any]]) -> None:
        statement = self.dialect_insert(SearchDocument)
        columns = {c: statement.excluded[c] for c in rows[0] if c != "service_id"}
        # Chunked: the database limits the number of bound variables of one statement.
        per_chunk = max(1, self.max_variables // len(rows[0]))
        for start in range(0, len(rows), per_chunk):
            await session.execute(
                statement.values(rows[start : start + per_chunk]).on_conflict_do_update(
                    index_elements=["service_id"], set_=columns
                )
            )

    async def _add_terms(self, session: AsyncSession, terms: list[str]) -> None:
        for start in range(0, len(terms), self.max_variables):
            chunk = [{"term": t} for t in terms[start : start + self.max_variables]]
            await session.execute(
                self.dialect_insert(SearchTerm).values(chunk).on_conflict_do_nothing()
            )

    async def _bump_generation(self, session: AsyncSession) -> None:
        await generation.bump(session, self.dialect_insert)

    # Standalone variants of the writes, for callers without a transaction of their own.
    async def upsert(self, docs: Sequence[IndexedService]) -> None:
        async with self.session_factory() as session, session.begin():
            await self.write(session, docs)

    async def delete(self, service_ids: Sequence[str]) -> None:
        async with self.session_factory() as session, session.begin():
            await self.remove(session, service_ids)

    async def close(self) -> None:
        return None


async def driver_connection(session: AsyncSession) -> Any:
    """The driver's own connection (aiosqlite, asyncpg) in the session's transaction. A
    full-text query returns a row per hit, thousands for a common word, and SQLAlchemy's
    result processing of them cost ≈ 2 ms, a fifth of a first-time search."""
    connection = await session.connection()
    return (await connection.get_raw_connection()).driver_connection


def distinct_tags(tags_text: str) -> tuple[str, ...]:
    """A document's tags from its ``tags_text`` (tags never contain spaces), each once."""
    return tuple(dict.fromkeys(tags_text.split()))


async def _known(session: AsyncSession, tokens: Sequence[str]) -> set[str]:
    """The tokens the vocabulary holds. One equality per word, ``UNION ALL``-ed: with
    ``term IN (…)`` PostgreSQL picks the trigram index over the primary key (≈ 4 ms against
    0.05 ms for two words)."""
    lookups = [select(SearchTerm.term).where(SearchTerm.term == t) for t in dict.fromkeys(tokens)]
    statement = lookups[0] if len(lookups) == 1 else union_all(*lookups)
    return set((await session.scalars(statement)).all())


def json_tags_any(tags: Sequence[str]) -> ColumnElement[bool]:
    each = func.json_each(SearchDocument.tags).table_valued("value")
    return exists(select(1).select_from(each).where(each.c.value.in_(list(tags))))


def jsonb_tags_any(tags: Sequence[str]) -> ColumnElement[bool]:
    return SearchDocument.tags.op("?|")(cast(list(tags), ARRAY(Text())))
