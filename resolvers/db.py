"""Serialised access to the request's single ``AsyncSession``.

GraphQL resolves sibling fields concurrently, so several DataLoaders can dispatch in the same
event-loop tick. An ``AsyncSession`` must not be used concurrently, so reads go through one
lock: the batching already keeps the statement count flat, the lock only orders them.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from sqlalchemy import Select
from sqlalchemy.engine import Result
from sqlalchemy.ext.asyncio import AsyncSession

T = TypeVar("T")


class RequestDB:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.lock = asyncio.Lock()

    async def execute(self, statement: Any, params: Any = None) -> Result[*tuple[Any, ...]]:
        async with self.lock:
            return await self.session.execute(statement, params)

    async def scalars(self, statement: Select[T]) -> Sequence[T]:
        async with self.lock:
            return (await self.session.scalars(statement)).all()

    async def scalar(self, statement: Any) -> Any:
        async with self.lock:
            return await self.session.scalar(statement)

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
