"""SQLite FTS5 text engine for the built-in index (the embedded default).

Relevance is FTS5's BM25 with column weights (name boosted). Typo tolerance: FTS5 has no
fuzzy matching (spellfix1 is not compiled into Python's sqlite3), so query words the index has
never seen are corrected against the ``search_terms`` vocabulary: one indexed range scan
fetches the words with the same first letter and a close length, and edit distance picks the
nearest in Python. The first letter is rarely the mistyped one, and the range keeps the
candidate list small whatever the vocabulary size.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime
from functools import partial
from typing import Any, cast

import numpy as np
from sqlalchemy import (
    ColumnElement,
    Float,
    and_,
    bindparam,
    column,
    func,
    literal_column,
    or_,
    select,
    table,
    text,
)
from sqlalchemy.dialects.sqlite import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import TextClause

from persistence.models import SearchTerm
from persistence.models.base import Money
from persistence.search.base import IndexedService
from persistence.search.builtin import (
    AnySelect,
    BuiltinIndex,
    distinct_tags,
    driver_connection,
    json_tags_any,
)
from persistence.search.ranking_columns import Floats, Ints, TextHits
from persistence.search.text import max_edits

# bm25() weights, in the FTS5 column order: service_id, name, tags, category, provider, desc.
BM25 = "bm25(search_fts, 0.0, 10.0, 4.0, 4.0, 2.0, 1.0)"
SQLITE_MAX_VARIABLES = 900

_fts = table("search_fts", column("rowid"), column("service_id"))
# FTS5 alone: the document row shares the FTS row's rowid, so no join is needed.
_TEXT_SCORES = f"SELECT rowid, -{BM25} FROM search_fts WHERE search_fts MATCH ?"
# ranking_columns.COLUMNS, as stored: money as an integer count of 10^-8 (``Money``), times
# as ISO text in UTC (``UTCDateTime``).
_COLUMN_ROWS = (
    "SELECT rowid, service_id, status, category, provider_id, pricing_model, price_per_1k, "
    "usage_count, created_at, compliance_score, popularity_factor, performance_factor, "
    "compliance_factor, tags_text FROM search_documents"
)
_TEXT_SCORE_CHUNK = 1024
_MONEY_UNITS = float(Money.UNITS)


def _plain(row: Sequence[Any]) -> tuple[Any, ...]:
    (key, sid, status, category, provider, pricing, price, usage, created, compliance,
     popularity, performance, compliance_factor, tags_text) = row  # fmt: skip
    return (
        key, sid, status, category, provider, pricing,
        None if price is None else price / _MONEY_UNITS,
        usage,
        datetime.fromisoformat(created).replace(tzinfo=UTC).timestamp(),
        None if compliance is None else float(compliance),
        popularity, performance, compliance_factor,
        distinct_tags(tags_text),
    )  # fmt: skip


def _fetch_text_scores(expression: str, connection: sqlite3.Connection) -> TextHits:
    """The text query's hits as arrays, converted a chunk of rows at a time on the connection's
    thread: a common word's ≈ 9,000 rows never exist as Python tuples all at once."""
    cursor = connection.execute(_TEXT_SCORES, (expression,))
    keys: list[Ints] = []
    scores: list[Floats] = []
    while rows := cursor.fetchmany(_TEXT_SCORE_CHUNK):
        keys.append(np.fromiter((row[0] for row in rows), np.int64, len(rows)))
        scores.append(np.fromiter((row[1] for row in rows), np.float64, len(rows)))
    cursor.close()
    if not keys:
        return np.empty(0, np.int64), np.empty(0)
    return np.concatenate(keys), np.concatenate(scores)


def _quoted(word: str) -> str:
    return '"' + word.replace('"', '""') + '"'


class SqliteFtsIndex(BuiltinIndex):
    name = "sqlite-fts5"
    dialect_insert = staticmethod(insert)
    max_variables = SQLITE_MAX_VARIABLES

    def _text_match(self, terms: Sequence[str], *columns: Any) -> AnySelect:
        expression = " OR ".join(_quoted(t) for t in terms)
        # Scored in FTS5 alone, materialised, then joined by rowid (shared with the document
        # row, see _write_text_index). Joined directly, the planner may walk the documents by
        # their status index and run the full-text query once per document (seconds at 10k).
        hits = (
            select(_fts.c.rowid, literal_column(f"-{BM25}", Float()).label("text_score"))
            .where(text("search_fts MATCH :q").bindparams(bindparam("q", expression)))
            .cte("fts_hits")
            .prefix_with("MATERIALIZED")
        )
        return select(*columns, hits.c.text_score).join(
            hits, literal_column("search_documents.rowid") == hits.c.rowid
        )

    async def _text_scores(self, session: AsyncSession, terms: Sequence[str]) -> TextHits:
        driver = await driver_connection(session)
        expression = " OR ".join(_quoted(t) for t in terms)
        return cast(TextHits, await driver.on_thread(partial(_fetch_text_scores, expression)))

    async def _column_rows(self, session: AsyncSession) -> Sequence[Sequence[Any]]:
        driver = await driver_connection(session)
        return [_plain(row) for row in await driver.execute_fetchall(_COLUMN_ROWS, ())]

    def _name_prefix_match(self, words: Sequence[str]) -> ColumnElement[bool] | TextClause:
        expression = " AND ".join(f"name : {_quoted(w)}*" for w in words)
        return text(
            "search_documents.service_id IN "
            "(SELECT service_id FROM search_fts WHERE search_fts MATCH :prefix)"
        ).bindparams(bindparam("prefix", expression))

    def _near_misses(self, words: Sequence[str]) -> ColumnElement[bool]:
        ranges = []
        for word in words:
            edits = max_edits(word)
            first = word[0]
            ranges.append(
                and_(
                    SearchTerm.term >= first,
                    SearchTerm.term < chr(ord(first) + 1),
                    func.length(SearchTerm.term).between(len(word) - edits, len(word) + edits),
                )
            )
        return or_(*ranges)

    def _tags_any(self, tags: Sequence[str]) -> ColumnElement[bool]:
        return json_tags_any(tags)

    async def _write_text_index(
        self, session: AsyncSession, docs: Sequence[IndexedService]
    ) -> None:
        await self._delete_text_index(session, [d.service_id for d in docs])
        # rowid of the FTS row = rowid of the document row, so a match joins by rowid.
        await session.execute(
            text(
                "INSERT INTO search_fts (rowid, service_id, name, tags, category, provider, "
                "description) SELECT rowid, service_id, name, tags_text, category, "
                "provider_name, description FROM search_documents WHERE service_id = :id"
            ),
            [{"id": d.service_id} for d in docs],
        )

    async def _delete_text_index(self, session: AsyncSession, ids: Sequence[str] | None) -> None:
        if ids is None:
            await session.execute(text("DELETE FROM search_fts"))
            return
        # By rowid (the FTS table's key, shared with the document row): service_id is not
        # indexed in FTS5, so deleting by it would scan the whole table per document.
        await session.execute(
            text(
                "DELETE FROM search_fts WHERE rowid = "
                "(SELECT rowid FROM search_documents WHERE service_id = :id)"
            ),
            [{"id": i} for i in ids],
        )
