"""Serialised access to the request's single ``AsyncSession``.

GraphQL resolves sibling fields concurrently, so several DataLoaders can dispatch in the same
event-loop tick. An ``AsyncSession`` must not be used concurrently, so reads go through one
lock: the batching already keeps the statement count flat, the lock only orders them.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from sqlalchemy import FromClause, Row, Select, bindparam, select
from sqlalchemy.engine import Result
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

T = TypeVar("T")
# A Core row of any columns (read by attribute: persistence/models/records.py).
AnyRow = Row[*tuple[Any, ...]]


class RequestDB:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.lock = asyncio.Lock()

    async def execute(self, statement: Any, params: Any = None) -> Result[*tuple[Any, ...]]:
        async with self.lock:
            return await self.session.execute(statement, params)

    async def scalars(self, statement: Select[T], params: Any = None) -> Sequence[T]:
        async with self.lock:
            return (await self.session.scalars(statement, params)).all()

    async def rows(self, statement: Any, params: Any = None) -> Sequence[AnyRow]:
        """A Core statement's rows (``persistence/models/records.py``)."""
        async with self.lock:
            return (await self.session.execute(statement, params)).all()

    async def scalar(self, statement: Any, params: Any = None) -> Any:
        async with self.lock:
            return await self.session.scalar(statement, params)

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncSession]:
        """The session, for reads made through it directly (a search) rather than through
        the DataLoaders; they wait for the block to end."""
        async with self.lock:
            yield self.session

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """One write transaction: commits on success, rolls everything back on any error.

        The lock is held throughout, so inside the block use the yielded session directly,
        not the DataLoaders (they would wait for the lock).
        """
        async with self.lock:
            if self.session.in_transaction():
                await self.session.commit()  # close the read transaction autobegun earlier
            async with self.session.begin():
                yield self.session


M = TypeVar("M")
R = TypeVar("R")


def rows_by_unique_key(
    model: type[M], column: InstrumentedAttribute[str]
) -> Callable[[RequestDB, Sequence[str]], Awaitable[list[M | None]]]:
    """A DataLoader batch function: one ``IN`` query, entities back in key order, None if
    missing."""
    # Built once, the keys bound at execution: a statement per batch costs its cache key
    # (≈ 40 µs), and even ``params()`` clones the statement and computes it again (≈ 20 µs).
    statement = select(model).where(column.in_(bindparam("keys", expanding=True)))
    return _in_key_order(lambda db, keys: db.scalars(statement, {"keys": keys}), column.key)


def records_by_unique_key(
    table: FromClause, key: str
) -> Callable[[RequestDB, Sequence[str]], Awaitable[list[AnyRow | None]]]:
    """``rows_by_unique_key`` for reads: Core rows of ``table`` (persistence/models/records.py)."""
    statement = select(table).where(table.c[key].in_(bindparam("keys", expanding=True)))
    return _in_key_order(lambda db, keys: db.rows(statement, {"keys": keys}), key)


def _in_key_order(
    fetch: Callable[[RequestDB, list[str]], Awaitable[Sequence[R]]], key: str
) -> Callable[[RequestDB, Sequence[str]], Awaitable[list[R | None]]]:
    async def load(db: RequestDB, keys: Sequence[str]) -> list[R | None]:
        found = {getattr(row, key): row for row in await fetch(db, sorted(set(keys)))}
        return [found.get(k) for k in keys]

    return load
