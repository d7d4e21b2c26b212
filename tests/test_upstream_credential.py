"""setUpstreamCredential: who may set it, what is accepted, what is recorded, what is sent."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from graph.settings import Settings
from persistence.models import Service
from tests.conftest import gql
from tests.fake_llm.app import create_app as create_fake_llm
from tests.fake_llm.harness import graphql, list_service, onboard, serve
from tests.publishing_helpers import (
    ADMIN,
    CONSUMER,
    EVENTS,
    LEXICA,
    NIMBUS,
    PUBLISH,
    call,
    error_code,
    service_input,
)
from tests.test_passthrough import key_headers, passthrough_settings, running_gateway

SECRET = "opaqueUpstreamCredential42"
SET = """mutation($id: ID!, $header: String) {
  setUpstreamCredential(input: {serviceId: $id, header: $header}) {
    service { id upstreamAuthConfigured }
  }
}"""
CONFIGURED = "query($id: ID) { service(id: $id) { upstreamAuthConfigured } }"
AUDIT = """query($id: String) { auditLog(filter: {targetId: $id}, first: 50) {
  edges { node { actor action diff } } } }"""


async def _published(client: httpx.AsyncClient, settings: Settings) -> str:
    provider = await call(
        client,
        settings,
        ADMIN,
        "mutation($input: CreateProviderInput!) { createProvider(input: $input) "
        "{ provider { id } } }",
        {"input": {"slug": "nimbus", "name": "Nimbus", "ownerSubject": NIMBUS[0]}},
    )
    pid = provider["data"]["createProvider"]["provider"]["id"]
    body = await call(client, settings, NIMBUS, PUBLISH, {"input": service_input(pid)})
    assert "errors" not in body, body
    return str(body["data"]["publishService"]["service"]["id"])


async def _stored(client: httpx.AsyncClient, service_id: str) -> str | None:
    sessions = client.app.state.runtime.session_factory  # type: ignore[attr-defined]
    async with sessions() as session:
        return await session.scalar(
            select(Service.upstream_auth_header).where(Service.id == service_id)
        )


async def _set(
    client: httpx.AsyncClient,
    settings: Settings,
    caller: tuple[str, ...] | None,
    service_id: str,
    header: str | None,
) -> dict[str, Any]:
    return await call(client, settings, caller, SET, {"id": service_id, "header": header})


async def test_owner_sets_replaces_and_clears_the_credential(
    client: httpx.AsyncClient, settings: Settings
):
    service_id = await _published(client, settings)
    body = await _set(client, settings, NIMBUS, service_id, f"  X-Upstream-Key:  {SECRET}  ")
    assert "errors" not in body, body
    assert body["data"]["setUpstreamCredential"]["service"]["upstreamAuthConfigured"] is True
    assert await _stored(client, service_id) == f"X-Upstream-Key: {SECRET}"

    body = await _set(client, settings, ADMIN, service_id, f"Authorization: Bearer {SECRET}")
    assert "errors" not in body, body
    assert await _stored(client, service_id) == f"Authorization: Bearer {SECRET}"

    for cleared in (None, "", "   "):
        body = await _set(client, settings, NIMBUS, service_id, cleared)
        assert "errors" not in body, body
        assert body["data"]["setUpstreamCredential"]["service"]["upstreamAuthConfigured"] is False
        assert await _stored(client, service_id) is None
    seen = await call(client, settings, NIMBUS, CONFIGURED, {"id": service_id})
    assert seen["data"]["service"]["upstreamAuthConfigured"] is False


async def test_audit_and_events_say_set_or_cleared_and_never_hold_the_secret(
    client: httpx.AsyncClient, settings: Settings
):
    service_id = await _published(client, settings)
    await _set(client, settings, NIMBUS, service_id, f"X-Upstream-Key: {SECRET}")
    await _set(client, settings, ADMIN, service_id, None)
    await _set(client, settings, ADMIN, service_id, None)  # already clear: nothing recorded

    audit = await call(client, settings, ADMIN, AUDIT, {"id": service_id})
    entries = [
        e["node"]
        for e in audit["data"]["auditLog"]["edges"]
        if e["node"]["action"] == "service.set_upstream_credential"
    ]
    assert sorted((e["actor"], e["diff"]["after"]["upstream_auth"]) for e in entries) == [
        (ADMIN[0], "cleared"),
        (NIMBUS[0], "set"),
    ]
    events = await call(client, settings, ADMIN, EVENTS, {"types": ["SERVICE_UPDATED"]})
    payloads = [e["payload"] for e in events["data"]["governanceEvents"]]
    assert {"changed": ["upstream_auth"], "upstream_auth": "set"} in payloads
    assert {"changed": ["upstream_auth"], "upstream_auth": "cleared"} in payloads
    assert SECRET not in json.dumps([audit, events])


async def test_the_secret_is_never_returned(client: httpx.AsyncClient, settings: Settings):
    service_id = await _published(client, settings)
    body = await _set(client, settings, NIMBUS, service_id, f"X-Upstream-Key: {SECRET}")
    assert SECRET not in json.dumps(body)
    fields = await gql(
        client,
        '{ __type(name: "Service") { fields { name } } }',
    )
    names = {f["name"] for f in fields["data"]["__type"]["fields"]}
    assert "upstreamAuthConfigured" in names
    assert not {n for n in names if "header" in n.lower() or "credential" in n.lower()}


@pytest.mark.parametrize(
    ("caller", "code"),
    [(None, "UNAUTHENTICATED"), (CONSUMER, "FORBIDDEN"), (LEXICA, "FORBIDDEN")],
)
async def test_only_the_owning_provider_and_admins_may_set_it(
    client: httpx.AsyncClient, settings: Settings, caller: tuple[str, ...] | None, code: str
):
    service_id = await _published(client, settings)
    body = await _set(client, settings, caller, service_id, f"X-Upstream-Key: {SECRET}")
    assert error_code(body) == code
    assert SECRET not in json.dumps(body)
    assert await _stored(client, service_id) is None


async def test_unknown_service_is_not_found(client: httpx.AsyncClient, settings: Settings):
    missing = "00000000-0000-0000-0000-000000000000"
    body = await _set(client, settings, NIMBUS, missing, f"X-Upstream-Key: {SECRET}")
    assert error_code(body) == "NOT_FOUND"


@pytest.mark.parametrize(
    "header",
    [
        f"Bearer {SECRET}",  # not "Name: value"
        f"X Upstream: {SECRET}",  # space in the name
        f"X-Upstream(Key): {SECRET}",  # not a token
        f": {SECRET}",  # empty name
        "X-Upstream-Key:",  # empty value
        "X-Upstream-Key:   ",
        f"X-Upstream-Key: {SECRET}\r\nX-Injected: yes",
        f"X-Upstream-Key: {SECRET}\n",
        f"X-Upstream-Key: {SECRET}\x00",
        f"X-Upstream-Key: {SECRET}é",  # not ASCII
        f"Connection: {SECRET}",  # hop-by-hop
        f"Transfer-Encoding: {SECRET}",
        f"Host: {SECRET}",  # set by the gateway
        f"content-length: {SECRET}",
        f"X-Request-ID: {SECRET}",
        f"Traceparent: {SECRET}",
        f"Accept-Encoding: {SECRET}",
        "X-Upstream-Key: " + "a" * 2000,  # too long
    ],
)
async def test_malformed_or_reserved_headers_are_bad_input(
    client: httpx.AsyncClient, settings: Settings, header: str
):
    service_id = await _published(client, settings)
    body = await _set(client, settings, NIMBUS, service_id, header)
    assert error_code(body) == "BAD_USER_INPUT"
    assert body["errors"][0]["extensions"]["field"] == "header"
    assert SECRET not in json.dumps(body)
    assert await _stored(client, service_id) is None


async def test_a_retired_service_can_be_cleared_but_not_given_a_credential(
    client: httpx.AsyncClient, settings: Settings
):
    service_id = await _published(client, settings)
    await _set(client, settings, NIMBUS, service_id, f"X-Upstream-Key: {SECRET}")
    retired = await call(
        client,
        settings,
        NIMBUS,
        "mutation($id: ID!) { retireService(input: {serviceId: $id}) { __typename } }",
        {"id": service_id},
    )
    assert "errors" not in retired, retired
    body = await _set(client, settings, NIMBUS, service_id, "X-Upstream-Key: another")
    assert error_code(body) == "INVALID_TRANSITION"
    body = await _set(client, settings, NIMBUS, service_id, None)
    assert "errors" not in body, body
    assert await _stored(client, service_id) is None


async def test_the_upstream_receives_the_credential_set_through_the_api(
    database_url: str, tmp_path: Path
):
    async with (
        serve(create_fake_llm()) as upstream,
        running_gateway(passthrough_settings(database_url, tmp_path)) as gw,
    ):
        service_id = await list_service(gw.sessions, upstream, upstream_auth=None)
        _, key = await onboard(gw.http, gw.settings, "carol", service_id)

        async def seen() -> dict[str, str]:
            response = await gw.http.get("/v1/services/fake-llm/echo", headers=key_headers(key))
            assert response.status_code == 200
            headers: dict[str, str] = response.json()["headers"]
            return headers

        assert "authorization" not in await seen()

        async def set_header(header: str | None) -> None:
            body = await graphql(
                gw.http,
                gw.settings,
                "provider-1",
                SET,
                {"id": service_id, "header": header},
                "provider",
            )
            assert "errors" not in body, body

        await set_header(f"X-Upstream-Key: {SECRET}")
        headers = await seen()
        assert headers["x-upstream-key"] == SECRET
        assert key not in json.dumps(headers)

        await set_header(f"Authorization: Bearer {SECRET}")
        headers = await seen()
        assert headers["authorization"] == f"Bearer {SECRET}"
        assert "x-upstream-key" not in headers

        await set_header(None)
        headers = await seen()
        assert "authorization" not in headers and "x-upstream-key" not in headers
        # The consumer's own key still never reaches the upstream.
        assert key not in json.dumps(headers)
