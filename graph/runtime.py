"""What one gateway process holds for its lifetime: settings, the database engine, backends."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from graph.settings import Settings
from persistence.database import create_engine, create_session_factory
from persistence.search.indexes import SearchIndexes
from subscriptions.stream import GovernanceStream


@dataclass
class Runtime:
    settings: Settings
    engine: AsyncEngine
    session_factory: async_sessionmaker[AsyncSession]
    # Live governance events; started by the app's lifespan (``await governance.start()``).
    governance: GovernanceStream
    # Search indexes (built-in, plus Elasticsearch when configured); kept current by the
    # search indexer the app's lifespan starts.
    search: SearchIndexes

    @classmethod
    def create(cls, settings: Settings) -> Runtime:
        engine = create_engine(settings.effective_database_url, echo=settings.database_echo)
        session_factory = create_session_factory(engine)
        return cls(
            settings=settings,
            engine=engine,
            session_factory=session_factory,
            governance=GovernanceStream.create(settings, engine, session_factory),
            search=SearchIndexes.create(settings, session_factory),
        )

    async def close(self) -> None:
        await self.governance.close()
        await self.search.close()
        await self.engine.dispose()
