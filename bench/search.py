"""``searchServices`` latency at 10,000 generated services, for each search backend.

Generates a catalog of 10,000 services (words drawn from the demo vocabulary, a fixed random
seed), builds every index, then times the search path in-process (index match, ranking,
facets, one page), the work a ``searchServices`` request does below GraphQL, and then the
GraphQL request itself end to end: ``POST /graphql`` through the composed gateway app
in-process (``httpx.ASGITransport``, the app's lifespan running: indexer, security, loaders),
selecting what a search page shows (hits with score, breakdown, highlights and the service
with its provider, every facet, page info). Each query shape is timed twice: repeated
(answered by the engines' result caches, as a repeated or paged search is) and first-time
(those caches emptied before every search). A mix of query shapes: one word, two words, a
typo, a filtered query, and browse mode.

Environment: ``MARKETPLACE_BENCH_POSTGRES_URL`` (a database the run may wipe) and
``MARKETPLACE_ELASTICSEARCH_URL``; backends without one are left out of the result.
"""

from __future__ import annotations

import asyncio
import os
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
from sqlalchemy import text

from bench.harness import machine, save
from graph.app import create_app
from graph.runtime import Runtime
from graph.settings import Settings, load_settings
from graph.startup_heap import startup_heap_frozen
from persistence.database import create_engine
from persistence.migrate import upgrade
from persistence.models import PricingModel, Provider, Service, ServicePricing
from persistence.search.indexer import SearchIndexer
from resolvers.search import search_filter, search_services
from resolvers.search_ranking import Weights

SERVICES = 10_000
PROVIDERS = 50
# Enough samples per shape that its p95 is not simply the slowest run of a busy machine:
# ``statistics.quantiles`` puts the p95 of n samples at rank 0.95 (n + 1), so with 20 it lies
# between the two slowest runs, with 40 below the slowest one.
RUNS_PER_QUERY = 40
SEED = 20_240_611
CATEGORIES = ["chat", "embeddings", "translation", "speech", "vision", "safety", "code", "rag"]
WORDS = (
    "fast multilingual embedding embeddings model chat streaming translation speech vision "
    "summarise summaries moderation safety code completion search semantic retrieval rerank "
    "low latency long context document ocr diffusion image audio transcription voice agent "
    "legal medical finance enterprise open compact large small turbo pro lite realtime batch"
).split()
QUERIES: list[dict[str, Any]] = [
    {"query": "embeddings"},
    {"query": "multilingual translation"},
    {"query": "embeddigns"},
    {"query": "speech", "categories": ["speech"]},
    {"query": "low latency code"},
    {"query": ""},
]
# What a search results page asks for.
GRAPHQL_SEARCH = """
query Search($query: String, $filter: SearchFilterInput) {
  searchServices(query: $query, filter: $filter, first: 20) {
    totalCount
    edges {
      cursor
      node {
        score
        highlights
        scoreBreakdown { relevance popularity performance compliance }
        service { id name slug category provider { name } }
      }
    }
    facets {
      categories { value count }
      tags { value count }
      pricingModels { value count }
      providers { value count }
    }
    pageInfo { hasNextPage endCursor }
  }
}
"""
# One search of a shape; True when the built-in fallback answered for the configured engine.
Search = Callable[[dict[str, Any]], Awaitable[bool]]


