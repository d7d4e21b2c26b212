"""Keeps the search indexes current: a durable consumer of the governance event outbox.

Every catalog or governance change writes a ``governance_events`` row in its own transaction
(ids strictly increase). Each index keeps the last event id it applied in
``search_index_state``; the indexer polls for newer events, reindexes the services they name
in batches, and advances the cursor. For the built-in index the documents and the cursor
commit in one transaction (exactly once); for Elasticsearch the cursor commits after the bulk
write succeeds (at least once; writes are idempotent upserts by service id).

Ranking signals (usage, latency, compliance) change without events, so every
``search_signals_refresh_seconds`` all documents are rebuilt from the tables as well. A built-in
index with no cursor row yet (a new database) is rebuilt in full first; an Elasticsearch index
is first built by ``marketplace-gateway search reindex`` (until then the built-in index answers,
flagged ``degraded``), so a process never creates indices on a shared cluster by itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from persistence.models import GovernanceEvent, SearchIndexState
from persistence.models.base import utcnow
from persistence.search.base import IndexedService, SearchBackendUnavailable
from persistence.search.documents import all_service_ids, load_documents
from persistence.search.indexes import SearchIndexes

log = logging.getLogger(__name__)

EVENT_BATCH = 500
DOCUMENT_BATCH = 500
RETRY_SECONDS = 5.0

Progress = Callable[[int, int], None]  # (done, total)


async def _cursor(session: AsyncSession, name: str) -> int | None:
    return await session.scalar(
        select(SearchIndexState.last_event_id).where(SearchIndexState.name == name)
    )


async def _set_cursor(session: AsyncSession, name: str, event_id: int, *, full: bool) -> None:
    values: dict[str, object] = {"last_event_id": event_id, "updated_at": utcnow()}
    if full:
        values["last_full_refresh_at"] = utcnow()
    updated = await session.execute(
        update(SearchIndexState).where(SearchIndexState.name == name).values(**values)
    )
    if not updated.rowcount:  # type: ignore[attr-defined]
        session.add(SearchIndexState(name=name, **values))


async def _batches(
    session_factory: async_sessionmaker[AsyncSession], ids: Sequence[str], progress: Progress | None
) -> AsyncIterator[list[IndexedService]]:
    for start in range(0, len(ids), DOCUMENT_BATCH):
        async with session_factory() as session:
            docs = await load_documents(session, ids[start : start + DOCUMENT_BATCH])
        yield docs
        if progress:
            progress(min(start + DOCUMENT_BATCH, len(ids)), len(ids))


@dataclass
class SearchIndexer:
    session_factory: async_sessionmaker[AsyncSession]
    indexes: SearchIndexes
    poll_seconds: float = 0.2
    refresh_seconds: float = 300.0

    def __post_init__(self) -> None:
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._last_refresh = time.monotonic()

    @property
    def builtin_cursor(self) -> str:
        return "builtin"

    @property
    def elastic_cursor(self) -> str | None:
        return f"es:{self.indexes.elastic.alias}"[:32] if self.indexes.elastic else None

    # --- one-off operations ----------------------------------------------------------------

    async def _head(self) -> int:
        async with self.session_factory() as session:
            return int(await session.scalar(select(func.max(GovernanceEvent.id))) or 0)

    async def rebuild_builtin(self, progress: Progress | None = None) -> int:
        """Replace the built-in index's contents in one transaction (readers see old or new)."""
        head = await self._head()
        async with self.session_factory() as session, session.begin():
            ids = await all_service_ids(session)
            await self.indexes.builtin.clear(session)
            for start in range(0, len(ids), DOCUMENT_BATCH):
                docs = await load_documents(session, ids[start : start + DOCUMENT_BATCH])
                await self.indexes.builtin.write(session, docs)
                if progress:
                    progress(min(start + DOCUMENT_BATCH, len(ids)), len(ids))
            await _set_cursor(session, self.builtin_cursor, head, full=True)
        return len(ids)

    async def rebuild_elastic(self, progress: Progress | None = None) -> int:
        """Build a new Elasticsearch index and swap the alias to it."""
        elastic, name = self.indexes.elastic, self.elastic_cursor
        if elastic is None or name is None:
            return 0
        head = await self._head()
        async with self.session_factory() as session:
            ids = await all_service_ids(session)
        total = await elastic.rebuild(_batches(self.session_factory, ids, progress))
        async with self.session_factory() as session, session.begin():
            await _set_cursor(session, name, head, full=True)
        return total

    async def rebuild(self, progress: Progress | None = None) -> int:
        async with self.indexes.write_lock:
            count = await self.rebuild_builtin(progress)
            await self.rebuild_elastic(progress)
        return count

    # --- the outbox consumer ---------------------------------------------------------------

    async def _pending(self, session: AsyncSession, after: int) -> tuple[int, list[str]]:
        rows = (
            await session.execute(
                select(GovernanceEvent.id, GovernanceEvent.service_id)
                .where(GovernanceEvent.id > after)
                .order_by(GovernanceEvent.id)
                .limit(EVENT_BATCH)
            )
        ).all()
        if not rows:
            return after, []
        return int(rows[-1][0]), sorted({sid for _, sid in rows if sid})

    async def sync_builtin(self) -> int:
        """Apply the events after the built-in cursor; returns how many services changed."""
        async with self.session_factory() as session:
            cursor = await _cursor(session, self.builtin_cursor)
        if cursor is None:
            return await self.rebuild_builtin()
        async with self.session_factory() as session, session.begin():
            last, ids = await self._pending(session, cursor)
            if last == cursor:
                return 0
            docs = await load_documents(session, ids)
            await self.indexes.builtin.write(session, docs)
            found = {d.service_id for d in docs}
            await self.indexes.builtin.remove(session, [i for i in ids if i not in found])
            await _set_cursor(session, self.builtin_cursor, last, full=False)
        return len(ids)

    async def sync_elastic(self) -> int:
        elastic, name = self.indexes.elastic, self.elastic_cursor
        if elastic is None or name is None:
            return 0
        async with self.session_factory() as session:
            cursor = await _cursor(session, name)
        if cursor is None:
            return 0  # not built yet: `marketplace-gateway search reindex` builds it
        async with self.session_factory() as session:
            last, ids = await self._pending(session, cursor)
            if last == cursor:
                return 0
            docs = await load_documents(session, ids)
        await elastic.upsert(docs)
        found = {d.service_id for d in docs}
        await elastic.delete([i for i in ids if i not in found])
        async with self.session_factory() as session, session.begin():
            await _set_cursor(session, name, last, full=False)
        return len(ids)

    async def sync(self) -> int:
        """One round: built-in first (it is the fallback), then Elasticsearch."""
        async with self.indexes.write_lock:
            changed = await self.sync_builtin()
            try:
                await self.sync_elastic()
            except SearchBackendUnavailable as exc:
                log.warning("search indexer: Elasticsearch not updated, will retry: %s", exc)
        return changed

    async def _refresh_signals(self) -> None:
        if time.monotonic() - self._last_refresh < self.refresh_seconds:
            return
        self._last_refresh = time.monotonic()
        async with self.session_factory() as session:
            ids = await all_service_ids(session)
            name = self.elastic_cursor
            elastic_built = name is not None and await _cursor(session, name) is not None
        async with self.indexes.write_lock:
            async for docs in _batches(self.session_factory, ids, None):
                await self.indexes.builtin.upsert(docs)
                if self.indexes.elastic is not None and elastic_built:
                    with contextlib.suppress(SearchBackendUnavailable):
                        await self.indexes.elastic.upsert(docs)

    async def _run(self) -> None:
        while True:
            try:
                await self.sync()
                await self._refresh_signals()
                delay = self.poll_seconds
            except asyncio.CancelledError:
                raise
            except Exception:  # keep consuming: one failed round must not stop indexing
                log.exception("search indexer round failed")
                delay = RETRY_SECONDS
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), delay)
            self._wake.clear()

    def notify(self) -> None:
        """Wake the consumer now (e.g. an event bus message arrived) instead of at next poll."""
        self._wake.set()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="search-indexer")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
