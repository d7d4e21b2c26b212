"""PostgreSQL's own search migrations move data, so each is run up and down over a document."""

from __future__ import annotations

from typing import Any

from alembic import command
from sqlalchemy import text
from sqlalchemy.engine import Connection

from persistence.database import create_engine
from persistence.migrate import alembic_config, upgrade
from tests.conftest import empty_postgres_database

_DOCUMENT = """
INSERT INTO search_documents (service_id, slug, name, description, category, tags, tags_text,
  provider_id, provider_name, status, pricing_model, usage_count, created_at, indexed_at)
VALUES ('s-1', 'quokka', 'Quokka Chat', 'Answers questions.', 'chat', '["fast"]', 'fast',
  'p-1', 'Marsupial Labs', 'ACTIVE', 'PER_TOKEN', 0, now(), now())
"""
_COLUMNS = (
    "SELECT count(*) FROM information_schema.columns "
    "WHERE table_name = 'search_documents' AND column_name = 'search_vector'"
)


async def _downgrade(url: str, revision: str) -> None:
    engine = create_engine(url)
    async with engine.begin() as connection:

        def run(sync_connection: Connection) -> None:
            config = alembic_config(url)
            config.attributes["connection"] = sync_connection
            command.downgrade(config, revision)

        await connection.run_sync(run)
    await engine.dispose()


async def _execute(url: str, statement: str) -> None:
    engine = create_engine(url)
    async with engine.begin() as connection:
        await connection.execute(text(statement))
    await engine.dispose()


async def _scalar(url: str, statement: str) -> Any:
    engine = create_engine(url)
    async with engine.connect() as connection:
        value = await connection.scalar(text(statement))
    await engine.dispose()
    return value


async def test_the_text_table_takes_over_the_vectors_and_gives_them_back():
    url = await empty_postgres_database("migrations")
    await upgrade(url, "0003")
    await _execute(url, _DOCUMENT)
    before = await _scalar(url, "SELECT search_vector::text FROM search_documents")
    assert "'quokka':1A" in before and "'marsupial':" in before

    await upgrade(url, "0004")
    assert await _scalar(url, "SELECT search_vector::text FROM search_text") == before
    assert await _scalar(url, _COLUMNS) == 0

    await _downgrade(url, "0003")
    # The generated column is back, computed from the document again.
    assert await _scalar(url, "SELECT search_vector::text FROM search_documents") == before
    assert await _scalar(url, "SELECT to_regclass('search_text')") is None

    await upgrade(url, "0004")
    # Deleting a document takes its vector with it.
    await _execute(url, "DELETE FROM search_documents")
    assert await _scalar(url, "SELECT count(*) FROM search_text") == 0
