"""What one gateway process holds for its lifetime: settings, the database engine, backends."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from graph.settings import Settings
from persistence.database import create_engine, create_session_factory


@dataclass
class Runtime:
    settings: Settings
    engine: AsyncEngine
    session_factory: async_sessionmaker[AsyncSession]

    @classmethod
    def create(cls, settings: Settings) -> Runtime:
        engine = create_engine(settings.effective_database_url, echo=settings.database_echo)
        return cls(settings=settings, engine=engine, session_factory=create_session_factory(engine))

    async def close(self) -> None:
        await self.engine.dispose()
