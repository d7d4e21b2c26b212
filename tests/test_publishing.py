"""Publishing services through /graphql: the validation pipeline, ownership, lifecycle."""

from __future__ import annotations

import httpx
import pytest

from graph.settings import Settings
from tests.publishing_helpers import (
    ADMIN,
    CONSUMER,
    LEXICA,
    NIMBUS,
    PUBLISH,
    audit_count,
    call,
    error_code,
    events,
    provider_id,
    service_input,
)

VERSION = """
mutation($input: PublishServiceVersionInput!) {
  publishServiceVersion(input: $input) { service { version } version { version changelog } }
}
"""
UPDATE = """
mutation($input: UpdateServiceInput!) {
  updateService(input: $input) { service { name tags pricing { inputPricePer1k } } }
}
"""
DEPRECATE = """
mutation($input: ServiceLifecycleInput!) { deprecateService(input: $input) { service { status } } }
"""
RETIRE = """
mutation($input: ServiceLifecycleInput!) { retireService(input: $input) { service { status } } }
"""


async def _publish(client: httpx.AsyncClient, settings: Settings, **overrides: object) -> dict:
    nimbus = await provider_id(client, "nimbus")
    body = await call(
        client, settings, NIMBUS, PUBLISH, {"input": service_input(nimbus, **overrides)}
    )
    assert "errors" not in body, body
    return dict(body["data"]["publishService"])


async def test_provider_publishes_an_active_service(
    seeded_client: httpx.AsyncClient, settings: Settings
):
    before = await audit_count(seeded_client, settings)
    payload = await _publish(seeded_client, settings)
    service = payload["service"]
    assert service["status"] == "ACTIVE" and payload["requiresApproval"] is False
    assert service["version"] == "1.0.0"
    assert service["pricing"] == {"currency": "USD", "inputPricePer1k": "0.00200000"}
    published = await events(seeded_client, settings, ["SERVICE_PUBLISHED"])
    assert [e["serviceId"] for e in published] == [service["id"]]
    assert published[0]["actor"] == "provider:nimbus"
    assert await audit_count(seeded_client, settings) == before + 1


async def test_consumer_and_anonymous_callers_cannot_publish(
    seeded_client: httpx.AsyncClient, settings: Settings
):
    nimbus = await provider_id(seeded_client, "nimbus")
    variables = {"input": service_input(nimbus)}
    assert (
        error_code(await call(seeded_client, settings, CONSUMER, PUBLISH, variables)) == "FORBIDDEN"
    )
    assert (
        error_code(await call(seeded_client, settings, None, PUBLISH, variables))
        == "UNAUTHENTICATED"
    )


async def test_a_provider_cannot_publish_for_another_provider(
    seeded_client: httpx.AsyncClient, settings: Settings
):
    nimbus = await provider_id(seeded_client, "nimbus")
    body = await call(seeded_client, settings, LEXICA, PUBLISH, {"input": service_input(nimbus)})
    assert error_code(body) == "FORBIDDEN"


async def test_unknown_provider_is_not_found(seeded_client: httpx.AsyncClient, settings: Settings):
    body = await call(seeded_client, settings, ADMIN, PUBLISH, {"input": service_input("nope")})
    assert error_code(body) == "NOT_FOUND"


