"""PostgreSQL text engine for the built-in index: a weighted tsvector per document (name A,
tags and category B, provider C, description D) in ``search_text`` beside the documents
(migration 0004), ranked with ``ts_rank``, and pg_trgm for typo tolerance: the trigram index
on ``search_terms`` finds near-miss words, edit distance picks the nearest.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sqlalchemy import (
    ColumnElement,
    Float,
    Text,
    bindparam,
    column,
    func,
    literal_column,
    or_,
    select,
    table,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.ext.asyncio import AsyncSession

from persistence.models import SearchTerm
from persistence.search.base import IndexedService
from persistence.search.builtin import (
    AnySelect,
    BuiltinIndex,
    distinct_tags,
    driver_connection,
    jsonb_tags_any,
)
from persistence.search.ranking_columns import TextHits

# ts_rank weights for D, C, B, A.
RANK_WEIGHTS = "'{0.1, 0.2, 0.4, 1.0}'"
POSTGRES_MAX_VARIABLES = 30_000

# The text index: a document's key and its vector, nothing else, so the sequential scan of a
# broad query reads as few pages as it can (migration 0004). Written by the indexer, like
# SQLite's FTS5 table; deleting a document cascades to its row.
_search_text = table("search_text", column("doc_key"), column("search_vector"))
_vector: ColumnElement[Any] = _search_text.c.search_vector
_doc_key: ColumnElement[Any] = literal_column("search_documents.doc_key")
_WRITE_VECTORS = text(
    """INSERT INTO search_text (doc_key, search_vector)
    SELECT doc_key,
      setweight(to_tsvector('simple', coalesce(name, '')), 'A') ||
      setweight(to_tsvector('simple', coalesce(tags_text, '') || ' ' || category), 'B') ||
      setweight(to_tsvector('simple', coalesce(provider_name, '')), 'C') ||
      setweight(to_tsvector('simple', coalesce(description, '')), 'D')
    FROM search_documents WHERE service_id = ANY(:ids)
    ON CONFLICT (doc_key) DO UPDATE SET search_vector = excluded.search_vector
    WHERE search_text.search_vector IS DISTINCT FROM excluded.search_vector"""
).bindparams(bindparam("ids", type_=ARRAY(Text())))
# The hits' keys and scores as two strings of big-endian binary numbers in one row (one
# aggregation pass, so they pair up): a record per hit (thousands for a common word) cost
# PostgreSQL and asyncpg more than the scan (migration 0003), and arrays still ≈ 0.9 ms more
# to decode into Python numbers than these into numpy.
_TEXT_SCORES = (
    "SELECT string_agg(int8send(doc_key), ''::bytea), "
    f"string_agg(float4send(ts_rank({RANK_WEIGHTS}, search_vector, q)), ''::bytea) "
    "FROM search_text, to_tsquery('simple', $1) AS q WHERE search_vector @@ q"
)
# ranking_columns.COLUMNS, converted by the server.
_COLUMN_ROWS = (
    "SELECT doc_key, service_id, status, category, provider_id, pricing_model, "
    "price_per_1k::float8, usage_count, extract(epoch FROM created_at)::float8, "
    "compliance_score::float8, popularity_factor, performance_factor, compliance_factor, "
    "tags_text FROM search_documents"
)


class PostgresFtsIndex(BuiltinIndex):
    name = "postgres"
    text_score_type = np.float32  # ts_rank returns real
    dialect_insert = staticmethod(insert)
    max_variables = POSTGRES_MAX_VARIABLES

    def _text_match(self, terms: Sequence[str], *columns: Any) -> AnySelect:
        query = func.to_tsquery("simple", bindparam("tsq", " | ".join(terms)))
        score = func.ts_rank(literal_column(RANK_WEIGHTS), _vector, query, type_=Float())
        return (
            select(*columns, score.label("text_score"))
            .join(_search_text, _search_text.c.doc_key == _doc_key)
            .where(_vector.op("@@")(query))
        )

    async def _before_ranking(self, session: AsyncSession) -> None:
        # asyncpg prepares statements, and after five runs PostgreSQL may switch to a generic
        # plan: one that cannot see the query words, guesses a handful of matches and walks
        # the GIN index, twice as slow as the sequential scan a broad query (most of the
        # catalog) needs, and scans the vocabulary instead of using its trigram index. Plan
        # each ranking (and near-miss search) for its own words; planning costs well under 1 ms.
        # SET LOCAL: this transaction only, and only until _after_ranking.
        await session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))

    async def _after_ranking(self, session: AsyncSession) -> None:
        # The request's loaders read on in this transaction: with custom plans, each of their
        # prepared statements would be planned again on every execution.
        await session.execute(text("SET LOCAL plan_cache_mode TO DEFAULT"))

    async def _text_scores(self, session: AsyncSession, terms: Sequence[str]) -> TextHits:
        driver = await driver_connection(session)
        keys, scores = await driver.fetchrow(_TEXT_SCORES, " | ".join(terms))
        # string_agg over no rows is NULL
        return (
            np.frombuffer(keys or b"", ">i8").astype(np.int64),
            np.frombuffer(scores or b"", ">f4").astype(np.float64),
        )

    async def _column_rows(self, session: AsyncSession) -> Sequence[Sequence[Any]]:
        driver = await driver_connection(session)
        return [(*row[:13], distinct_tags(row[13])) for row in await driver.fetch(_COLUMN_ROWS)]

    def _name_prefix_match(self, words: Sequence[str]) -> ColumnElement[bool]:
        expression = " & ".join(f"{w}:*A" for w in words)
        prefix = func.to_tsquery("simple", bindparam("prefix", expression))
        return _doc_key.in_(select(_search_text.c.doc_key).where(_vector.op("@@")(prefix)))

    def _near_misses(self, words: Sequence[str]) -> ColumnElement[bool]:
        # The trigram index answers each ``%`` (≈ 0.05 ms) when the plan sees the word; a
        # generic plan, or one OR-ed with another condition, scans the whole vocabulary
        # (≈ 5 ms at 10,000 terms). Callers plan it custom (``_before_ranking``).
        return or_(*(SearchTerm.term.op("%")(w) for w in words))

    def _tags_any(self, tags: Sequence[str]) -> ColumnElement[bool]:
        return jsonb_tags_any(tags)

    async def _write_text_index(
        self, session: AsyncSession, docs: Sequence[IndexedService]
    ) -> None:
        # Computed from the rows just upserted; a vector that did not change is not rewritten
        # (the signals refresh rewrites every document, rarely its text).
        await session.execute(_WRITE_VECTORS, {"ids": [d.service_id for d in docs]})

    async def _delete_text_index(self, session: AsyncSession, ids: Sequence[str] | None) -> None:
        return None  # deleting the documents cascades to their vectors
