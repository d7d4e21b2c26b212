"""Serialise governance writers so the audit chain and the outbox ids follow commit order.

* PostgreSQL: a transaction-scoped advisory lock. Holding it from the first audit/outbox
  write until commit means ids are handed out in commit order (a reader paging by id never
  skips a row that commits late) and each audit entry links to the committed chain head.
* SQLite: a database has one writer at a time, but the driver only opens the write
  transaction at the first data-changing statement, so a read before it could go stale.
  A data-changing statement that matches no row takes the write lock up front.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

# Any fixed 64-bit number, unique to this use of advisory locks in the database.
GOVERNANCE_WRITE_LOCK_KEY = 0x6D6B_7467_6F76_0001


async def lock_governance_writes(session: AsyncSession) -> None:
    """Wait until this transaction is the only one writing audit entries and events."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        await session.execute(
            text("SELECT pg_advisory_xact_lock(:key)"), {"key": GOVERNANCE_WRITE_LOCK_KEY}
        )
    elif dialect == "sqlite":
        await session.execute(text("DELETE FROM governance_events WHERE 1 = 0"))
