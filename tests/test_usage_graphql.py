"""Usage subgraph mutations and reads: keys, subscriptions, visibility rules, error codes."""

from __future__ import annotations

from typing import Any

import httpx

from graph.settings import Settings
from tests.conftest import bearer, gql
from tests.fake_llm.harness import CREATE_KEY, SUBSCRIBE, list_service

REVOKE = "mutation($i: ID!) { revokeApiKey(input: {id: $i}) { apiKey { id revokedAt } } }"
ROTATE = """mutation($i: ID!) { rotateApiKey(input: {id: $i}) {
  revokedApiKey { id revokedAt } apiKey { id prefix } secret } }"""


def code(body: dict[str, Any]) -> str:
    return str(body["errors"][0]["extensions"]["code"])


async def test_keys_lifecycle_and_errors(client: httpx.AsyncClient, settings: Settings) -> None:
    alice = bearer(settings, "alice", "consumer")
    assert code(await gql(client, CREATE_KEY, {"n": "k"})) == "UNAUTHENTICATED"
    assert code(await gql(client, CREATE_KEY, {"n": " "}, headers=alice)) == "BAD_USER_INPUT"
    created = (await gql(client, CREATE_KEY, {"n": "ci"}, headers=alice))["data"]["createApiKey"]
    secret, key_id = created["secret"], created["apiKey"]["id"]
    assert secret.startswith("mk_") and len(secret) >= 3 + 43
    assert secret.startswith(created["apiKey"]["prefix"])
    mallory = bearer(settings, "mallory", "consumer")
    assert code(await gql(client, REVOKE, {"i": key_id}, headers=mallory)) == "NOT_FOUND"
    rotated = (await gql(client, ROTATE, {"i": key_id}, headers=alice))["data"]["rotateApiKey"]
    assert rotated["revokedApiKey"]["revokedAt"] is not None
    assert rotated["secret"] != secret
    assert code(await gql(client, REVOKE, {"i": key_id}, headers=alice)) == "INVALID_TRANSITION"
    me = await gql(client, "{ me { apiKeys { id revokedAt } } }", headers=alice)
    assert len(me["data"]["me"]["apiKeys"]) == 2


async def test_subscription_errors(client: httpx.AsyncClient, settings: Settings) -> None:
    alice = bearer(settings, "alice", "consumer")
    missing = await gql(client, SUBSCRIBE, {"s": "nope", "p": "FREE"}, headers=alice)
    assert code(missing) == "NOT_FOUND"
    sessions = client.app.state.runtime.session_factory  # type: ignore[attr-defined]
    from persistence.models import ServiceStatus

    draft = await list_service(sessions, "http://127.0.0.1:9", status=ServiceStatus.DRAFT)
    assert code(await gql(client, SUBSCRIBE, {"s": draft, "p": "FREE"}, headers=alice)) == (
        "BAD_USER_INPUT"
    )
    active = await list_service(sessions, "http://127.0.0.1:9", slug="live")
    body = await gql(client, SUBSCRIBE, {"s": active, "p": "FREE"}, headers=alice)
    sub_id = body["data"]["subscribe"]["subscription"]["id"]
    upgraded = await gql(client, SUBSCRIBE, {"s": active, "p": "BASIC"}, headers=alice)
    assert upgraded["data"]["subscribe"]["subscription"] == {
        "id": sub_id,
        "status": "ACTIVE",
        "plan": {"tier": "BASIC"},
    }
    cancel = "mutation($i: ID!) { cancelSubscription(input: {subscriptionId: $i}) { subscription { status } } }"  # noqa: E501
    assert "errors" not in await gql(client, cancel, {"i": sub_id}, headers=alice)
    assert code(await gql(client, cancel, {"i": sub_id}, headers=alice)) == "INVALID_TRANSITION"


async def test_usage_visibility(client: httpx.AsyncClient, settings: Settings) -> None:
    sessions = client.app.state.runtime.session_factory  # type: ignore[attr-defined]
    service_id = await list_service(sessions, "http://127.0.0.1:9", owner="owner-1")
    stats = "query($i: ID!) { service(id: $i) { usageStats { requests cost } } }"
    owner = bearer(settings, "owner-1", "provider")
    body = await gql(client, stats, {"i": service_id}, headers=owner)
    assert body["data"]["service"]["usageStats"] == {"requests": 0, "cost": "0"}
    other = bearer(settings, "someone", "provider")
    assert code(await gql(client, stats, {"i": service_id}, headers=other)) == "FORBIDDEN"
    admin = bearer(settings, "root", "admin")
    assert "errors" not in await gql(client, stats, {"i": service_id}, headers=admin)
    alice = bearer(settings, "alice", "consumer")
    await gql(client, CREATE_KEY, {"n": "k"}, headers=alice)  # creates alice's consumer
    spy = "query($c: ID!) { usage(filter: {consumerId: $c}) { totals { requests } } }"
    assert code(await gql(client, spy, {"c": "someone-else"}, headers=alice)) == "FORBIDDEN"
    provider_view = await gql(
        client,
        "query($i: ID!) { usage(filter: {serviceId: $i}) { totals { requests } } }",
        {"i": service_id},
        headers=owner,
    )
    assert provider_view["data"]["usage"]["totals"]["requests"] == 0
    assert code(await gql(client, "{ usage { totals { requests } } }")) == "UNAUTHENTICATED"
