"""Governance through /graphql: approvals, policies, suspension, audit, events."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select, text, update

from graph.runtime import Runtime
from graph.settings import Settings
from persistence.models import ApprovalRequest, Policy, Service
from persistence.models.base import new_id, utcnow
from resolvers.recheck import recheck_once
from tests.publishing_helpers import (
    ADMIN,
    APPROVER,
    CONSUMER,
    LEXICA,
    NIMBUS,
    PUBLISH,
    VERIFY,
    audit_count,
    call,
    error_code,
    events,
    provider_id,
    service_input,
    tamper_with_audit_row,
)

CREATE_POLICY = """
mutation($input: CreatePolicyInput!) {
  createPolicy(input: $input) {
    policy { id name enforcement version active }
    checkedServices suspendedServices { id slug status }
  }
}
"""
UPDATE_POLICY = """
mutation($input: UpdatePolicyInput!) {
  updatePolicy(input: $input) { policy { version enforcement } suspendedServices { id } }
}
"""
DEACTIVATE_POLICY = """
mutation($id: ID!) { deactivatePolicy(input: {policyId: $id}) { policy { active version } } }
"""
APPROVE = """
mutation($id: ID!, $comment: String) {
  approveService(input: {requestId: $id, comment: $comment}) {
    approvalRequest { status decidedBy decisionComment } service { id status }
  }
}
"""
REJECT = """
mutation($id: ID!, $comment: String) {
  rejectService(input: {requestId: $id, comment: $comment}) {
    approvalRequest { status } service { status }
  }
}
"""
SUSPEND = """
mutation($id: ID!, $reason: String!) {
  suspendService(input: {serviceId: $id, reason: $reason}) { service { id status } }
}
"""
REINSTATE = """
mutation($id: ID!, $reason: String!) {
  reinstateService(input: {serviceId: $id, reason: $reason}) { service { id status } }
}
"""
SERVICE = """
query($id: ID) {
  service(id: $id) {
    status
    compliance { compliant score violations { policy rule message severity } }
  }
}
"""
APPROVALS = """
query($status: ApprovalStatus) {
  approvalRequests(status: $status) { edges { node { id status requestedBy service { slug } } } }
}
"""


@pytest.fixture
def runtime_of_client(seeded_client: httpx.AsyncClient) -> Runtime:
    runtime: Runtime = seeded_client.app.state.runtime  # type: ignore[attr-defined]
    return runtime


NEEDS_APPROVAL = {
    "name": "Code models need review",
    "enforcement": "BLOCKING",
    "rules": [{"kind": "approval_required_categories", "params": {"categories": ["code"]}}],
}


async def _request_approval(client: httpx.AsyncClient, settings: Settings) -> dict:
    body = await call(client, settings, ADMIN, CREATE_POLICY, {"input": NEEDS_APPROVAL})
    assert "errors" not in body, body
    nimbus = await provider_id(client, "nimbus")
    body = await call(
        client, settings, NIMBUS, PUBLISH, {"input": service_input(nimbus, category="code")}
    )
    assert "errors" not in body, body
    return dict(body["data"]["publishService"])


async def test_publishing_into_a_reviewed_category_waits_for_approval(
    seeded_client: httpx.AsyncClient, settings: Settings
):
    payload = await _request_approval(seeded_client, settings)
    assert payload["requiresApproval"] is True
    assert payload["service"]["status"] == "PENDING_APPROVAL"
    request_id = payload["approvalRequestId"]
    (requested,) = await events(seeded_client, settings, ["APPROVAL_REQUESTED"])
    assert requested["payload"]["approvalRequestId"] == request_id
    assert requested["serviceId"] == payload["service"]["id"]

    body = await call(seeded_client, settings, APPROVER, APPROVALS, {"status": "PENDING"})
    nodes = [e["node"] for e in body["data"]["approvalRequests"]["edges"]]
    assert {
        "id": request_id,
        "status": "PENDING",
        "requestedBy": "provider:nimbus",
        "service": {"slug": "nimbus-trial-chat"},
    } in nodes
    assert error_code(await call(seeded_client, settings, CONSUMER, APPROVALS)) == "FORBIDDEN"

    # The publisher holds the approver role too: still not for its own request.
    both = ("provider:nimbus", "provider", "approver")
    body = await call(seeded_client, settings, both, APPROVE, {"id": request_id})
    assert error_code(body) == "FORBIDDEN"
    body = await call(seeded_client, settings, NIMBUS, APPROVE, {"id": request_id})
    assert error_code(body) == "FORBIDDEN"

    body = await call(
        seeded_client, settings, APPROVER, APPROVE, {"id": request_id, "comment": "ok"}
    )
    decided = body["data"]["approveService"]
    assert decided["approvalRequest"] == {
        "status": "APPROVED",
        "decidedBy": "approver:ada",
        "decisionComment": "ok",
    }
    assert decided["service"]["status"] == "ACTIVE"
    types = [e["type"] for e in await events(seeded_client, settings)]
    assert types[-2:] == ["APPROVAL_DECIDED", "SERVICE_PUBLISHED"]
    body = await call(seeded_client, settings, APPROVER, APPROVE, {"id": request_id})
    assert error_code(body) == "INVALID_TRANSITION"
    assert error_code(await call(seeded_client, settings, APPROVER, APPROVE, {"id": "nope"})) == (
        "NOT_FOUND"
    )
    verified = await call(seeded_client, settings, APPROVER, VERIFY)
    assert verified["data"]["verifyAuditChain"]["valid"] is True


async def test_rejection_needs_a_comment_and_returns_the_service_to_draft(
    seeded_client: httpx.AsyncClient, settings: Settings
):
    request_id = (await _request_approval(seeded_client, settings))["approvalRequestId"]
    body = await call(seeded_client, settings, APPROVER, REJECT, {"id": request_id})
    assert error_code(body) == "BAD_USER_INPUT"
    body = await call(
        seeded_client, settings, APPROVER, REJECT, {"id": request_id, "comment": "No docs."}
    )
    assert body["data"]["rejectService"] == {
        "approvalRequest": {"status": "REJECTED"},
        "service": {"status": "DRAFT"},
    }


async def test_two_approvers_at_once_exactly_one_wins(
    seeded_client: httpx.AsyncClient, settings: Settings
):
    request_id = (await _request_approval(seeded_client, settings))["approvalRequestId"]
    other = ("approver:bob", "approver")
    first, second = await asyncio.gather(
        call(seeded_client, settings, APPROVER, APPROVE, {"id": request_id}),
        call(seeded_client, settings, other, REJECT, {"id": request_id, "comment": "no"}),
    )
    outcomes = sorted(["errors" in first, "errors" in second])
    assert outcomes == [False, True], (first, second)
    loser = first if "errors" in first else second
    assert error_code(loser) == "INVALID_TRANSITION"
    decided = await events(seeded_client, settings, ["APPROVAL_DECIDED"])
    assert len(decided) == 1
    await audit_count(seeded_client, settings)  # the chain is still valid


async def test_stale_requests_expire(
    seeded_client: httpx.AsyncClient, settings: Settings, runtime_of_client: Runtime
):
    payload = await _request_approval(seeded_client, settings)
    request_id = payload["approvalRequestId"]
    async with runtime_of_client.session_factory() as session, session.begin():
        await session.execute(
            update(ApprovalRequest)
            .where(ApprovalRequest.id == request_id)
            .values(expires_at=utcnow() - timedelta(minutes=1))
        )
    body = await call(seeded_client, settings, APPROVER, APPROVALS, {"status": "EXPIRED"})
    assert [e["node"]["id"] for e in body["data"]["approvalRequests"]["edges"]] == [request_id]
    body = await call(seeded_client, settings, APPROVER, APPROVE, {"id": request_id})
    assert error_code(body) == "INVALID_TRANSITION"

    result = await recheck_once(runtime_of_client.session_factory, settings)
    assert result.expired_requests == [request_id]
    body = await call(seeded_client, settings, None, SERVICE, {"id": payload["service"]["id"]})
    assert body["data"]["service"]["status"] == "DRAFT"
    (decided,) = await events(seeded_client, settings, ["APPROVAL_DECIDED"])
    assert decided["payload"]["decision"] == "EXPIRED"


async def test_a_new_blocking_policy_suspends_violating_services(
    seeded_client: httpx.AsyncClient, settings: Settings
):
    policy = {
        "name": "EU only",
        "enforcement": "BLOCKING",
        "rules": [{"kind": "allowed_regions", "params": {"regions": ["EU"]}}],
    }
    body = await call(seeded_client, settings, ADMIN, CREATE_POLICY, {"input": policy})
    result = body["data"]["createPolicy"]
    assert result["policy"]["enforcement"] == "BLOCKING"
    suspended = result["suspendedServices"]
    assert suspended and all(s["status"] == "SUSPENDED" for s in suspended)
    assert result["checkedServices"] > len(suspended)  # the EU services stay ACTIVE
    victim = suspended[0]["id"]

    body = await call(seeded_client, settings, None, SERVICE, {"id": victim})
    service = body["data"]["service"]
    assert service["status"] == "SUSPENDED"
    assert service["compliance"]["compliant"] is False
    assert {"policy": "EU only", "rule": "allowed_regions", "severity": "BLOCKING"} in [
        {k: v[k] for k in ("policy", "rule", "severity")}
        for v in service["compliance"]["violations"]
    ]
    report = await call(
        seeded_client,
        settings,
        None,
        "query($id: ID!) { complianceReport(serviceId: $id) { compliant score } }",
        {"id": victim},
    )
    assert report["data"]["complianceReport"]["compliant"] is False
    suspensions = await events(seeded_client, settings, ["SERVICE_SUSPENDED"])
    assert victim in {e["serviceId"] for e in suspensions}
    assert all(e["payload"]["trigger"]["policy"] == "EU only" for e in suspensions)
    assert await events(seeded_client, settings, ["POLICY_CREATED"])
    await audit_count(seeded_client, settings)

    body = await call(seeded_client, settings, ADMIN, REINSTATE, {"id": victim, "reason": "x"})
    assert error_code(body) == "INVALID_TRANSITION"
    assert body["errors"][0]["extensions"]["policy"] == "EU only"

    policy_id = result["policy"]["id"]
    body = await call(seeded_client, settings, ADMIN, DEACTIVATE_POLICY, {"id": policy_id})
    assert body["data"]["deactivatePolicy"]["policy"] == {"active": False, "version": 2}
    body = await call(seeded_client, settings, ADMIN, REINSTATE, {"id": victim, "reason": "ok"})
    assert body["data"]["reinstateService"]["service"]["status"] == "ACTIVE"
    assert await events(seeded_client, settings, ["SERVICE_REINSTATED"])
    assert await events(seeded_client, settings, ["POLICY_UPDATED"])


async def test_tightening_a_policy_suspends_and_advisory_does_not(
    seeded_client: httpx.AsyncClient, settings: Settings
):
    policy = {
        "name": "Cheap tokens",
        "enforcement": "ADVISORY",
        "rules": [{"kind": "max_price_per_1k", "params": {"max": "0.0001"}}],
    }
    body = await call(seeded_client, settings, ADMIN, CREATE_POLICY, {"input": policy})
    assert body["data"]["createPolicy"]["suspendedServices"] == []
    policy_id = body["data"]["createPolicy"]["policy"]["id"]
    body = await call(
        seeded_client,
        settings,
        ADMIN,
        UPDATE_POLICY,
        {"input": {"policyId": policy_id, "enforcement": "BLOCKING"}},
    )
    updated = body["data"]["updatePolicy"]
    assert updated["policy"] == {"version": 2, "enforcement": "BLOCKING"}
    assert updated["suspendedServices"]


async def test_policy_writes_are_for_admins_and_rules_are_validated(
    seeded_client: httpx.AsyncClient, settings: Settings
):
    good = {
        "name": "P",
        "enforcement": "ADVISORY",
        "rules": [{"kind": "banned_categories", "params": {"categories": ["vision"]}}],
    }
    for caller in (NIMBUS, APPROVER, CONSUMER):
        body = await call(seeded_client, settings, caller, CREATE_POLICY, {"input": good})
        assert error_code(body) == "FORBIDDEN"
    assert error_code(
        await call(seeded_client, settings, None, CREATE_POLICY, {"input": good})
    ) == ("UNAUTHENTICATED")
    for rules, field in (
        ([{"kind": "astrology", "params": {}}], "rules[0].kind"),
        ([{"kind": "max_price_per_1k", "params": {"max": "cheap"}}], "rules[0].params.max"),
        (
            [{"kind": "required_fields", "params": {"fields": ["password"]}}],
            "rules[0].params.fields",
        ),
        ([], "rules"),
    ):
        body = await call(
            seeded_client, settings, ADMIN, CREATE_POLICY, {"input": {**good, "rules": rules}}
        )
        assert error_code(body) == "BAD_USER_INPUT"
        assert body["errors"][0]["extensions"]["field"] == field
    body = await call(
        seeded_client,
        settings,
        ADMIN,
        CREATE_POLICY,
        {"input": {**good, "name": "Published legal terms"}},
    )
    assert body["errors"][0]["extensions"]["field"] == "name"
    body = await call(seeded_client, settings, ADMIN, DEACTIVATE_POLICY, {"id": "nope"})
    assert error_code(body) == "NOT_FOUND"


async def test_admin_suspension_and_refusals(seeded_client: httpx.AsyncClient, settings: Settings):
    body = await call(seeded_client, settings, None, '{ service(slug: "nimbus-chat-pro") { id } }')
    service_id = body["data"]["service"]["id"]
    body = await call(seeded_client, settings, NIMBUS, SUSPEND, {"id": service_id, "reason": "x"})
    assert error_code(body) == "FORBIDDEN"
    body = await call(seeded_client, settings, ADMIN, SUSPEND, {"id": service_id, "reason": " "})
    assert error_code(body) == "BAD_USER_INPUT"
    body = await call(seeded_client, settings, ADMIN, SUSPEND, {"id": "nope", "reason": "x"})
    assert error_code(body) == "NOT_FOUND"
    body = await call(seeded_client, settings, ADMIN, REINSTATE, {"id": service_id, "reason": "x"})
    assert error_code(body) == "INVALID_TRANSITION"
    body = await call(
        seeded_client, settings, ADMIN, SUSPEND, {"id": service_id, "reason": "Abuse report"}
    )
    assert body["data"]["suspendService"]["service"]["status"] == "SUSPENDED"
    body = await call(seeded_client, settings, ADMIN, SUSPEND, {"id": service_id, "reason": "x"})
    assert error_code(body) == "INVALID_TRANSITION"
    (event,) = await events(seeded_client, settings, ["SERVICE_SUSPENDED"])
    assert event["payload"]["reason"] == "Abuse report"


async def test_periodic_recheck_suspends_after_a_policy_appears_directly(
    seeded_client: httpx.AsyncClient, settings: Settings, runtime_of_client: Runtime
):
    async with runtime_of_client.session_factory() as session, session.begin():
        session.add(
            Policy(
                id=new_id(),
                name="No vision",
                enforcement="BLOCKING",
                rules=[{"kind": "banned_categories", "params": {"categories": ["vision"]}}],
                created_by="admin:root",
            )
        )
    result = await recheck_once(runtime_of_client.session_factory, settings)
    async with runtime_of_client.session_factory() as session:
        vision = (await session.scalars(select(Service).where(Service.category == "vision"))).all()
    assert vision and set(result.suspended_services) == {
        s.id for s in vision if s.status == "SUSPENDED"
    }
    assert all(s.status != "ACTIVE" for s in vision)
    again = await recheck_once(runtime_of_client.session_factory, settings)
    assert again.suspended_services == []


async def test_audit_log_access_and_filters(seeded_client: httpx.AsyncClient, settings: Settings):
    nimbus = await provider_id(seeded_client, "nimbus")
    body = await call(seeded_client, settings, NIMBUS, PUBLISH, {"input": service_input(nimbus)})
    service_id = body["data"]["publishService"]["service"]["id"]
    await call(seeded_client, settings, ADMIN, CREATE_POLICY, {"input": NEEDS_APPROVAL})
    query = """
    query($f: AuditLogFilter, $after: String) {
      auditLog(filter: $f, first: 1, after: $after) {
        edges { cursor node { actor action targetType targetId requestId hash prevHash } }
        pageInfo { hasNextPage endCursor }
      }
    }
    """
    body = await call(seeded_client, settings, ADMIN, query)
    page = body["data"]["auditLog"]
    assert page["edges"][0]["node"]["action"] == "policy.create"
    assert page["pageInfo"]["hasNextPage"] is True
    body = await call(
        seeded_client, settings, ADMIN, query, {"after": page["pageInfo"]["endCursor"]}
    )
    second = body["data"]["auditLog"]["edges"][0]["node"]
    assert second["action"] == "service.publish" and second["targetId"] == service_id
    assert page["edges"][0]["node"]["prevHash"] == second["hash"]
    assert second["requestId"]

    body = await call(seeded_client, settings, NIMBUS, query, {"f": {"action": "policy.create"}})
    assert body["data"]["auditLog"]["edges"] == []  # not about nimbus's services
    body = await call(seeded_client, settings, NIMBUS, query, {"f": {"targetId": service_id}})
    assert body["data"]["auditLog"]["edges"][0]["node"]["targetId"] == service_id
    body = await call(seeded_client, settings, LEXICA, query, {"f": {"targetId": service_id}})
    assert body["data"]["auditLog"]["edges"] == []
    body = await call(
        seeded_client,
        settings,
        ADMIN,
        query,
        {"f": {"actor": "provider:nimbus", "from": "2000-01-01T00:00:00Z"}},
    )
    assert body["data"]["auditLog"]["edges"][0]["node"]["actor"] == "provider:nimbus"
    assert error_code(await call(seeded_client, settings, CONSUMER, query)) == "FORBIDDEN"
    assert error_code(await call(seeded_client, settings, NIMBUS, VERIFY)) == "FORBIDDEN"

    trail = "query($id: ID) { service(id: $id) { auditTrail { action } } }"
    body = await call(seeded_client, settings, LEXICA, trail, {"id": service_id})
    assert error_code(body) == "FORBIDDEN"
    body = await call(seeded_client, settings, APPROVER, trail, {"id": service_id})
    assert body["data"]["service"]["auditTrail"] == [{"action": "service.publish"}]


async def test_events_page_by_cursor_and_providers_see_their_own(
    seeded_client: httpx.AsyncClient, settings: Settings
):
    nimbus = await provider_id(seeded_client, "nimbus")
    lexica = await provider_id(seeded_client, "lexica")
    await call(seeded_client, settings, NIMBUS, PUBLISH, {"input": service_input(nimbus)})
    await call(
        seeded_client,
        settings,
        LEXICA,
        PUBLISH,
        {"input": service_input(lexica, slug="lexica-trial")},
    )
    everything = await events(seeded_client, settings)
    ids = [int(e["id"]) for e in everything]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    body = await call(
        seeded_client,
        settings,
        ADMIN,
        "query($s: ID) { governanceEvents(since: $s) { id } }",
        {"s": str(ids[0])},
    )
    assert [int(e["id"]) for e in body["data"]["governanceEvents"]] == ids[1:]
    body = await call(seeded_client, settings, NIMBUS, "{ governanceEvents { actor } }")
    assert {e["actor"] for e in body["data"]["governanceEvents"]} == {"provider:nimbus"}
    assert (
        error_code(await call(seeded_client, settings, CONSUMER, "{ governanceEvents { id } }"))
        == "FORBIDDEN"
    )
    body = await call(seeded_client, settings, ADMIN, '{ governanceEvents(since: "x") { id } }')
    assert error_code(body) == "BAD_USER_INPUT"


async def test_verify_reports_a_tampered_entry(
    seeded_client: httpx.AsyncClient, settings: Settings, runtime_of_client: Runtime, backend: str
):
    nimbus = await provider_id(seeded_client, "nimbus")
    await call(seeded_client, settings, NIMBUS, PUBLISH, {"input": service_input(nimbus)})
    await call(seeded_client, settings, ADMIN, CREATE_POLICY, {"input": NEEDS_APPROVAL})
    async with runtime_of_client.session_factory() as session:
        first_id = (await session.execute(text("SELECT min(id) FROM audit_log"))).scalar_one()
    await tamper_with_audit_row(runtime_of_client.session_factory, backend, first_id)
    body = await call(seeded_client, settings, ADMIN, VERIFY)
    assert body["data"]["verifyAuditChain"] == {
        "valid": False,
        "checkedEntries": 1,
        "firstBrokenId": str(first_id),
    }
