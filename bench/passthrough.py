"""Metered passthrough: latency the gateway adds, and its throughput beside nginx.

One fake upstream process (tests/fake_llm, OpenAI-style JSON chat completion). Three ways
to reach it, each measured in every round, rounds alternating so machine drift affects all:

* **direct**: the client calls the upstream itself;
* **gateway**: ``/v1/services/fake-llm/...`` through one gateway process (one uvicorn worker,
  SQLite, in-process limiter) doing the whole metered path: key lookup, GCRA, quota
  reservation, forward, token accounting, usage record;
* **nginx**: Debian's nginx ``proxy_pass`` with upstream keep-alive, one worker process, a
  private config on a free port (not the system service).

Latency: one client in a closed loop (p50/p99; added latency = gateway - direct).
Throughput: CONCURRENCY closed-loop clients, gateway rps against nginx rps.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import async_sessionmaker

from bench.harness import ROOT, as_dict, cli, drive, free_port, gateway, machine, save
from graph.settings import DEV_JWT_SECRET, load_settings
from persistence.database import create_engine
from persistence.models import PlanTier
from tests.fake_llm.harness import list_service, onboard

ROUNDS = 2
SECONDS = 6.0
CONCURRENCY = 16
UPSTREAM_PATH = "/v1/chat/completions"
BODY = {"model": "fake", "messages": [{"role": "user", "content": "hi there"}], "max_tokens": 5}
# The limiter and quota are on the path but must not be what is measured.
UNLIMITED = '{"ENTERPRISE": {"requests_per_second": 1000000, "burst": 1000000}}'


def _wait_http(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer in {timeout} s")


@contextmanager
def fake_upstream() -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "tests.fake_llm.app", str(port)], cwd=ROOT)
    try:
        _wait_http(f"http://127.0.0.1:{port}/echo")
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


def _nginx_binary() -> str:
    found = shutil.which("nginx") or shutil.which("/usr/sbin/nginx")
    if found is None:
        subprocess.run(["apt-get", "install", "-y", "nginx"], check=True, stdout=subprocess.DEVNULL)
        found = shutil.which("nginx") or "/usr/sbin/nginx"
    return found


@contextmanager
def nginx_proxy(upstream: str, work: Path) -> Iterator[str]:
    """nginx in the foreground with a config of its own; yields its base URL."""
    port = free_port()
    work.mkdir(parents=True, exist_ok=True)
    config = work / "nginx.conf"
    config.write_text(
        f"""
daemon off;
worker_processes 1;
pid {work}/nginx.pid;
error_log {work}/error.log warn;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_body_temp_path {work}/body;
  proxy_temp_path {work}/proxy;
  fastcgi_temp_path {work}/fastcgi;
  uwsgi_temp_path {work}/uwsgi;
  scgi_temp_path {work}/scgi;
  upstream fake_llm {{ server {upstream.removeprefix("http://")}; keepalive 64; }}
  server {{
    listen 127.0.0.1:{port};
    location / {{
      proxy_pass http://fake_llm;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
    }}
  }}
}}
"""
    )
    process = subprocess.Popen([_nginx_binary(), "-c", str(config), "-p", str(work)])
    try:
        _wait_http(f"http://127.0.0.1:{port}/echo")
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


async def _prepare(database_url: str, upstream: str, base: str) -> str:
    """List the upstream as a service and onboard a consumer on it; the consumer's API key."""
    engine = create_engine(database_url)
    try:
        service_id = await list_service(async_sessionmaker(engine), upstream)
    finally:
        await engine.dispose()
    settings = load_settings(jwt_secret=DEV_JWT_SECRET)
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        _, secret = await onboard(
            http, settings, "bench-consumer", service_id, PlanTier.ENTERPRISE.value
        )
    return secret


def _round(urls: dict[str, str], headers: dict[str, str]) -> dict[str, dict[str, Any]]:
    figures: dict[str, dict[str, Any]] = {}
    for name in ("direct", "gateway", "nginx"):
        auth = headers if name == "gateway" else None
        one = asyncio.run(drive(urls[name], BODY, concurrency=1, seconds=SECONDS, headers=auth))
        many = asyncio.run(
            drive(urls[name], BODY, concurrency=CONCURRENCY, seconds=SECONDS, headers=auth)
        )
        figures[name] = {"latency": as_dict(one), "throughput": as_dict(many)}
    return figures


def main() -> dict[str, Any]:
    runs: list[dict[str, dict[str, Any]]] = []
    with (
        tempfile.TemporaryDirectory(prefix="marketplace-bench-") as data_dir,
        fake_upstream() as up,
    ):
        database_url = f"sqlite+aiosqlite:///{data_dir}/marketplace.db"
        # Only what this benchmark sets: no backend from the developer's environment.
        env = {k: v for k, v in os.environ.items() if not k.startswith("MARKETPLACE_")}
        env.update(
            MARKETPLACE_DATA_DIR=data_dir,
            MARKETPLACE_DATABASE_URL=database_url,
            MARKETPLACE_LOG_LEVEL="WARNING",
            MARKETPLACE_ALLOW_PRIVATE_UPSTREAMS="true",
            MARKETPLACE_PLAN_OVERRIDES=UNLIMITED,
        )
        cli("migrate", env=env)
        with gateway(env) as base, nginx_proxy(up, Path(data_dir) / "nginx") as proxy:
            secret = asyncio.run(_prepare(database_url, up, base))
            urls = {
                "direct": f"{up}{UPSTREAM_PATH}",
                "gateway": f"{base}/v1/services/fake-llm{UPSTREAM_PATH}",
                "nginx": f"{proxy}{UPSTREAM_PATH}",
            }
            for _ in range(ROUNDS):
                runs.append(_round(urls, {"Authorization": f"Bearer {secret}"}))
    best = {
        name: {
            "p50_ms": min(r[name]["latency"]["p50_ms"] for r in runs),
            "p99_ms": min(r[name]["latency"]["p99_ms"] for r in runs),
            "rps": max(r[name]["throughput"]["rps"] for r in runs),
        }
        for name in ("direct", "gateway", "nginx")
    }
    summary = {
        "scenario": "POST chat completion (JSON, usage in the body) direct / gateway / nginx",
        "machine": machine(),
        "rounds": ROUNDS,
        "seconds_per_measure": SECONDS,
        "throughput_concurrency": CONCURRENCY,
        "runs": runs,
        "best": best,
        "added_latency_p50_ms": round(best["gateway"]["p50_ms"] - best["direct"]["p50_ms"], 2),
        "added_latency_p99_ms": round(best["gateway"]["p99_ms"] - best["direct"]["p99_ms"], 2),
        "rps_ratio_gateway_over_nginx": round(best["gateway"]["rps"] / best["nginx"]["rps"], 3),
    }
    save("passthrough", summary)
    return summary