async def _generate(url: str) -> None:
    rng = random.Random(SEED)
    now = datetime.now(UTC)
    engine = create_engine(url)
    providers = [
        {
            "id": str(uuid.uuid4()),
            "slug": f"bench-provider-{i}",
            "name": f"Provider {rng.choice(WORDS).title()} {i}",
            "description": "",
            "created_at": now,
            "updated_at": now,
        }
        for i in range(PROVIDERS)
    ]
    services, prices = [], []
    for i in range(SERVICES):
        sid = str(uuid.uuid4())
        services.append(
            {
                "id": sid,
                "provider_id": rng.choice(providers)["id"],
                "slug": f"bench-{i}",
                "name": " ".join(rng.sample(WORDS, 3)).title() + f" {i}",
                "description": " ".join(rng.choices(WORDS, k=25)),
                "category": rng.choice(CATEGORIES),
                "tags": rng.sample(WORDS, 3),
                "status": "ACTIVE" if rng.random() < 0.9 else "SUSPENDED",
                "current_version": "1.0.0",
                "endpoint_url": f"https://bench.example/{i}",
                "created_at": now - timedelta(days=rng.randint(0, 700)),
                "updated_at": now,
            }
        )
        prices.append(
            {
                "id": str(uuid.uuid4()),
                "service_id": sid,
                "model": PricingModel.PER_TOKEN.value,
                "currency": "USD",
                "input_price_per_1k": Decimal(rng.randint(1, 500)) / 10_000,
                "output_price_per_1k": Decimal(rng.randint(1, 500)) / 10_000,
                "effective_from": now,
            }
        )
    async with engine.begin() as conn:
        await conn.execute(Provider.__table__.insert(), providers)
        for start in range(0, SERVICES, 1000):
            await conn.execute(Service.__table__.insert(), services[start : start + 1000])
            await conn.execute(ServicePricing.__table__.insert(), prices[start : start + 1000])
    await engine.dispose()


async def _empty_caches(runtime: Runtime) -> None:
    runtime.search.builtin.results.clear()
    if runtime.search.elastic is not None:
        elastic = runtime.search.elastic
        await elastic.client.indices.clear_cache(index=elastic.alias, request=True)


async def _time_after_write(runtime: Runtime, search: Search) -> float:
    """The broadest first-time search right after an index write, which also loads the
    built-in engine's ranking columns of the new generation (ranking_columns.py): median ms."""
    samples = []
    for _ in range(RUNS_PER_QUERY):
        await _empty_caches(runtime)
        runtime.search.builtin.columns.clear()
        t0 = time.perf_counter()
        await search({"query": "low latency code"})
        samples.append((time.perf_counter() - t0) * 1000)
    return round(statistics.median(samples), 2)


async def _settle(runtime: Runtime) -> None:
    """PostgreSQL: vacuum and analyze what was just written, as autovacuum does in a running
    gateway's database within a minute or so. Without it, autovacuum's first pass over the
    freshly loaded tables may land in the middle of the timed searches (its own CPU, and
    plans changing with the new statistics): PostgreSQL's figures moved by a third from run to
    run."""
    if runtime.engine.dialect.name != "postgresql":
        return
    async with runtime.engine.connect() as conn:
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text("VACUUM (ANALYZE)"))


def _direct(runtime: Runtime, weights: Weights) -> Search:
    """The search path below GraphQL (what the resolver calls)."""

    async def search(shape: dict[str, Any]) -> bool:
        page = await search_services(
            runtime.search,
            weights,
            query=shape["query"],
            flt=search_filter(categories=shape.get("categories", ())),
            sort=None,
            first=20,
            after=None,
        )
        return page.degraded

    return search


def _graphql(http: httpx.AsyncClient) -> Search:
    """``searchServices`` through the gateway app, as a client sends it."""

    async def search(shape: dict[str, Any]) -> bool:
        variables: dict[str, Any] = {"query": shape["query"]}
        if "categories" in shape:
            variables["filter"] = {"categories": shape["categories"]}
        response = await http.post(
            "/graphql", json={"query": GRAPHQL_SEARCH, "variables": variables}
        )
        body = response.json()
        if response.status_code != 200 or body.get("errors"):
            raise RuntimeError(f"searchServices failed: {response.status_code} {body}")
        return bool(body.get("extensions", {}).get("degraded"))

    return search


async def _time_queries(runtime: Runtime, search: Search, *, cold: bool) -> dict[str, Any]:
    timings: list[float] = []
    per_query: dict[str, float] = {}
    degraded = 0
    for shape in QUERIES:
        samples = []
        for run in range(RUNS_PER_QUERY + 3):
            if cold:
                await _empty_caches(runtime)
            t0 = time.perf_counter()
            answered_by_fallback = await search(shape)
            if run >= 3:  # the first runs warm connections (and, when not cold, the caches)
                samples.append((time.perf_counter() - t0) * 1000)
                # An engine that times out is answered by the built-in fallback: count each
                # such sample, since it is not the configured engine's.
                degraded += answered_by_fallback
        timings += samples
        per_query[repr(shape)] = round(statistics.quantiles(samples, n=20)[18], 2)
    cuts = statistics.quantiles(timings, n=100)
    return {
        "degraded": degraded,
        "p50_ms": round(statistics.median(timings), 2),
        "p95_ms": round(cuts[94], 2),
        "p95_ms_by_query": per_query,
    }


