"""A rejected service goes back to its approvers; providers follow their own approval requests."""

from __future__ import annotations

from typing import Any

import httpx

from graph.settings import Settings
from tests.publishing_helpers import (
    ADMIN,
    APPROVER,
    LEXICA,
    NIMBUS,
    PUBLISH,
    call,
    error_code,
    events,
    service_input,
)

NEEDS_APPROVAL = {
    "name": "Code models need review",
    "enforcement": "BLOCKING",
    "rules": [{"kind": "approval_required_categories", "params": {"categories": ["code"]}}],
}
CREATE_POLICY = (
    "mutation($input: CreatePolicyInput!) { createPolicy(input: $input) { policy { id } } }"
)
CREATE_PROVIDER = (
    "mutation($input: CreateProviderInput!) { createProvider(input: $input) { provider { id } } }"
)
REJECT = (
    "mutation($id: ID!, $c: String) { rejectService(input: {requestId: $id, comment: $c}) "
    "{ service { status } } }"
)
APPROVE = "mutation($id: ID!) { approveService(input: {requestId: $id}) { service { status } } }"
RESUBMIT = """
mutation($id: ID!, $c: String) {
  resubmitService(input: {serviceId: $id, comment: $c}) {
    approvalRequest { id status reason requestedBy service { id } }
    service { id }
  }
}
"""
STATUS = "query($id: ID) { service(id: $id) { status } }"
REQUESTS = """
query($status: ApprovalStatus) {
  approvalRequests(status: $status) { edges { node { id status service { id } } } }
}
"""
TRAIL = "query($id: ID) { service(id: $id) { auditTrail(first: 1) { action actor diff } } }"


async def _ok(
    client: httpx.AsyncClient, settings: Settings, caller: Any, query: str, **v: Any
) -> dict[str, Any]:
    body = await call(client, settings, caller, query, v)
    assert "errors" not in body, body
    return dict(body["data"])


async def _provider(client: httpx.AsyncClient, settings: Settings, slug: str, owner: str) -> str:
    data = await _ok(
        client,
        settings,
        ADMIN,
        CREATE_PROVIDER,
        input={"slug": slug, "name": slug.title(), "ownerSubject": owner},
    )
    return str(data["createProvider"]["provider"]["id"])


async def _pending(
    client: httpx.AsyncClient, settings: Settings, caller: Any, provider: str, slug: str
) -> tuple[str, str]:
    """Publish a code service (it waits for approval): its id and its request's id."""
    data = await _ok(
        client,
        settings,
        caller,
        PUBLISH,
        input=service_input(provider, slug, category="code"),
    )
    published = data["publishService"]
    return published["service"]["id"], published["approvalRequestId"]


async def _rejected_service(client: httpx.AsyncClient, settings: Settings) -> tuple[str, str]:
    await _ok(client, settings, ADMIN, CREATE_POLICY, input=NEEDS_APPROVAL)
    nimbus = await _provider(client, settings, "nimbus", NIMBUS[0])
    service_id, request_id = await _pending(client, settings, NIMBUS, nimbus, "nimbus-coder")
    rejected = await _ok(client, settings, APPROVER, REJECT, id=request_id, c="No terms URL")
    assert rejected["rejectService"]["service"]["status"] == "DRAFT"
    return service_id, request_id


async def test_a_rejected_service_is_resubmitted_and_can_then_be_approved(
    client: httpx.AsyncClient, settings: Settings
):
    service_id, first_request = await _rejected_service(client, settings)

    data = await _ok(client, settings, NIMBUS, RESUBMIT, id=service_id, c="Terms added")
    request = data["resubmitService"]["approvalRequest"]
    assert request["id"] != first_request
    assert request["status"] == "PENDING"
    assert request["requestedBy"] == NIMBUS[0]
    assert request["service"]["id"] == service_id
    assert "Resubmitted: Terms added" in request["reason"]
    assert "code" in request["reason"]  # why approval is needed is still stated
    status = await _ok(client, settings, NIMBUS, STATUS, id=service_id)
    assert status["service"]["status"] == "PENDING_APPROVAL"

    # The approvers learn of it as of any new request, and the audit trail records who.
    requested = await events(client, settings, ["APPROVAL_REQUESTED"])
    assert [e["payload"]["approvalRequestId"] for e in requested] == [first_request, request["id"]]
    assert requested[-1]["payload"]["comment"] == "Terms added"
    assert requested[-1]["actor"] == NIMBUS[0]
    trail = await _ok(client, settings, ADMIN, TRAIL, id=service_id)
    (entry,) = trail["service"]["auditTrail"]
    assert entry["action"] == "approval.resubmit"
    assert entry["actor"] == NIMBUS[0]
    assert entry["diff"]["after"]["status"] == "PENDING_APPROVAL"
    assert entry["diff"]["approvalRequestId"] == request["id"]
    chain = await _ok(client, settings, ADMIN, "{ verifyAuditChain { valid } }")
    assert chain["verifyAuditChain"]["valid"] is True

    approved = await _ok(client, settings, APPROVER, APPROVE, id=request["id"])
    assert approved["approveService"]["service"]["status"] == "ACTIVE"


