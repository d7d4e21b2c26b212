"""Health, GraphiQL, request ids, settings errors and the CLI."""

from __future__ import annotations

import subprocess
import sys

import httpx
import jwt

from graph.settings import Settings
from tests.conftest import ROOT


async def test_health_and_readiness(client: httpx.AsyncClient):
    assert (await client.get("/health")).json() == {"status": "ok"}
    ready = await client.get("/health/ready")
    backends = ready.json()["backends"]
    assert backends["database"]["status"] == "up"
    all_up = all(b["status"] == "up" for b in backends.values())
    assert ready.status_code == (200 if all_up else 503)


async def test_graphiql_is_served_to_browsers(client: httpx.AsyncClient):
    response = await client.get("/graphql", headers={"accept": "text/html"})
    assert response.status_code == 200
    assert "graphiql" in response.text.lower()


async def test_request_id_is_echoed_or_generated(client: httpx.AsyncClient):
    response = await client.get("/health", headers={"X-Request-ID": "abc-123"})
    assert response.headers["X-Request-ID"] == "abc-123"
    assert len((await client.get("/health")).headers["X-Request-ID"]) == 36


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "graph.cli", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", **(env or {})},
        timeout=60,
    )


def test_bad_setting_stops_with_one_line_and_exit_2():
    result = _cli("schema", env={"MARKETPLACE_DATABASE_URL": "mysql://nope"})
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "MARKETPLACE_DATABASE_URL" in result.stderr and "Traceback" not in result.stderr


def test_production_refuses_the_development_secrets():
    result = _cli("schema", env={"MARKETPLACE_ENV": "production"})
    assert result.returncode == 2
    assert "MARKETPLACE_JWT_SECRET" in result.stderr and "Traceback" not in result.stderr
    result = _cli(
        "schema", env={"MARKETPLACE_ENV": "production", "MARKETPLACE_JWT_SECRET": "s" * 48}
    )
    assert result.returncode == 2
    assert "MARKETPLACE_API_KEY_PEPPER" in result.stderr


def test_token_command_prints_a_verifiable_jwt():
    result = _cli("token", "--sub", "alice", "--role", "admin", "--ttl", "60")
    assert result.returncode == 0, result.stderr
    claims = jwt.decode(result.stdout.strip(), Settings().jwt_secret, algorithms=["HS256"])
    assert claims["sub"] == "alice" and claims["roles"] == ["admin"]


def test_schema_command_prints_the_checked_in_schema():
    result = _cli("schema")
    assert result.returncode == 0, result.stderr
    assert result.stdout == (ROOT / "schema.graphql").read_text()
