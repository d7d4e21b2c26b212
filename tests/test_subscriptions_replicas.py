"""Acceptance: two gateway processes share PostgreSQL and Redis or Kafka.

A suspendService mutation sent to replica A reaches subscribers on A and B within a second,
on both WebSocket protocols; a subscriber resuming on B with `since` gets exactly what it
missed. Events are published once (by one replica's relay) and fanned out by the bus.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from graph.auth import issue_token
from graph.settings import load_settings
from persistence.database import create_engine
from persistence.migrate import upgrade
from persistence.models import Provider, Service, ServiceStatus
from resolvers.events import GovernanceEventType, emit_event
from tests.conftest import ROOT, empty_postgres_database, service_url
from tests.subscription_support import (
    GOVERNANCE_EVENTS,
    PROTOCOLS,
    bearer_payload,
    free_port,
    ws_connect,
)

DELIVERY_DEADLINE_S = 1.0


async def _replica_database() -> str:
    """A database of its own (the processes outlive single tests), emptied and migrated."""
    url = await empty_postgres_database("replicas")
    await upgrade(url)
    return url


def _start(env: dict[str, str], log: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "--factory", "graph.app:create_app"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT
    )
    return process, f"127.0.0.1:{port}"


def _wait_healthy(address: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"gateway exited: {log.read_text()}")
        try:
            if httpx.get(f"http://{address}/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"gateway did not start: {log.read_text()}")


class Replicas:
    def __init__(self, database_url: str, addresses: list[str]) -> None:
        self.database_url = database_url
        self.addresses = addresses
        self.settings = load_settings(database_url=database_url)

    def url(self, index: int) -> str:
        return f"ws://{self.addresses[index]}/graphql"

    def token(self, subject: str, *roles: str) -> dict[str, str]:
        return bearer_payload(issue_token(self.settings, subject=subject, roles=roles))


@pytest.fixture(scope="module", params=["redis", "kafka"])
def bus_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
async def replicas(
    bus_kind: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Replicas]:
    database_url = await _replica_database()
    env = {
        **os.environ,
        "MARKETPLACE_DATABASE_URL": database_url,
        "MARKETPLACE_REDIS_URL": service_url("MARKETPLACE_REDIS_URL"),
        "MARKETPLACE_KAFKA_BOOTSTRAP_SERVERS": service_url("MARKETPLACE_KAFKA_BOOTSTRAP_SERVERS"),
        "MARKETPLACE_GOVERNANCE_BUS": bus_kind,
        "MARKETPLACE_GOVERNANCE_TOPIC": f"test.governance.{uuid.uuid4().hex}",
    }
    logs = tmp_path_factory.mktemp(f"replicas-{bus_kind}")
    started = [_start(env, logs / f"gateway-{i}.log") for i in range(2)]
    try:
        for i, (process, address) in enumerate(started):
            await asyncio.to_thread(_wait_healthy, address, process, logs / f"gateway-{i}.log")
        yield Replicas(database_url, [address for _, address in started])
    finally:
        for process, _ in started:
            process.terminate()
        for process, _ in started:
            process.wait(timeout=20)


async def _commit_suspension(database_url: str, service_id: str) -> int:
    engine = create_engine(database_url)
    try:
        async with AsyncSession(engine) as session, session.begin():
            event = await emit_event(
                session,
                type=GovernanceEventType.SERVICE_SUSPENDED,
                actor="admin:1",
                service_id=service_id,
                payload={"reason": "acceptance"},
            )
            return event.id
    finally:
        await engine.dispose()


async def _mutate(replicas: Replicas, index: int, field: str, service_id: str) -> None:
    """Suspend or reinstate through replica ``index``'s GraphQL API, as an admin."""
    query = f"""mutation($input: ServiceStatusChangeInput!) {{
      {field}(input: $input) {{ service {{ id status }} }}
    }}"""
    async with httpx.AsyncClient(base_url=f"http://{replicas.addresses[index]}") as http:
        response = await http.post(
            "/graphql",
            json={"query": query, "variables": {"input": {"serviceId": service_id, "reason": "t"}}},
            headers=replicas.token("admin:1", "admin"),
        )
    body = response.json()
    assert "errors" not in body, body


async def _add_service(database_url: str) -> str:
    engine = create_engine(database_url)
    suffix = uuid.uuid4().hex[:8]
    try:
        async with AsyncSession(engine) as session, session.begin():
            provider = Provider(slug=f"p-{suffix}", name="P", owner_subject="provider:a")
            session.add(provider)
            await session.flush()
            service = Service(
                provider_id=provider.id,
                slug=f"s-{suffix}",
                name="S",
                category="chat",
                current_version="1.0.0",
                endpoint_url="https://upstream.example/v1",
                status=ServiceStatus.ACTIVE,
            )
            session.add(service)
            await session.flush()
            return service.id
    finally:
        await engine.dispose()


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_both_replicas_deliver_a_committed_suspension_within_a_second(
    replicas: Replicas, protocol: str
) -> None:
    service_id = await _add_service(replicas.database_url)
    auth = replicas.token("admin:1", "admin")
    async with (
        ws_connect(replicas.url(0), protocol) as on_a,
        ws_connect(replicas.url(1), protocol) as on_b,
    ):
        for ws in (on_a, on_b):
            assert (await ws.init(auth))["type"] == "connection_ack"
            await ws.subscribe("1", GOVERNANCE_EVENTS, {"serviceId": service_id})
        await asyncio.sleep(0.5)  # both subscriptions registered on their replica
        await _mutate(replicas, 0, "suspendService", service_id)
        committed = time.monotonic()
        got_b = await on_b.next_event("1", within=DELIVERY_DEADLINE_S)
        elapsed = time.monotonic() - committed
        got_a = await on_a.next_event("1", within=DELIVERY_DEADLINE_S)
    assert got_a == got_b
    assert (got_b["type"], got_b["serviceId"]) == ("SERVICE_SUSPENDED", service_id)
    assert elapsed < DELIVERY_DEADLINE_S


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_resume_on_the_other_replica_gets_exactly_the_missed_events(
    replicas: Replicas, protocol: str
) -> None:
    service_id = await _add_service(replicas.database_url)
    auth = replicas.token("viewer:1", "viewer")
    variables = {"serviceId": service_id}
    async with ws_connect(replicas.url(0), protocol) as ws:
        await ws.init(auth)
        await ws.subscribe("1", GOVERNANCE_EVENTS, variables)
        await asyncio.sleep(0.5)
        last = await _commit_suspension(replicas.database_url, service_id)
        assert (await ws.next_event("1"))["id"] == str(last)
    missed = [await _commit_suspension(replicas.database_url, service_id) for _ in range(5)]
    async with ws_connect(replicas.url(1), protocol) as ws:
        await ws.init(auth)
        await ws.subscribe("1", GOVERNANCE_EVENTS, {**variables, "since": str(last)})
        replayed = [int((await ws.next_event("1"))["id"]) for _ in missed]
        live = await _commit_suspension(replicas.database_url, service_id)
        assert (await ws.next_event("1"))["id"] == str(live)
        with pytest.raises(TimeoutError):
            await ws.next_event("1", within=0.5)
    assert replayed == missed
