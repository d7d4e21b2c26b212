"""Fixtures and helpers shared by the search tests: one fixture set per search backend."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select, update

from graph.runtime import Runtime
from graph.settings import Settings, load_settings
from persistence.models import GovernanceEvent, Service, ServiceStatus
from persistence.search.indexer import SearchIndexer
from tests.conftest import gql, service_url

# search backend -> the database it runs on (Elasticsearch runs beside an SQLite database).
SEARCH_BACKENDS = {"sqlite-fts5": "sqlite", "postgres": "postgres", "elasticsearch": "sqlite"}

SEARCH = """
query Search($query: String, $filter: SearchFilterInput, $sort: SearchSort, $first: Int,
             $after: String) {
  searchServices(query: $query, filter: $filter, sort: $sort, first: $first, after: $after) {
    totalCount tookMs backend
    edges { cursor node {
      score highlights
      scoreBreakdown { relevance popularity performance compliance }
      service { id slug name category tags status createdAt provider { id } }
    } }
    facets {
      categories { value count } tags { value count }
      pricingModels { value count } providers { value count }
    }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}
"""


def search_settings(
    search_backend: str, database_url: str, tmp_path: Path, **overrides: Any
) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "data_dir": tmp_path,
        "elasticsearch_url": None,
        "elasticsearch_index": f"test-search-{uuid.uuid4().hex[:12]}",
    }
    if search_backend == "elasticsearch":
        values["elasticsearch_url"] = service_url("MARKETPLACE_ELASTICSEARCH_URL")
    values.update(overrides)
    return load_settings(**values)


def runtime_of(client: httpx.AsyncClient) -> Runtime:
    runtime: Runtime = client.app.state.runtime  # type: ignore[attr-defined]
    return runtime


def indexer_of(client: httpx.AsyncClient) -> SearchIndexer:
    runtime = runtime_of(client)
    return SearchIndexer(runtime.session_factory, runtime.search)


async def indexed(client: httpx.AsyncClient) -> AsyncIterator[httpx.AsyncClient]:
    """Build every configured index from the (seeded) database; drop Elasticsearch after."""
    await indexer_of(client).rebuild()
    try:
        yield client
    finally:
        elastic = runtime_of(client).search.elastic
        if elastic is not None:
            await elastic.drop()


async def search(client: httpx.AsyncClient, **variables: Any) -> dict[str, Any]:
    body = await gql(client, SEARCH, variables)
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["searchServices"]
    return result


async def search_error(client: httpx.AsyncClient, **variables: Any) -> dict[str, Any]:
    body = await gql(client, SEARCH, variables)
    assert body.get("errors"), body
    error: dict[str, Any] = body["errors"][0]
    return error


def names(result: dict[str, Any]) -> list[str]:
    return [e["node"]["service"]["name"] for e in result["edges"]]


async def change_service(app: httpx.AsyncClient, slug: str, event: str, **values: Any) -> None:
    """A catalog change as the publishing path makes it: the row and its outbox event in one
    transaction."""
    async with runtime_of(app).session_factory() as session, session.begin():
        service = await session.scalar(select(Service).where(Service.slug == slug))
        assert service is not None
        await session.execute(update(Service).where(Service.id == service.id).values(**values))
        session.add(
            GovernanceEvent(
                type=event,
                occurred_at=datetime.now(UTC),
                service_id=service.id,
                actor="test",
                payload={k: str(v) for k, v in values.items()},
            )
        )


async def change_status(app: httpx.AsyncClient, slug: str, status: ServiceStatus) -> None:
    await change_service(app, slug, "SERVICE_STATUS_CHANGED", status=status.value)


async def within(seconds: float, check: Callable[[], Awaitable[bool]]) -> float:
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if await check():
            return time.monotonic() - started
        await asyncio.sleep(0.05)
    raise AssertionError(f"not within {seconds} s")