async def _time_both(runtime: Runtime, search: Search) -> dict[str, Any]:
    warm = await _time_queries(runtime, search, cold=False)
    cold = await _time_queries(runtime, search, cold=True)
    return {
        "degraded_answers": warm["degraded"] + cold["degraded"],
        # Repeated queries: the engine's result caches answer (the built-in result cache,
        # Elasticsearch's shard request cache).
        "p50_ms": warm["p50_ms"],
        "p95_ms": warm["p95_ms"],
        "p95_ms_by_query": warm["p95_ms_by_query"],
        # First-time queries: both caches emptied before every timed search.
        "cold_p50_ms": cold["p50_ms"],
        "cold_p95_ms": cold["p95_ms"],
        "cold_p95_ms_by_query": cold["p95_ms_by_query"],
    }


async def _time_through_graphql(settings: Settings) -> dict[str, Any]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as http:
            return await _time_both(app.state.runtime, _graphql(http))


async def _time_backend(url: str, es_url: str | None, alias: str) -> dict[str, Any]:
    settings = load_settings(
        database_url=url,
        elasticsearch_url=es_url,
        elasticsearch_index=alias,
        # Search alone: in-process rate limits and event bus (as the other scenarios run the
        # gateway), and no access log line per request.
        redis_url=None,
        kafka_bootstrap_servers=None,
        log_level="WARNING",
    )
    runtime = Runtime.create(settings)
    try:
        indexer = SearchIndexer(runtime.session_factory, runtime.search)
        started = time.perf_counter()
        await (indexer.rebuild_elastic() if es_url else indexer.rebuild_builtin())
        build_seconds = time.perf_counter() - started
        await _settle(runtime)
        # Frozen as a gateway process freezes its start-up heap (graph/startup_heap.py): the
        # objects this process built (runtime, schemas, mappers) live as long as it does, and
        # without it generation-2 collections walking them (≈ 100 ms) land among the samples.
        # The GraphQL timing runs in the app's lifespan, which freezes them itself.
        direct = _direct(runtime, Weights.from_settings(settings))
        with startup_heap_frozen():
            below = await _time_both(runtime, direct)
            after_write = None if es_url else await _time_after_write(runtime, direct)
        graphql = await _time_through_graphql(settings)
        return {
            "backend": runtime.search.primary_name,
            "index_build_s": round(build_seconds, 1),
            # The search path below GraphQL (resolvers.search.search_services).
            **below,
            # Built-in engines: a first-time search that also loads a new generation's columns.
            "after_write_p50_ms": after_write,
            # POST /graphql end to end, in-process.
            "graphql": graphql,
        }
    finally:
        if runtime.search.elastic is not None:
            await runtime.search.elastic.drop()
        await runtime.close()


async def _run() -> dict[str, Any]:
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        sqlite_url = f"sqlite+aiosqlite:///{tmp}/bench.db"
        await upgrade(sqlite_url)
        await _generate(sqlite_url)
        results.append(await _time_backend(sqlite_url, None, "unused"))
        es_url = os.environ.get("MARKETPLACE_ELASTICSEARCH_URL")
        if es_url and os.environ.get("MARKETPLACE_BENCH_SKIP_ELASTICSEARCH") != "1":
            results.append(await _time_backend(sqlite_url, es_url, "bench-search"))
    pg_url = os.environ.get("MARKETPLACE_BENCH_POSTGRES_URL")
    if pg_url:
        engine = create_engine(pg_url)
        async with engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
        await engine.dispose()
        await upgrade(pg_url)
        await _generate(pg_url)
        results.append(await _time_backend(pg_url, None, "unused"))
    return {"services": SERVICES, "page_size": 20, "machine": machine(), "results": results}


def main() -> dict[str, Any]:
    result = asyncio.run(_run())
    save("search", result)
    return result


if __name__ == "__main__":
    print(main())
