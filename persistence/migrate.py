"""Apply Alembic migrations programmatically (used by the CLI, `make run` and the tests)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection

from persistence.database import create_engine

_INI = Path(__file__).with_name("alembic.ini")


def alembic_config(url: str) -> Config:
    config = Config(str(_INI))
    config.set_main_option("script_location", str(_INI.parent / "migrations"))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


async def upgrade(url: str, revision: str = "head") -> None:
    """Upgrade the database at ``url`` to ``revision`` in one transaction."""
    config = alembic_config(url)
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:

            def _upgrade(sync_connection: Connection) -> None:
                config.attributes["connection"] = sync_connection
                command.upgrade(config, revision)

            await connection.run_sync(_upgrade)
    finally:
        await engine.dispose()


def upgrade_sync(url: str, revision: str = "head") -> None:
    asyncio.run(upgrade(url, revision))
