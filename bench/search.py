"""``searchServices`` latency at 10,000 generated services, for each search backend.

Generates a catalog of 10,000 services (words drawn from the demo vocabulary, a fixed random
seed), builds every index, then times the search path in-process (index match, ranking,
facets, one page), the work a ``searchServices`` request does below GraphQL. Each query shape
is timed twice: repeated (answered by the engines' result caches, as a repeated or paged
search is) and first-time (those caches emptied before every search). A mix of query
shapes: one word, two words, a typo, a filtered query, and browse mode.

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
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import text

from bench.harness import machine, save
from graph.runtime import Runtime
from graph.settings import load_settings
from persistence.database import create_engine
from persistence.migrate import upgrade
from persistence.models import PricingModel, Provider, Service, ServicePricing
from persistence.search.indexer import SearchIndexer
from resolvers.search import search_filter, search_services
from resolvers.search_ranking import Weights

SERVICES = 10_000
PROVIDERS = 50
# Enough samples per shape that its p95 is not simply the slowest run of a busy machine.
RUNS_PER_QUERY = 20
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


async def _time_queries(runtime: Runtime, weights: Weights, *, cold: bool) -> dict[str, Any]:
    timings: list[float] = []
    per_query: dict[str, float] = {}
    degraded = 0
    for shape in QUERIES:
        flt = search_filter(categories=shape.get("categories", ()))
        samples = []
        for run in range(RUNS_PER_QUERY + 3):
            if cold:
                await _empty_caches(runtime)
            t0 = time.perf_counter()
            page = await search_services(
                runtime.search,
                weights,
                query=shape["query"],
                flt=flt,
                sort=None,
                first=20,
                after=None,
            )
            if run >= 3:  # the first runs warm connections (and, when not cold, the caches)
                samples.append((time.perf_counter() - t0) * 1000)
        # An engine that times out is answered by the built-in fallback: count it, since
        # those samples are not the configured engine's.
        degraded += page.degraded
        timings += samples
        per_query[repr(shape)] = round(statistics.quantiles(samples, n=20)[18], 2)
    cuts = statistics.quantiles(timings, n=100)
    return {
        "degraded": degraded,
        "p50_ms": round(statistics.median(timings), 2),
        "p95_ms": round(cuts[94], 2),
        "p95_ms_by_query": per_query,
    }


async def _time_backend(url: str, es_url: str | None, alias: str) -> dict[str, Any]:
    settings = load_settings(database_url=url, elasticsearch_url=es_url, elasticsearch_index=alias)
    runtime = Runtime.create(settings)
    try:
        indexer = SearchIndexer(runtime.session_factory, runtime.search)
        started = time.perf_counter()
        await (indexer.rebuild_elastic() if es_url else indexer.rebuild_builtin())
        build_seconds = time.perf_counter() - started
        weights = Weights.from_settings(settings)
        warm = await _time_queries(runtime, weights, cold=False)
        cold = await _time_queries(runtime, weights, cold=True)
        return {
            "backend": runtime.search.primary_name,
            "degraded_answers": warm["degraded"] + cold["degraded"],
            "index_build_s": round(build_seconds, 1),
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