@pytest.mark.parametrize(
    ("overrides", "field", "stage"),
    [
        ({"version": "1.0"}, "version", "semver"),
        ({"slug": "Bad Slug"}, "slug", "input_schema"),
        ({"slug": "nimbus-chat-pro"}, "slug", "input_schema"),
        ({"category": "astrology"}, "category", "input_schema"),
        ({"tags": [f"t{i}" for i in range(11)]}, "tags", "input_schema"),
        ({"description": "short"}, "description", "input_schema"),
        ({"name": "  "}, "name", "input_schema"),
        ({"endpointUrl": "http://127.0.0.1:8080/v1"}, "endpointUrl", "endpoint_url"),
        ({"endpointUrl": "https://10.1.2.3/v1"}, "endpointUrl", "endpoint_url"),
        ({"endpointUrl": "https://[::1]/v1"}, "endpointUrl", "endpoint_url"),
        ({"endpointUrl": "https://metadata.internal/"}, "endpointUrl", "endpoint_url"),
        ({"endpointUrl": "ftp://api.nimbus.example/"}, "endpointUrl", "endpoint_url"),
        (
            {
                "pricing": {
                    "model": "PER_TOKEN",
                    "currency": "XYZ",
                    "inputPricePer1k": "1",
                    "outputPricePer1k": "1",
                }
            },
            "pricing.currency",
            "pricing",
        ),
        (
            {"pricing": {"model": "PER_TOKEN", "inputPricePer1k": "-1", "outputPricePer1k": "1"}},
            "pricing.inputPricePer1k",
            "pricing",
        ),
        (
            {"pricing": {"model": "PER_REQUEST", "inputPricePer1k": "0.1"}},
            "pricing.model",
            "pricing",
        ),
        ({"termsUrl": None}, "termsUrl", "policy_compliance"),
    ],
)
async def test_the_pipeline_refuses_bad_input_and_writes_nothing(
    seeded_client: httpx.AsyncClient,
    settings: Settings,
    overrides: dict,
    field: str,
    stage: str,
):
    before_audit = await audit_count(seeded_client, settings)
    before_events = await events(seeded_client, settings)
    nimbus = await provider_id(seeded_client, "nimbus")
    body = await call(
        seeded_client, settings, NIMBUS, PUBLISH, {"input": service_input(nimbus, **overrides)}
    )
    assert error_code(body) == "BAD_USER_INPUT", body
    extensions = body["errors"][0]["extensions"]
    assert (extensions["field"], extensions["stage"]) == (field, stage)
    assert await audit_count(seeded_client, settings) == before_audit
    assert await events(seeded_client, settings) == before_events
    found = await call(
        seeded_client, settings, None, '{ service(slug: "nimbus-trial-chat") { id } }'
    )
    assert found["data"]["service"] is None


async def test_blocking_policy_violation_names_the_policy(
    seeded_client: httpx.AsyncClient, settings: Settings
):
    nimbus = await provider_id(seeded_client, "nimbus")
    body = await call(
        seeded_client,
        settings,
        NIMBUS,
        PUBLISH,
        {"input": service_input(nimbus, privacyPolicyUrl=None)},
    )
    extensions = body["errors"][0]["extensions"]
    assert extensions["policy"] == "Published legal terms"
    assert extensions["rule"] == "required_fields"


async def test_versions_must_increase(seeded_client: httpx.AsyncClient, settings: Settings):
    service_id = (await _publish(seeded_client, settings))["service"]["id"]
    for bad in ("1.0.0", "0.9.0", "1.0.0-rc.1", "1.1"):
        body = await call(
            seeded_client,
            settings,
            NIMBUS,
            VERSION,
            {"input": {"serviceId": service_id, "version": bad}},
        )
        assert error_code(body) == "BAD_USER_INPUT", bad
        assert body["errors"][0]["extensions"]["field"] == "version"
    body = await call(
        seeded_client,
        settings,
        NIMBUS,
        VERSION,
        {"input": {"serviceId": service_id, "version": "1.1.0", "changelog": "Faster."}},
    )
    assert body["data"]["publishServiceVersion"] == {
        "service": {"version": "1.1.0"},
        "version": {"version": "1.1.0", "changelog": "Faster."},
    }
    (event,) = await events(seeded_client, settings, ["SERVICE_VERSION_PUBLISHED"])
    assert event["payload"]["previousVersion"] == "1.0.0"
    body = await call(
        seeded_client,
        settings,
        LEXICA,
        VERSION,
        {"input": {"serviceId": service_id, "version": "2.0.0"}},
    )
    assert error_code(body) == "FORBIDDEN"


