"""Shared benchmark plumbing: start a gateway process, drive load at it, summarise latencies.

The load generator is a small asyncio loop over one pooled httpx client: closed-loop workers,
each sending the next request when the previous one answered, for a fixed duration.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cli(*args: str, env: dict[str, str]) -> None:
    subprocess.run(
        [sys.executable, "-m", "graph.cli", *args],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )


@contextmanager
def seeded_env(database_url: str | None = None, **extra: str) -> Iterator[dict[str, str]]:
    """An environment pointing at a migrated, demo-seeded database: ``database_url`` (an empty
    one) or, by default, a fresh SQLite file. In-process bus, limits and search."""
    with tempfile.TemporaryDirectory(prefix="marketplace-bench-") as data_dir:
        env = {**os.environ, "MARKETPLACE_DATA_DIR": data_dir, "MARKETPLACE_LOG_LEVEL": "WARNING"}
        for key in (
            "MARKETPLACE_DATABASE_URL",
            "MARKETPLACE_REDIS_URL",
            "MARKETPLACE_KAFKA_BOOTSTRAP_SERVERS",
            "MARKETPLACE_ELASTICSEARCH_URL",
        ):
            env.pop(key, None)
        if database_url:
            env["MARKETPLACE_DATABASE_URL"] = database_url
        env.update(extra)
        cli("migrate", env=env)
        cli("seed", "--demo", env=env)
        yield env


@contextmanager
def gateway(env: dict[str, str], *, app: str = "graph.app:create_app") -> Iterator[str]:
    """A gateway process (one uvicorn worker) on a free port; yields its base URL."""
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            app,
            "--factory",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        cwd=ROOT,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            raise RuntimeError(f"gateway on port {port} did not start in 30 s")
        yield base
    finally:
        process.terminate()
        process.wait(timeout=15)


@dataclass
class LoadResult:
    requests: int
    errors: int
    seconds: float
    rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float

    @classmethod
    def of(cls, latencies: list[float], errors: int, seconds: float) -> LoadResult:
        """Summarise one measured window's latencies (milliseconds, in any order)."""
        latencies = sorted(latencies)
        return cls(
            requests=len(latencies),
            errors=errors,
            seconds=round(seconds, 2),
            rps=round(len(latencies) / seconds, 1),
            p50_ms=round(statistics.median(latencies), 2) if latencies else float("nan"),
            p95_ms=round(_percentile(latencies, 0.95), 2),
            p99_ms=round(_percentile(latencies, 0.99), 2),
        )


def _percentile(sorted_values: list[float], fraction: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, round(fraction * (len(sorted_values) - 1)))
    return sorted_values[index]


async def drive(
    url: str,
    body: dict[str, Any],
    *,
    concurrency: int,
    seconds: float,
    warmup: float = 1.0,
    headers: dict[str, str] | None = None,
) -> LoadResult:
    latencies: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:

        async def worker(until: float, record: bool) -> None:
            nonlocal errors
            while time.perf_counter() < until:
                started = time.perf_counter()
                response = await client.post(url, json=body, headers=headers)
                elapsed = (time.perf_counter() - started) * 1000
                if not record:
                    continue
                if response.status_code != 200 or "errors" in response.json():
                    errors += 1
                latencies.append(elapsed)

        warm_until = time.perf_counter() + warmup
        await asyncio.gather(*(worker(warm_until, False) for _ in range(concurrency)))
        started = time.perf_counter()
        until = started + seconds
        await asyncio.gather(*(worker(until, True) for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return LoadResult.of(latencies, errors, elapsed)


def machine() -> dict[str, Any]:
    return {"cpus": os.cpu_count(), "python": sys.version.split()[0], "platform": sys.platform}


def save(name: str, result: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(result, indent=2, default=str) + "\n")
    return path


def as_dict(result: LoadResult) -> dict[str, Any]:
    return asdict(result)
