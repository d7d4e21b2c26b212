"""``marketplace-gateway search reindex``: rebuild the indexes, a progress line on stderr."""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable

from graph.settings import Settings
from persistence.database import create_engine, create_session_factory
from persistence.search.indexer import SearchIndexer
from persistence.search.indexes import SearchIndexes

BAR_WIDTH = 30


def _progress(label: str) -> tuple[Callable[[int, int], None], Callable[[], None]]:
    started = time.monotonic()

    def show(done: int, total: int) -> None:
        filled = BAR_WIDTH * done // total if total else BAR_WIDTH
        bar = "#" * filled + "-" * (BAR_WIDTH - filled)
        rate = done / max(time.monotonic() - started, 1e-6)
        sys.stderr.write(f"\r{label:<14} [{bar}] {done}/{total} ({rate:,.0f}/s)")
        sys.stderr.flush()

    def finish() -> None:
        sys.stderr.write("\n")

    return show, finish


async def rebuild_indexes(settings: Settings) -> str:
    engine = create_engine(settings.effective_database_url)
    session_factory = create_session_factory(engine)
    indexes = SearchIndexes.create(settings, session_factory)
    indexer = SearchIndexer(session_factory, indexes)
    try:
        show, finish = _progress(indexes.builtin.name)
        count = await indexer.rebuild_builtin(show)
        finish()
        lines = [f"{indexes.builtin.name}: {count} services indexed"]
        if indexes.elastic is not None:
            show, finish = _progress("elasticsearch")
            count = await indexer.rebuild_elastic(show)
            finish()
            lines.append(
                f"elasticsearch: {count} services indexed, alias {indexes.elastic.alias!r} swapped"
            )
        return "\n".join(lines)
    finally:
        await indexes.close()
        await engine.dispose()


def reindex(settings: Settings) -> int:
    print(asyncio.run(rebuild_indexes(settings)))
    return 0
