"""aiosqlite connections whose short reads run on the event loop instead of a thread.

aiosqlite runs every call of a connection on that connection's own thread: a statement read
through SQLAlchemy makes four hand-offs (cursor, execute, fetch, close), each a queue put, a
thread wake-up, a GIL hand-over and a ``call_soon_threadsafe`` back. For the reads a GraphQL
request is made of (rows by key, a page of a list) the hand-offs cost several times the read
itself, and the more requests a process serves at once, the more connection threads fight
the event loop for the GIL: one worker's CPU per cross-subgraph request doubled from 1 to 8
concurrent requests (docs/performance.md, fifth pass).

So a ``SELECT`` runs inline, on the caller's thread, under a time budget: SQLite's progress
handler interrupts it once it has run ``INLINE_BUDGET_SECONDS``, and it is then run again on
the connection's thread, where a long read does not hold up the event loop. The statement's
text is remembered as long, so the next time it goes straight to the thread. Interrupting a
``SELECT`` has no side effect (SQLite rolls back only interrupted writes), so running it again
gives the same answer. Everything that writes or may wait on a lock (DML, DDL, ``PRAGMA``,
``COMMIT``, ``WITH`` statements, ``executemany``, scripts) keeps the thread: in WAL mode a
reader never waits on a writer, but a writer waits up to the busy timeout.

Inline and threaded calls on one connection never overlap: each call is awaited before the
next one is made (SQLAlchemy's adapter serialises them), so the sqlite3 connection, opened
with ``check_same_thread=False``, is used by one thread at a time.
"""

from __future__ import annotations

import sqlite3
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, TypeVar

import aiosqlite

INLINE_BUDGET_SECONDS = 0.002
# SQLite calls the progress handler every this many virtual-machine instructions: tens of
# microseconds of work, so the budget is kept closely and the handler stays cheap.
PROGRESS_INSTRUCTIONS = 2_000
LONG_READS_REMEMBERED = 256

T = TypeVar("T")


class InlineReadsConnection(aiosqlite.Connection):
    """An ``aiosqlite.Connection`` that runs short reads inline (see the module docstring)."""

    # SQL texts of reads that overran the budget once: shared by every connection of the
    # process (the same statements run on all of them), bounded, least recently seen first.
    long_reads: OrderedDict[str, None] = OrderedDict()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadline = 0.0
        self._inline_cursors: dict[int, tuple[Any, ...]] = {}  # id(cursor) -> execute args

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        name = getattr(fn, "__name__", "")
        target = getattr(fn, "__self__", None)
        if isinstance(target, sqlite3.Cursor):
            # Any call on the cursor ends what its last inline execute left to fetch.
            inline_args = self._inline_cursors.pop(id(target), None)
            if name == "execute" and not kwargs and _is_short_read_candidate(args):
                return await self._execute_read(fn, target, args)
            if name == "fetchall" and inline_args is not None:
                return await self._fetchall_read(fn, target, inline_args)
            if name == "close":
                return fn()
        elif isinstance(target, sqlite3.Connection):
            # A new cursor, or a rollback with nothing to roll back (a read-only session
            # returning to the pool): no I/O, no lock.
            if name == "cursor" or (name == "rollback" and not target.in_transaction):
                self._check_open()
                result = fn(*args, **kwargs)
                self._inline_cursors.pop(id(result), None)  # an id reused by a new cursor
                return result
        return await super()._execute(fn, *args, **kwargs)

    async def _execute_read(
        self, execute: Callable[..., Any], cursor: sqlite3.Cursor, args: tuple[Any, ...]
    ) -> Any:
        self._check_open()
        try:
            result = self._within_budget(execute, *args)
        except _Overran:
            _remember_long(args[0])
            return await super()._execute(execute, *args)
        self._inline_cursors[id(cursor)] = args
        return result

    async def _fetchall_read(
        self, fetchall: Callable[[], Any], cursor: sqlite3.Cursor, args: tuple[Any, ...]
    ) -> Any:
        try:
            return self._within_budget(fetchall)
        except _Overran:
            # The interrupted statement cannot be resumed: run it again, on the thread.
            _remember_long(args[0])

            def execute_and_fetch() -> Any:
                cursor.execute(*args)
                return cursor.fetchall()

            return await super()._execute(execute_and_fetch)

    async def on_thread(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``fn`` with the sqlite3 connection on the connection's thread: a long read that
        makes something compact of its rows as it fetches them."""
        result: T = await super()._execute(lambda: fn(self._conn))
        return result

    def _within_budget(self, fn: Callable[..., Any], *args: Any) -> Any:
        connection = self._conn
        self._deadline = time.perf_counter() + INLINE_BUDGET_SECONDS
        connection.set_progress_handler(self._overran, PROGRESS_INSTRUCTIONS)
        try:
            return fn(*args)
        except sqlite3.OperationalError as error:
            if self._deadline == 0.0:  # interrupted by the budget, not an error of the read
                raise _Overran from error
            raise
        finally:
            connection.set_progress_handler(None, 0)

    def _overran(self) -> int:
        if time.perf_counter() > self._deadline:
            self._deadline = 0.0
            return 1  # non-zero: SQLite interrupts the statement
        return 0

    def _check_open(self) -> None:
        if not self._running or not self._connection:
            raise ValueError("Connection closed")  # what aiosqlite raises, see its _execute


class _Overran(Exception):
    """An inline read ran past its budget and was interrupted."""


def _is_short_read_candidate(args: tuple[Any, ...]) -> bool:
    if not args or not isinstance(args[0], str):
        return False
    sql = args[0]
    return sql.lstrip()[:6].upper() == "SELECT" and sql not in InlineReadsConnection.long_reads


def _remember_long(sql: str) -> None:
    long_reads = InlineReadsConnection.long_reads
    long_reads[sql] = None
    if len(long_reads) > LONG_READS_REMEMBERED:
        long_reads.popitem(last=False)


def connect(database: str, **kwargs: Any) -> InlineReadsConnection:
    """Like ``aiosqlite.connect``, returning an ``InlineReadsConnection``."""

    def connector() -> sqlite3.Connection:
        return sqlite3.connect(database, check_same_thread=False, **kwargs)

    connection = InlineReadsConnection(connector, 64)
    connection._thread.daemon = True  # as SQLAlchemy's aiosqlite dialect sets it
    return connection
