"""Gateways as real OS processes (uvicorn subprocesses), for tests that need several replicas
or must SIGTERM a gateway and inspect what it left behind."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from persistence.database import create_engine
from tests.conftest import ROOT

# Backends a gateway would pick up from the developer's environment (services.env); each test
# states the ones it wants.
_BACKEND_VARIABLES = (
    "MARKETPLACE_DATABASE_URL",
    "MARKETPLACE_REDIS_URL",
    "MARKETPLACE_KAFKA_BOOTSTRAP_SERVERS",
    "MARKETPLACE_USAGE_KAFKA_BOOTSTRAP_SERVERS",
    "MARKETPLACE_ELASTICSEARCH_URL",
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def gateway_env(database_url: str, data_dir: Path, **settings: str) -> dict[str, str]:
    """The environment of a gateway process: only the given backends, passthrough to loopback
    upstreams allowed. ``settings`` are ``Settings`` field names (``redis_url=...``)."""
    env = {k: v for k, v in os.environ.items() if k not in _BACKEND_VARIABLES}
    env.update(
        MARKETPLACE_DATABASE_URL=database_url,
        MARKETPLACE_DATA_DIR=str(data_dir),
        MARKETPLACE_ALLOW_PRIVATE_UPSTREAMS="true",
        MARKETPLACE_LOG_LEVEL="WARNING",
    )
    env.update({f"MARKETPLACE_{name.upper()}": value for name, value in settings.items()})
    return env


class GatewayProcess:
    """``uvicorn --factory graph.app:create_app`` on a free loopback port."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        command = [sys.executable, "-m", "uvicorn", "--factory", "graph.app:create_app"]
        command += ["--host", "127.0.0.1", "--port", str(self.port), "--log-level", "warning"]
        command += ["--no-access-log"]
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT
        )

    async def wait_healthy(self, within_seconds: float = 60) -> None:
        deadline = time.monotonic() + within_seconds
        async with httpx.AsyncClient(timeout=1) as http:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise AssertionError(f"gateway exited: {self.log.read_text()}")
                try:
                    if (await http.get(f"{self.url}/health")).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.1)
        raise AssertionError(f"gateway did not start: {self.log.read_text()}")

    async def terminate(self, within_seconds: float = 30) -> None:
        """SIGTERM, as an orchestrator stops a replica; waits for the graceful exit.

        uvicorn shuts down (lifespan exit included) and then re-raises the signal it caught,
        so a clean stop ends with -SIGTERM, not 0."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            code = await asyncio.to_thread(self.process.wait, within_seconds)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError(f"gateway ignored SIGTERM: {self.log.read_text()}") from None
        assert code in (0, -signal.SIGTERM), f"gateway exited {code}: {self.log.read_text()}"


@asynccontextmanager
async def gateways(envs: list[dict[str, str]], logs: Path) -> AsyncIterator[list[GatewayProcess]]:
    started = [GatewayProcess(env, logs / f"gateway-{i}.log") for i, env in enumerate(envs)]
    try:
        await asyncio.gather(*(g.wait_healthy() for g in started))
        yield started
    finally:
        for gateway in started:
            if gateway.process.poll() is None:
                gateway.process.kill()
                gateway.process.wait()


@asynccontextmanager
async def database_sessions(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions on the gateways' database, for the test's own setup and checks."""
    engine = create_engine(database_url)
    try:
        yield async_sessionmaker(engine, expire_on_commit=False)
    finally:
        await engine.dispose()
