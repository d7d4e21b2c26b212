"""Standalone subgraphs behind Apollo: node deps, composition, and a running federated stack.

Used by tests/test_federation*.py and bench/federation.py. The stack is the deployment at scale
made small: the four subgraphs as separate ``marketplace-gateway serve-subgraph`` processes,
Apollo Gateway (deploy/federation/gateway.mjs) in front of them, and the embedded composed
gateway (``marketplace-gateway serve``) beside them, all over one seeded SQLite database.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
FEDERATION = ROOT / "deploy" / "federation"
SUPERGRAPH = ROOT / "deploy" / "supergraph.graphql"
SUBGRAPH_NAMES = ("catalog", "search", "usage", "governance")
STARTUP_SECONDS = 60
# Backends the stack runs without: every process uses the embedded ones, so the processes
# agree on one SQLite file and nothing else is shared.
EXTERNAL_BACKENDS = (
    "MARKETPLACE_DATABASE_URL",
    "MARKETPLACE_REDIS_URL",
    "MARKETPLACE_KAFKA_BOOTSTRAP_SERVERS",
    "MARKETPLACE_ELASTICSEARCH_URL",
)


class FederationToolError(RuntimeError):
    """Node.js tooling (npm, composition, the gateway) failed."""


def node_deps() -> None:
    """Install deploy/federation's pinned packages when they are missing (``npm ci``)."""
    if (FEDERATION / "node_modules" / "@apollo" / "composition").is_dir():
        return
    npm = shutil.which("npm")
    if npm is None:
        raise FederationToolError("npm is not on PATH: install Node.js 20+")
    subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund", "--prefix", str(FEDERATION)],
        check=True,
        capture_output=True,
    )


def subgraph_sdls_json(urls: dict[str, str] | None = None) -> str:
    """The JSON compose.mjs reads: each subgraph's name, URL and ``_service { sdl }``."""
    args = [f"--url={name}={url}" for name, url in (urls or {}).items()]
    return subprocess.run(
        [sys.executable, str(FEDERATION / "subgraph_sdls.py"), *args],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    ).stdout


def compose(sdls_json: str) -> subprocess.CompletedProcess[str]:
    """Run Apollo composition (compose.mjs) over ``sdls_json``; the supergraph is on stdout."""
    node_deps()
    return subprocess.run(
        ["node", str(FEDERATION / "compose.mjs")],
        input=sdls_json,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def embedded_env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in EXTERNAL_BACKENDS}
    env.update(MARKETPLACE_DATA_DIR=str(data_dir), MARKETPLACE_LOG_LEVEL="WARNING")
    return env


def _cli(*args: str, env: dict[str, str]) -> None:
    subprocess.run(
        [sys.executable, "-m", "graph.cli", *args],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )


@contextmanager
def _process(
    command: list[str], env: dict[str, str], log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=out)
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_answering(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise FederationToolError(f"{url} exited early:\n{log.read_text()[-3000:]}")
        try:
            response = httpx.post(url, json={"query": "{ __typename }"}, timeout=2)
            if response.status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise FederationToolError(f"{url} did not answer in {STARTUP_SECONDS} s:\n{log.read_text()}")


@dataclass(frozen=True)
class FederatedStack:
    """URLs of a running stack; ``env`` is what its processes run with (for tokens)."""

    composed_url: str
    apollo_url: str
    subgraph_urls: dict[str, str]
    env: dict[str, str]
    # Process ids, for benchmarks that account CPU per front door: the composed gateway's
    # ``serve`` process (its workers are its children), and Apollo Gateway plus the subgraphs.
    composed_pid: int = 0
    apollo_pids: tuple[int, ...] = ()


@contextmanager
def federated_stack(composed_workers: int = 1) -> Iterator[FederatedStack]:
    """Seed a database, start the four subgraphs, Apollo Gateway and the composed gateway
    (with ``composed_workers`` uvicorn workers)."""
    node_deps()
    with tempfile.TemporaryDirectory(prefix="marketplace-federation-") as tmp, ExitStack() as stack:
        data_dir = Path(tmp)
        env = embedded_env(data_dir)
        _cli("migrate", env=env)
        _cli("seed", "--demo", env=env)

        started: list[tuple[str, subprocess.Popen[bytes], Path]] = []
        subgraph_urls: dict[str, str] = {}
        for name in SUBGRAPH_NAMES:
            port = free_port()
            url = f"http://127.0.0.1:{port}/graphql"
            log = data_dir / f"{name}.log"
            command = [sys.executable, "-m", "graph.cli", "serve-subgraph", name]
            process = stack.enter_context(_process([*command, "--port", str(port)], env, log))
            started.append((url, process, log))
            subgraph_urls[name] = url
        composed_port = free_port()
        composed_url = f"http://127.0.0.1:{composed_port}/graphql"
        log = data_dir / "composed.log"
        command = [
            *(sys.executable, "-m", "graph.cli", "serve", "--port", str(composed_port)),
            *("--workers", str(composed_workers)),
        ]
        composed = stack.enter_context(_process(command, env, log))
        started.append((composed_url, composed, log))
        for url, process, log in started:
            _wait_until_answering(url, process, log)

        # The gateway composes from the subgraphs' `_service { sdl }` at start, so it starts
        # only once they all answer.
        apollo_port = free_port()
        apollo_url = f"http://127.0.0.1:{apollo_port}/"
        log = data_dir / "apollo-gateway.log"
        command = [
            "node",
            str(FEDERATION / "gateway.mjs"),
            "--port",
            str(apollo_port),
            *(f"{name}={url}" for name, url in subgraph_urls.items()),
        ]
        process = stack.enter_context(_process(command, env, log))
        _wait_until_answering(apollo_url, process, log)
        subgraph_pids = tuple(p.pid for _, p, _ in started if p is not composed)
        yield FederatedStack(
            composed_url,
            apollo_url,
            subgraph_urls,
            env,
            composed_pid=composed.pid,
            apollo_pids=(process.pid, *subgraph_pids),
        )


def post(url: str, query: str, variables: dict[str, object] | None = None, **headers: str) -> dict:
    """POST a GraphQL request; the decoded JSON body."""
    response = httpx.post(
        url, json={"query": query, "variables": variables or {}}, headers=headers, timeout=30
    )
    body: dict = json.loads(response.content)
    return body
