"""The async engine and session factory for the configured database."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from persistence import sqlite_connection

SQLITE_POOL_SIZE = 32


def create_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, echo=echo, **_sqlite_connection_options(parsed.database))
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(url, echo=echo, pool_size=10, max_overflow=20, pool_pre_ping=True)


def _sqlite_connection_options(database: str | None) -> dict[str, Any]:
    if not database or database == ":memory:":
        return {"connect_args": {"timeout": 30}}
    path = database
    return {
        # Short reads run on the event loop, not aiosqlite's thread (sqlite_connection.py).
        "async_creator": lambda: sqlite_connection.connect(path, timeout=30),
        # One connection per request in flight: SQLAlchemy's default pool (5, overflow
        # closed on return) opened and closed connections, a thread each, under load.
        "pool_size": SQLITE_POOL_SIZE,
        "max_overflow": SQLITE_POOL_SIZE,
    }


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers proceed while one writer commits; foreign keys are off by default.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)
