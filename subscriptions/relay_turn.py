"""Whose turn it is to publish: one relay at a time per database, without a write lock.

Only one relay may publish at a time, or two replicas could publish disjoint batches
concurrently and the bus would carry ids out of order (a gap to subscribers, who drop ids at
or below the last delivered). The turn must not be a database *write* lock: a relay keeps its
turn while it publishes and the event loop runs the fan-out, and on SQLite a write lock held
that long makes every mutation and the search indexer wait behind it (SQLite's busy handler
then sleeps in growing steps, so one wait can cost hundreds of milliseconds).

* PostgreSQL: a transaction-scoped advisory *try*-lock in a transaction that writes nothing;
  it ends (and the lock with it) when the turn ends or the connection dies.
* SQLite: an exclusive ``flock`` on a file beside the database, the same host-wide scope as
  the database file itself; the kernel releases it if the process dies. An in-memory
  database is private to one connection, so there is nothing to share a turn with.
"""

from __future__ import annotations

import contextlib
import fcntl
from collections.abc import AsyncIterator
from typing import IO

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

# Any fixed 64-bit number, distinct from the governance write lock's key.
RELAY_LOCK_KEY = 0x6D6B_7467_6F76_0002


class RelayTurn:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._file: IO[bytes] | None = None
        database = engine.url.database
        self._lock_path = (
            f"{database}-relay.lock"
            if engine.dialect.name == "sqlite" and database and database != ":memory:"
            else None
        )

    @contextlib.asynccontextmanager
    async def take(self) -> AsyncIterator[bool]:
        """Yields whether this relay has the turn; another relay has it if not."""
        if self.engine.dialect.name == "postgresql":
            async with self.engine.connect() as conn, conn.begin():
                got = await conn.scalar(
                    text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": RELAY_LOCK_KEY}
                )
                yield bool(got)
            return
        if self._lock_path is None:
            yield True
            return
        fileno = self._lock_file(self._lock_path)
        try:
            # Non-blocking, like the PostgreSQL try-lock: a busy relay retries shortly.
            fcntl.flock(fileno, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fileno, fcntl.LOCK_UN)

    def _lock_file(self, path: str) -> int:
        # Opened once and kept: a local file, so opening it does not block the loop for long.
        if self._file is None:
            self._file = open(path, "ab")
        return self._file.fileno()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
