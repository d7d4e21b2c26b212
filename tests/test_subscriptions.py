"""Subscription.governanceEvents over both WebSocket protocols, against a live server."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from fastapi import FastAPI

from graph.app import create_app
from graph.auth import issue_token
from graph.settings import Settings, load_settings
from persistence.models import Provider, Service
from resolvers.events import GovernanceEventType, emit_event
from tests.subscription_support import (
    GOVERNANCE_EVENTS,
    PROTOCOLS,
    TRANSPORT_WS,
    Closed,
    bearer_payload,
    serve,
    ws_connect,
)


class Gateway:
    def __init__(self, app: FastAPI, address: str, settings: Settings) -> None:
        self.app = app
        self.url = f"ws://{address}/graphql"
        self.settings = settings

    def token(self, subject: str, *roles: str) -> dict[str, str]:
        return bearer_payload(issue_token(self.settings, subject=subject, roles=roles))

    async def add_service(self, owner_subject: str) -> str:
        """A provider owned by ``owner_subject`` with one service; returns the service id."""
        suffix = uuid.uuid4().hex[:8]
        async with self.app.state.runtime.session_factory() as session, session.begin():
            provider = Provider(slug=f"p-{suffix}", name="P", owner_subject=owner_subject)
            session.add(provider)
            await session.flush()
            service = Service(
                provider_id=provider.id,
                slug=f"s-{suffix}",
                name="S",
                category="chat",
                current_version="1.0.0",
                endpoint_url="https://upstream.example/v1",
            )
            session.add(service)
            await session.flush()
            return service.id

    async def emit(
        self,
        service_id: str | None,
        type: GovernanceEventType = GovernanceEventType.SERVICE_SUSPENDED,
        **payload: Any,
    ) -> int:
        async with self.app.state.runtime.session_factory() as session, session.begin():
            event = await emit_event(
                session, type=type, actor="admin:1", service_id=service_id, payload=payload
            )
            return event.id


def _settings(settings: Settings, **overrides: Any) -> Settings:
    return load_settings(
        database_url=settings.database_url, data_dir=settings.data_dir, **overrides
    )


@pytest.fixture
async def gateway(settings: Settings) -> AsyncIterator[Gateway]:
    # The bus implementations have their own suite (test_event_bus.py) and the replica
    # acceptance test; here the in-process bus keeps each test to its own events.
    settings = _settings(settings, governance_bus="in-process")
    app = create_app(settings)
    async with serve(app) as address:
        yield Gateway(app, address, settings)


@pytest.fixture(params=PROTOCOLS)
def protocol(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def _subscribe(
    gateway: Gateway, protocol: str, auth: dict[str, str], **variables: Any
) -> AsyncIterator[Any]:
    async with ws_connect(gateway.url, protocol) as ws:
        ack = await ws.init(auth)
        assert ack["type"] == "connection_ack", ack
        await ws.subscribe("1", GOVERNANCE_EVENTS, variables)
        yield ws


async def _ready(gateway: Gateway, count: int = 1) -> None:
    """Wait until ``count`` subscribers are registered (the subscription has started)."""
    hub = gateway.app.state.runtime.governance.hub
    for _ in range(250):
        if len(hub.subscribers) >= count:
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the subscription did not start")


async def test_admin_receives_a_committed_event(gateway: Gateway, protocol: str) -> None:
    service_id = await gateway.add_service("provider:a")
    async with ws_connect(gateway.url, protocol) as ws:
        assert (await ws.init(gateway.token("admin:1", "admin")))["type"] == "connection_ack"
        await ws.subscribe("1", GOVERNANCE_EVENTS, {})
        await _ready(gateway)
        event_id = await gateway.emit(service_id, reason="policy breach")
        event = await ws.next_event("1")
    assert event["id"] == str(event_id)
    assert event["type"] == "SERVICE_SUSPENDED"
    assert event["serviceId"] == service_id
    assert event["actor"] == "admin:1"
    assert event["payload"] == {"reason": "policy breach"}
    assert event["occurredAt"].endswith("+00:00")


@pytest.mark.parametrize("payload", [None, {}, {"Authorization": "Bearer not-a-jwt"}])
async def test_connection_init_without_a_valid_token_is_refused(
    gateway: Gateway, protocol: str, payload: dict[str, str] | None
) -> None:
    async with ws_connect(gateway.url, protocol) as ws:
        with pytest.raises(Closed) as closed:
            reply = await ws.init(payload)
            if protocol != TRANSPORT_WS:
                assert reply["type"] == "connection_error"
                assert "Unauthorized" in reply["payload"]["message"]
            await ws.receive()
    assert closed.value.code == 4401


async def test_subscribe_before_init_is_refused(gateway: Gateway, protocol: str) -> None:
    async with ws_connect(gateway.url, protocol) as ws:
        await ws.subscribe("1", GOVERNANCE_EVENTS, {})
        with pytest.raises(Closed) as closed:
            await ws.receive()
    assert closed.value.code == 4401


async def test_consumer_is_forbidden(gateway: Gateway, protocol: str) -> None:
    async with ws_connect(gateway.url, protocol) as ws:
        await ws.init(gateway.token("consumer:1", "consumer"))
        await ws.subscribe("1", GOVERNANCE_EVENTS, {})
        message = await ws.next_result("1")
    errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
    errors = errors if isinstance(errors, list) else [errors]
    assert errors[0]["extensions"]["code"] == "FORBIDDEN"


async def test_provider_sees_only_events_of_its_own_services(
    gateway: Gateway, protocol: str
) -> None:
    own = await gateway.add_service("provider:mine")
    other = await gateway.add_service("provider:other")
    async with ws_connect(gateway.url, protocol) as ws:
        await ws.init(gateway.token("provider:mine", "provider"))
        await ws.subscribe("1", GOVERNANCE_EVENTS, {})
        await _ready(gateway)
        await gateway.emit(other)
        await gateway.emit(None, GovernanceEventType.POLICY_CREATED)
        own_id = await gateway.emit(own)
        event = await ws.next_event("1")
        assert event["id"] == str(own_id)
        with pytest.raises(TimeoutError):
            await ws.next_event("1", within=0.5)


async def test_types_and_service_filters(gateway: Gateway, protocol: str) -> None:
    first = await gateway.add_service("provider:a")
    second = await gateway.add_service("provider:b")
    async with ws_connect(gateway.url, protocol) as ws:
        await ws.init(gateway.token("viewer:1", "viewer"))
        variables = {"types": ["SERVICE_REINSTATED"], "serviceId": second}
        await ws.subscribe("1", GOVERNANCE_EVENTS, variables)
        await _ready(gateway)
        await gateway.emit(second, GovernanceEventType.SERVICE_SUSPENDED)
        await gateway.emit(first, GovernanceEventType.SERVICE_REINSTATED)
        wanted = await gateway.emit(second, GovernanceEventType.SERVICE_REINSTATED)
        event = await ws.next_event("1")
    assert (event["id"], event["type"]) == (str(wanted), "SERVICE_REINSTATED")


async def test_reconnect_with_since_gets_exactly_the_missed_events_then_live_ones(
    gateway: Gateway, protocol: str
) -> None:
    service_id = await gateway.add_service("provider:a")
    auth = gateway.token("approver:1", "approver")
    async with ws_connect(gateway.url, protocol) as ws:
        await ws.init(auth)
        await ws.subscribe("1", GOVERNANCE_EVENTS, {})
        await _ready(gateway)
        seen = await gateway.emit(service_id, n=0)
        assert (await ws.next_event("1"))["id"] == str(seen)
    missed = [await gateway.emit(service_id, n=i) for i in range(1, 6)]
    async with ws_connect(gateway.url, protocol) as ws:
        await ws.init(auth)
        await ws.subscribe("1", GOVERNANCE_EVENTS, {"since": str(seen)})
        replayed = [await ws.next_event("1") for _ in missed]
        live = await gateway.emit(service_id, n=6)
        after = await ws.next_event("1")
        with pytest.raises(TimeoutError):
            await ws.next_event("1", within=0.5)
    assert [int(e["id"]) for e in replayed] == missed
    assert [e["payload"]["n"] for e in replayed] == [1, 2, 3, 4, 5]
    assert after["id"] == str(live)


async def test_a_bad_cursor_is_bad_user_input(gateway: Gateway, protocol: str) -> None:
    async with ws_connect(gateway.url, protocol) as ws:
        await ws.init(gateway.token("admin:1", "admin"))
        await ws.subscribe("1", GOVERNANCE_EVENTS, {"since": "yesterday"})
        message = await ws.next_result("1")
    errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
    errors = errors if isinstance(errors, list) else [errors]
    assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert errors[0]["extensions"]["field"] == "since"


async def test_hub_shutdown_completes_open_subscriptions(gateway: Gateway, protocol: str) -> None:
    async with ws_connect(gateway.url, protocol) as ws:
        await ws.init(gateway.token("admin:1", "admin"))
        await ws.subscribe("1", GOVERNANCE_EVENTS, {})
        await _ready(gateway)
        gateway.app.state.runtime.governance.hub.close()
        message = await ws.next_result("1")
    assert message["type"] == "complete"
