"""The search indexes one gateway process uses: the built-in one always (it is the fallback),
Elasticsearch as well when it is configured."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from graph.settings import Settings
from persistence.search.base import MatchResult, SearchBackendUnavailable, SearchFilter
from persistence.search.builtin import BuiltinIndex
from persistence.search.elastic import ElasticsearchIndex
from persistence.search.postgres_fts import PostgresFtsIndex
from persistence.search.ranked import RankedPage, RankedQuery
from persistence.search.sqlite_fts import SqliteFtsIndex

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Answer:
    result: MatchResult
    backend: str
    degraded: bool  # True when the configured primary failed and the built-in one answered


@dataclass(frozen=True)
class RankedAnswer:
    page: RankedPage
    backend: str
    degraded: bool


@dataclass
class SearchIndexes:
    builtin: BuiltinIndex
    elastic: ElasticsearchIndex | None = None
    # One writer at a time per process: the background indexer, a reindex and a signals
    # refresh must not interleave their clear/write/cursor steps.
    write_lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    @classmethod
    def create(
        cls, settings: Settings, session_factory: async_sessionmaker[AsyncSession]
    ) -> SearchIndexes:
        builtin: BuiltinIndex = (
            PostgresFtsIndex(session_factory)
            if settings.is_postgres
            else SqliteFtsIndex(session_factory)
        )
        elastic = (
            ElasticsearchIndex(
                settings.elasticsearch_url, settings.elasticsearch_index, builtin.known_terms
            )
            if settings.elasticsearch_url
            else None
        )
        return cls(builtin=builtin, elastic=elastic)

    @property
    def primary_name(self) -> str:
        return (self.elastic or self.builtin).name

    async def match(self, query: str, flt: SearchFilter) -> Answer:
        if self.elastic is not None:
            try:
                return Answer(await self.elastic.match(query, flt), self.elastic.name, False)
            except SearchBackendUnavailable as exc:
                log.warning("search falls back to the built-in index: %s", exc)
                return Answer(await self.builtin.match(query, flt), self.builtin.name, True)
        return Answer(await self.builtin.match(query, flt), self.builtin.name, False)

    async def ranked(
        self, query: str, flt: SearchFilter, ask: RankedQuery, session: AsyncSession | None = None
    ) -> RankedAnswer:
        """One ranked page: every engine ranks, pages, counts and facets natively. The
        built-in engine reads through ``session`` when given (``BuiltinIndex.ranked_search``)."""
        if self.elastic is not None:
            try:
                page = await self.elastic.ranked_search(query, flt, ask)
                return RankedAnswer(page, self.elastic.name, False)
            except SearchBackendUnavailable as exc:
                log.warning("search falls back to the built-in index: %s", exc)
                page = await self.builtin.ranked_search(query, flt, ask, session)
                return RankedAnswer(page, self.builtin.name, True)
        return RankedAnswer(
            await self.builtin.ranked_search(query, flt, ask, session), self.builtin.name, False
        )

    async def suggest(
        self, prefix: str, statuses: Sequence[str], limit: int
    ) -> tuple[list[str], bool]:
        if self.elastic is not None:
            try:
                return await self.elastic.suggest(prefix, statuses, limit), False
            except SearchBackendUnavailable as exc:
                log.warning("suggestions fall back to the built-in index: %s", exc)
                return await self.builtin.suggest(prefix, statuses, limit), True
        return await self.builtin.suggest(prefix, statuses, limit), False

    async def close(self) -> None:
        if self.elastic is not None:
            await self.elastic.close()
