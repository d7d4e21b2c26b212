"""The built-in index's generation: a counter in the database, bumped by every write.

Every transaction that changes the built-in index (indexer events, signals refresh, reindex,
removal) increments it in the same transaction, so a reader that sees generation ``g`` sees
the index contents of ``g`` or newer. Results cached under a generation
(``result_cache.py``) are therefore never served once the index has changed, whichever
process (another gateway worker, the ``search reindex`` command) made the change.

The counter is a row of ``search_index_state`` (name ``builtin:generation``, the count in
``last_event_id``): the table already holds the built-in index's durable state, and a row
needs no schema change.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from persistence.models import SearchIndexState
from persistence.models.base import utcnow

GENERATION_ROW = "builtin:generation"

# The dialect's ``insert`` (sqlite or postgresql), both with ``on_conflict_do_update``.
Insert = Callable[[Any], Any]

_current = select(SearchIndexState.last_event_id).where(SearchIndexState.name == GENERATION_ROW)


async def current(session: AsyncSession) -> int:
    """The generation the session's next reads see at least (read it before them)."""
    return int(await session.scalar(_current) or 0)


async def bump(session: AsyncSession, insert: Insert) -> None:
    """Advance the generation inside the caller's writing transaction."""
    state = SearchIndexState
    now = utcnow()
    statement = insert(state).values(name=GENERATION_ROW, last_event_id=1, updated_at=now)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[state.name],
            set_={"last_event_id": state.last_event_id + 1, "updated_at": now},
        )
    )