async def test_update_records_a_diff(seeded_client: httpx.AsyncClient, settings: Settings):
    service_id = (await _publish(seeded_client, settings))["service"]["id"]
    body = await call(
        seeded_client,
        settings,
        NIMBUS,
        UPDATE,
        {
            "input": {
                "serviceId": service_id,
                "name": "Nimbus Coder 2",
                "tags": ["Code"],
                "pricing": {
                    "model": "PER_TOKEN",
                    "inputPricePer1k": "0.003",
                    "outputPricePer1k": "0.004",
                },
            }
        },
    )
    assert body["data"]["updateService"]["service"] == {
        "name": "Nimbus Coder 2",
        "tags": ["code"],
        "pricing": {"inputPricePer1k": "0.00300000"},
    }
    trail = await call(
        seeded_client,
        settings,
        NIMBUS,
        "query($id: ID) { service(id: $id) { auditTrail(first: 5) { action diff } } }",
        {"id": service_id},
    )
    latest = trail["data"]["service"]["auditTrail"][0]
    assert latest["action"] == "service.update"
    assert latest["diff"]["before"]["name"] == "Nimbus Coder"
    assert latest["diff"]["after"]["name"] == "Nimbus Coder 2"
    assert latest["diff"]["after"]["pricing"]["input_price_per_1k"] == "0.003"
    (event,) = await events(seeded_client, settings, ["SERVICE_UPDATED"])
    assert event["payload"]["changed"] == ["name", "pricing", "tags"]


async def test_deprecate_then_retire_and_illegal_transitions(
    seeded_client: httpx.AsyncClient, settings: Settings
):
    service_id = (await _publish(seeded_client, settings))["service"]["id"]
    variables = {"input": {"serviceId": service_id, "reason": "Superseded"}}
    body = await call(seeded_client, settings, NIMBUS, DEPRECATE, variables)
    assert body["data"]["deprecateService"]["service"]["status"] == "DEPRECATED"
    body = await call(seeded_client, settings, NIMBUS, DEPRECATE, variables)
    assert error_code(body) == "INVALID_TRANSITION"
    body = await call(seeded_client, settings, NIMBUS, RETIRE, variables)
    assert body["data"]["retireService"]["service"]["status"] == "RETIRED"
    for mutation in (DEPRECATE, RETIRE):
        assert error_code(await call(seeded_client, settings, NIMBUS, mutation, variables)) == (
            "INVALID_TRANSITION"
        )
    body = await call(
        seeded_client,
        settings,
        NIMBUS,
        VERSION,
        {"input": {"serviceId": service_id, "version": "2.0.0"}},
    )
    assert error_code(body) == "INVALID_TRANSITION"
    types = [e["type"] for e in await events(seeded_client, settings)]
    assert types[-2:] == ["SERVICE_DEPRECATED", "SERVICE_RETIRED"]


async def test_create_provider_owned_by_the_caller(
    seeded_client: httpx.AsyncClient, settings: Settings
):
    mutation = """
    mutation($input: CreateProviderInput!) {
      createProvider(input: $input) { provider { id slug } }
    }
    """
    newco = ("provider:newco", "provider")
    body = await call(
        seeded_client, settings, newco, mutation, {"input": {"slug": "newco", "name": "NewCo"}}
    )
    new_id = body["data"]["createProvider"]["provider"]["id"]
    body = await call(
        seeded_client,
        settings,
        newco,
        PUBLISH,
        {"input": service_input(new_id, slug="newco-chat")},
    )
    assert body["data"]["publishService"]["service"]["status"] == "ACTIVE"
    again = await call(
        seeded_client, settings, newco, mutation, {"input": {"slug": "newco", "name": "NewCo"}}
    )
    assert error_code(again) == "BAD_USER_INPUT"
    assert (
        error_code(
            await call(
                seeded_client, settings, CONSUMER, mutation, {"input": {"slug": "x", "name": "X"}}
            )
        )
        == "FORBIDDEN"
    )
