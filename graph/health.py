"""Liveness and readiness: ``/health`` is cheap, ``/health/ready`` checks every backend."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from graph.runtime import Runtime

CHECK_TIMEOUT_SECONDS = 3.0

router = APIRouter(tags=["health"])


async def _check_database(runtime: Runtime) -> None:
    async with runtime.engine.connect() as connection:
        await connection.execute(text("SELECT 1"))


async def _check_redis(runtime: Runtime) -> None:
    from redis.asyncio import Redis

    client = Redis.from_url(runtime.settings.redis_url or "", socket_connect_timeout=2)
    try:
        await client.ping()
    finally:
        await client.aclose()


async def _check_kafka(runtime: Runtime) -> None:
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(
        bootstrap_servers=runtime.settings.kafka_bootstrap_servers, request_timeout_ms=2500
    )
    await admin.start()
    try:
        await admin.list_topics()
    finally:
        await admin.close()


async def _check_elasticsearch(runtime: Runtime) -> None:
    # Plain HTTP rather than the Elasticsearch client: the client refuses a server of another
    # major version before asking anything, while ``_cluster/health`` answers on every version.
    import httpx

    url = f"{(runtime.settings.elasticsearch_url or '').rstrip('/')}/_cluster/health"
    async with httpx.AsyncClient(timeout=2.5) as client:
        response = await client.get(url)
    response.raise_for_status()
    status = response.json().get("status")
    if status == "red":
        raise RuntimeError("cluster status is red")


def configured_checks(runtime: Runtime) -> dict[str, Callable[[Runtime], Awaitable[None]]]:
    settings = runtime.settings
    checks: dict[str, Callable[[Runtime], Awaitable[None]]] = {"database": _check_database}
    if settings.redis_url:
        checks["redis"] = _check_redis
    if settings.kafka_bootstrap_servers:
        checks["kafka"] = _check_kafka
    if settings.elasticsearch_url:
        checks["elasticsearch"] = _check_elasticsearch
    return checks


async def _run(name: str, check: Callable[[Runtime], Awaitable[None]], runtime: Runtime) -> Any:
    started = time.perf_counter()
    try:
        await asyncio.wait_for(check(runtime), CHECK_TIMEOUT_SECONDS)
    except Exception as exc:  # a readiness probe reports every failure, whatever its kind
        return name, {"status": "down", "error": f"{type(exc).__name__}: {exc}"[:300]}
    return name, {"status": "up", "latencyMs": round((time.perf_counter() - started) * 1000, 1)}


@router.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/health/ready")
async def ready(request: Request) -> JSONResponse:
    runtime: Runtime = request.app.state.runtime
    results = await asyncio.gather(
        *(_run(name, check, runtime) for name, check in configured_checks(runtime).items())
    )
    backends = dict(results)
    ok = all(b["status"] == "up" for b in backends.values())
    return JSONResponse(
        {"status": "ready" if ok else "unavailable", "backends": backends},
        status_code=200 if ok else 503,
    )
