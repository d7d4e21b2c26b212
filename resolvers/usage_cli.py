"""``marketplace-gateway api-key create``: a key for an existing consumer, from the shell."""

from __future__ import annotations

from sqlalchemy import or_, select

from graph.settings import Settings
from persistence.database import create_engine, create_session_factory
from persistence.models import Consumer
from resolvers.audit import append_audit
from resolvers.keys import create_key


async def create_api_key_for(settings: Settings, consumer: str, name: str) -> str:
    """Create a key for the consumer (by id or JWT subject) and return its secret."""
    engine = create_engine(settings.effective_database_url)
    try:
        async with create_session_factory(engine)() as session, session.begin():
            row = await session.scalar(
                select(Consumer).where(or_(Consumer.id == consumer, Consumer.subject == consumer))
            )
            if row is None:
                raise LookupError(f"no consumer {consumer!r}")
            issued = await create_key(
                session,
                consumer_id=row.id,
                name=name,
                expires_at=None,
                pepper=settings.api_key_pepper,
            )
            await append_audit(
                session,
                actor="cli",
                action="usage.create_api_key",
                target_type="ApiKey",
                target_id=issued.row.id,
                diff={"before": None, "after": {"name": name, "prefix": issued.row.prefix}},
                request_id=None,
            )
            return issued.secret
    finally:
        await engine.dispose()