async def test_only_a_draft_service_of_ones_own_can_be_resubmitted(
    client: httpx.AsyncClient, settings: Settings
):
    service_id, _ = await _rejected_service(client, settings)
    await _provider(client, settings, "lexica", LEXICA[0])

    other = await call(client, settings, LEXICA, RESUBMIT, {"id": service_id})
    assert error_code(other) == "FORBIDDEN"
    approver = await call(client, settings, APPROVER, RESUBMIT, {"id": service_id})
    assert error_code(approver) == "FORBIDDEN"

    await _ok(client, settings, NIMBUS, RESUBMIT, id=service_id)
    again = await call(client, settings, NIMBUS, RESUBMIT, {"id": service_id})
    assert error_code(again) == "INVALID_TRANSITION"
    assert again["errors"][0]["extensions"]["fromStatus"] == "PENDING_APPROVAL"
    # A refused resubmission leaves exactly one open request.
    pending = await _ok(client, settings, APPROVER, REQUESTS, status="PENDING")
    assert len(pending["approvalRequests"]["edges"]) == 1


async def test_a_resubmission_that_now_breaks_a_blocking_policy_is_refused(
    client: httpx.AsyncClient, settings: Settings
):
    service_id, _ = await _rejected_service(client, settings)
    no_code = {
        "name": "No code models in this region",
        "enforcement": "BLOCKING",
        "rules": [{"kind": "banned_categories", "params": {"categories": ["code"]}}],
    }
    await _ok(client, settings, ADMIN, CREATE_POLICY, input=no_code)

    refused = await call(client, settings, NIMBUS, RESUBMIT, {"id": service_id})
    assert error_code(refused) == "BAD_USER_INPUT"
    assert refused["errors"][0]["extensions"]["policy"] == no_code["name"]
    status = await _ok(client, settings, NIMBUS, STATUS, id=service_id)
    assert status["service"]["status"] == "DRAFT"


async def test_a_provider_lists_the_approval_requests_of_its_own_services(
    client: httpx.AsyncClient, settings: Settings
):
    await _ok(client, settings, ADMIN, CREATE_POLICY, input=NEEDS_APPROVAL)
    nimbus = await _provider(client, settings, "nimbus", NIMBUS[0])
    lexica = await _provider(client, settings, "lexica", LEXICA[0])
    _, nimbus_request = await _pending(client, settings, NIMBUS, nimbus, "n-code")
    _, lexica_request = await _pending(client, settings, LEXICA, lexica, "l-code")

    def ids(data: dict[str, Any]) -> set[str]:
        return {e["node"]["id"] for e in data["approvalRequests"]["edges"]}

    assert ids(await _ok(client, settings, NIMBUS, REQUESTS)) == {nimbus_request}
    assert ids(await _ok(client, settings, LEXICA, REQUESTS)) == {lexica_request}
    assert ids(await _ok(client, settings, APPROVER, REQUESTS)) == {nimbus_request, lexica_request}
    assert ids(await _ok(client, settings, ADMIN, REQUESTS)) == {nimbus_request, lexica_request}

    # The status filter still applies within a provider's own requests.
    await _ok(client, settings, APPROVER, REJECT, id=nimbus_request, c="Incomplete")
    rejected = await _ok(client, settings, NIMBUS, REQUESTS, status="REJECTED")
    assert ids(rejected) == {nimbus_request}
    assert ids(await _ok(client, settings, NIMBUS, REQUESTS, status="PENDING")) == set()


async def test_endpoint_url_is_shown_to_its_provider_and_admins_only(
    client: httpx.AsyncClient, settings: Settings
):
    nimbus = await _provider(client, settings, "nimbus", NIMBUS[0])
    published = await _ok(client, settings, NIMBUS, PUBLISH, input=service_input(nimbus, "n-chat"))
    service_id = published["publishService"]["service"]["id"]
    query = "query($id: ID) { service(id: $id) { name endpointUrl upstreamAuthConfigured } }"
    url = service_input(nimbus)["endpointUrl"]

    for caller in (NIMBUS, ADMIN):
        body = await _ok(client, settings, caller, query, id=service_id)
        assert body["service"]["endpointUrl"] == url
        assert body["service"]["upstreamAuthConfigured"] is False
    await _provider(client, settings, "lexica", LEXICA[0])
    other = await call(client, settings, LEXICA, query, {"id": service_id})
    # The rest of the service is answered; the two owner-only fields are null with FORBIDDEN.
    assert other["data"]["service"] == {
        "name": "Nimbus Coder",
        "endpointUrl": None,
        "upstreamAuthConfigured": None,
    }
    refused = {(tuple(e["path"]), e["extensions"]["code"]) for e in other["errors"]}
    assert refused == {
        (("service", "endpointUrl"), "FORBIDDEN"),
        (("service", "upstreamAuthConfigured"), "FORBIDDEN"),
    }
    assert url not in str(other)


async def test_owner_checks_over_a_list_are_batched(
    client: httpx.AsyncClient, settings: Settings, count_statements: Any
):
    nimbus = await _provider(client, settings, "nimbus", NIMBUS[0])
    for n in range(5):
        await _ok(client, settings, NIMBUS, PUBLISH, input=service_input(nimbus, f"n-chat-{n}"))
    query = "{ services(first: 10) { edges { node { slug endpointUrl } } } }"
    engine = client.app.state.runtime.engine  # type: ignore[attr-defined]
    with count_statements(engine) as counter:
        body = await _ok(client, settings, NIMBUS, query)
    assert len(body["services"]["edges"]) == 5
    assert all(e["node"]["endpointUrl"] for e in body["services"]["edges"])
    # One lookup of the owners for the whole page, not one per service.
    owners = [s for s in counter.statements if "FROM providers" in s]
    assert len(owners) == 1, counter.statements
