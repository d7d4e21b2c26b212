"""revokeApiKey: admins revoke any consumer's key; everyone else only their own."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from graph.settings import Settings
from persistence.models import ApiKey
from tests.fake_llm.app import create_app as create_fake_llm
from tests.fake_llm.harness import graphql, list_service, onboard, serve
from tests.publishing_helpers import ADMIN, LEXICA, call, error_code
from tests.test_passthrough import CHAT, chat, key_headers, passthrough_settings, running_gateway

OWNER = ("consumer:acme", "consumer")
OTHER = ("consumer:globex", "consumer")
CREATE = 'mutation { createApiKey(input: {name: "k"}) { apiKey { id } secret } }'
REVOKE = "mutation($id: ID!) { revokeApiKey(input: {id: $id}) { apiKey { id revokedAt } } }"
MY_KEYS = "{ me { id apiKeys { id revokedAt } } }"
AUDIT = """query($id: String) { auditLog(filter: {targetId: $id}) {
  edges { node { actor action diff } } } }"""
MISSING = "00000000-0000-0000-0000-000000000000"


async def _key(client: httpx.AsyncClient, settings: Settings) -> str:
    body = await call(client, settings, OWNER, CREATE)
    assert "errors" not in body, body
    return str(body["data"]["createApiKey"]["apiKey"]["id"])


async def _revoked_at(client: httpx.AsyncClient, key_id: str) -> object:
    sessions = client.app.state.runtime.session_factory  # type: ignore[attr-defined]
    async with sessions() as session:
        return await session.scalar(select(ApiKey.revoked_at).where(ApiKey.id == key_id))


async def test_an_admin_revokes_another_consumers_key_and_it_is_audited(
    client: httpx.AsyncClient, settings: Settings
):
    key_id = await _key(client, settings)
    body = await call(client, settings, ADMIN, REVOKE, {"id": key_id})
    assert "errors" not in body, body
    assert body["data"]["revokeApiKey"]["apiKey"]["revokedAt"] is not None
    assert await _revoked_at(client, key_id) is not None

    mine = await call(client, settings, OWNER, MY_KEYS)
    assert mine["data"]["me"]["apiKeys"][0]["revokedAt"] is not None
    audit = await call(client, settings, ADMIN, AUDIT, {"id": key_id})
    actions = [e["node"] for e in audit["data"]["auditLog"]["edges"]]
    revocation = next(a for a in actions if a["action"] == "usage.admin_revoke_api_key")
    assert revocation["actor"] == ADMIN[0]
    assert revocation["diff"]["after"] == {"revoked": True}
    assert revocation["diff"]["consumer_id"] == mine["data"]["me"]["id"]


async def test_admin_errors_not_found_and_already_revoked(
    client: httpx.AsyncClient, settings: Settings
):
    assert error_code(await call(client, settings, ADMIN, REVOKE, {"id": MISSING})) == "NOT_FOUND"
    key_id = await _key(client, settings)
    assert "errors" not in await call(client, settings, OWNER, REVOKE, {"id": key_id})
    again = await call(client, settings, ADMIN, REVOKE, {"id": key_id})
    assert error_code(again) == "INVALID_TRANSITION"


@pytest.mark.parametrize(
    ("caller", "code"),
    [(None, "UNAUTHENTICATED"), (OTHER, "NOT_FOUND"), (LEXICA, "NOT_FOUND")],
)
async def test_non_admins_cannot_revoke_or_detect_someone_elses_key(
    client: httpx.AsyncClient, settings: Settings, caller: tuple[str, ...] | None, code: str
):
    key_id = await _key(client, settings)
    existing = await call(client, settings, caller, REVOKE, {"id": key_id})
    missing = await call(client, settings, caller, REVOKE, {"id": MISSING})
    assert error_code(existing) == error_code(missing) == code
    # Same answer whether the key exists or not, apart from the id it names.
    assert (
        existing["errors"][0]["message"].replace(key_id, MISSING)
        == (missing["errors"][0]["message"])
    )
    assert await _revoked_at(client, key_id) is None


async def test_the_passthrough_refuses_a_key_an_admin_revoked(database_url: str, tmp_path: Path):
    async with (
        serve(create_fake_llm()) as upstream,
        running_gateway(passthrough_settings(database_url, tmp_path)) as gw,
    ):
        service_id = await list_service(gw.sessions, upstream)
        _, secret = await onboard(gw.http, gw.settings, "dave", service_id)
        response = await gw.http.post(CHAT, json=chat(), headers=key_headers(secret))
        assert response.status_code == 200
        keys = await graphql(gw.http, gw.settings, "dave", MY_KEYS)
        key_id = keys["data"]["me"]["apiKeys"][0]["id"]

        body = await graphql(gw.http, gw.settings, ADMIN[0], REVOKE, {"id": key_id}, "admin")
        assert "errors" not in body, body
        response = await gw.http.post(CHAT, json=chat(), headers=key_headers(secret))
        assert (response.status_code, response.json()["code"]) == (401, "INVALID_API_KEY")
