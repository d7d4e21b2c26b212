"""Short SQLite reads run on the event loop; long ones, and every write, on the connection's
thread (persistence/sqlite_connection.py). Which thread ran a statement is read from SQLite
itself, through a function registered on the connection."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from persistence import sqlite_connection
from persistence.database import create_engine
from persistence.sqlite_connection import InlineReadsConnection

# Runs far longer than the inline budget (a million rows of a recursive CTE).
SLOW_SUM = (
    "SELECT sum(x) FROM (WITH RECURSIVE c(x) AS "
    "(SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1000000) SELECT x FROM c)"
)
# Its first row is immediate; fetching every row is what takes long.
SLOW_ROWS = (
    "SELECT x FROM (WITH RECURSIVE c(x) AS "
    "(SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 300000) SELECT x FROM c)"
)


@pytest.fixture
async def connection(tmp_path: Path) -> AsyncIterator[InlineReadsConnection]:
    InlineReadsConnection.long_reads.clear()
    async with sqlite_connection.connect(str(tmp_path / "inline.db")) as conn:
        await conn.create_function("thread_id", 0, threading.get_ident)
        await query(conn, "CREATE TABLE t (x INTEGER)")
        yield conn
    InlineReadsConnection.long_reads.clear()


async def query(conn: InlineReadsConnection, sql: str) -> list[tuple[object, ...]]:
    """Execute and fetch through a cursor, as SQLAlchemy's aiosqlite adapter does."""
    async with await conn.cursor() as cursor:
        await cursor.execute(sql)
        return list(await cursor.fetchall())


async def test_a_short_select_runs_on_the_calling_thread(
    connection: InlineReadsConnection,
) -> None:
    assert await query(connection, "SELECT thread_id()") == [(threading.get_ident(),)]


async def test_a_function_given_the_connection_runs_on_its_thread(
    connection: InlineReadsConnection,
) -> None:
    def read(conn: sqlite3.Connection) -> tuple[int, list[tuple[object, ...]]]:
        return threading.get_ident(), conn.execute("SELECT thread_id()").fetchall()

    ran_on, rows = await connection.on_thread(read)
    assert ran_on != threading.get_ident() and rows == [(ran_on,)]


async def test_writes_and_with_statements_keep_the_connection_thread(
    connection: InlineReadsConnection,
) -> None:
    main = threading.get_ident()
    [(with_thread,)] = await query(connection, "WITH v(t) AS (SELECT thread_id()) SELECT t FROM v")
    assert with_thread != main
    await query(connection, "INSERT INTO t (x) SELECT thread_id()")
    await connection.commit()
    [(written,)] = await query(connection, "SELECT x FROM t")
    assert written != main


async def test_a_read_over_budget_is_run_again_on_the_thread_and_remembered(
    connection: InlineReadsConnection,
) -> None:
    ticks = 0

    async def heartbeat() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    beating = asyncio.create_task(heartbeat())
    try:
        assert await query(connection, SLOW_SUM) == [(500000500000,)]
        assert SLOW_SUM in InlineReadsConnection.long_reads
        before = ticks
        # Known long now: straight to the thread.
        assert await query(connection, SLOW_SUM) == [(500000500000,)]
        assert ticks > before  # the event loop kept running meanwhile
    finally:
        beating.cancel()


async def test_a_fetch_over_budget_returns_every_row_once(
    connection: InlineReadsConnection,
) -> None:
    rows = await query(connection, SLOW_ROWS)
    assert [x for (x,) in rows] == list(range(1, 300001))
    assert SLOW_ROWS in InlineReadsConnection.long_reads


async def test_an_inline_read_sees_the_transactions_own_writes(
    connection: InlineReadsConnection,
) -> None:
    await query(connection, "INSERT INTO t (x) VALUES (42)")
    assert await query(connection, "SELECT x, thread_id() FROM t") == [(42, threading.get_ident())]
    await connection.rollback()
    assert await query(connection, "SELECT count(*) FROM t") == [(0,)]


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'engine.db'}")
    yield engine
    await engine.dispose()


async def test_the_engine_reads_inline_and_reports_sql_errors(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE items (name TEXT)"))
        await conn.execute(text("INSERT INTO items VALUES ('a'), ('b')"))
    async with engine.connect() as conn:
        names = (await conn.execute(text("SELECT name FROM items ORDER BY name"))).scalars()
        assert list(names) == ["a", "b"]
        with pytest.raises(OperationalError, match="no such table: missing"):
            await conn.execute(text("SELECT * FROM missing"))
