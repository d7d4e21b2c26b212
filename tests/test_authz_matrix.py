"""Role x operation: who may run what. One row per operation, one outcome per caller.

Every row runs against a small real world built through the API (a provider owned by
``provider:owner``, an ACTIVE service, one waiting for approval, one rejected back to DRAFT,
a consumer's API key and subscription), so object-level rules are exercised on real objects.

Outcomes:
- ``ALLOWED``: no authorization error. The operation may still refuse for another reason
  (a second caller retiring a retired service gets INVALID_TRANSITION): that is not authz.
- ``UNAUTHENTICATED`` / ``FORBIDDEN``: the operation (or the object holding the field) is
  refused with that code.
- ``NULL_UNAUTH`` / ``NULL_FORBID``: a field of an object is ``null`` with that error while
  the object itself is returned (object-level field rules such as ``endpointUrl``).
- ``NOT_FOUND``: the object belongs to someone else and is not revealed to the caller.

Callers run in the order of ``CALLERS``; those refused by role or ownership come before the
ones who may change the object, so an earlier success never hides a later refusal.
Add a row when you add an operation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from graph.settings import Settings
from tests.conftest import bearer, gql
from tests.publishing_helpers import service_input

ALLOWED = "ALLOWED"
UNAUTH = "UNAUTHENTICATED"
FORBID = "FORBIDDEN"
NULL_UNAUTH = "null+UNAUTHENTICATED"
NULL_FORBID = "null+FORBIDDEN"
NOT_FOUND = "NOT_FOUND"
AUTH_CODES = {UNAUTH, FORBID}

OWNER_SUBJECT = "provider:owner"
CALLERS: dict[str, tuple[str, ...] | None] = {
    "anonymous": None,
    "consumer": ("consumer:acme", "consumer"),
    "viewer": ("viewer:vic", "viewer"),
    "other_provider": ("provider:other", "provider"),
    "approver": ("approver:ada", "approver"),
    "owner": (OWNER_SUBJECT, "provider"),
    "admin": ("admin:root", "admin"),
}
ADMIN = CALLERS["admin"]
CONSUMER = CALLERS["consumer"]
OWNER = CALLERS["owner"]
APPROVER = CALLERS["approver"]

NEEDS_APPROVAL = {
    "name": "Code models need review",
    "enforcement": "BLOCKING",
    "rules": [{"kind": "approval_required_categories", "params": {"categories": ["code"]}}],
}


@dataclass(frozen=True)
class World:
    provider_id: str
    active_id: str  # ACTIVE, owned by provider:owner
    request_id: str  # PENDING approval request of another owned service
    rejected_id: str  # owned service rejected back to DRAFT
    policy_id: str
    key_id: str  # consumer:acme's API key
    subscription_id: str  # consumer:acme's subscription to the active service
    consumer_id: str


async def _as(
    client: httpx.AsyncClient,
    settings: Settings,
    caller: tuple[str, ...] | None,
    query: str,
    variables: dict[str, Any] | None = None,
) -> dict[str, Any]:
    headers = None if caller is None else bearer(settings, caller[0], *caller[1:])
    return await gql(client, query, variables, headers=headers)


async def _ok(client: httpx.AsyncClient, settings: Settings, caller: Any, query: str, **v: Any):
    body = await _as(client, settings, caller, query, v)
    assert "errors" not in body, body
    return body["data"]


PUBLISH = (
    "mutation($input: PublishServiceInput!) { publishService(input: $input) "
    "{ service { id } approvalRequestId } }"
)


async def build_world(client: httpx.AsyncClient, settings: Settings) -> World:
    policy = await _ok(
        client,
        settings,
        ADMIN,
        "mutation($input: CreatePolicyInput!) { createPolicy(input: $input) { policy { id } } }",
        input=NEEDS_APPROVAL,
    )
    provider = await _ok(
        client,
        settings,
        ADMIN,
        "mutation($input: CreateProviderInput!) { createProvider(input: $input) "
        "{ provider { id } } }",
        input={"slug": "owned", "name": "Owned AI", "ownerSubject": OWNER_SUBJECT},
    )
    pid = provider["createProvider"]["provider"]["id"]
    active = await _ok(client, settings, OWNER, PUBLISH, input=service_input(pid, "owned-chat"))
    pending = await _ok(
        client, settings, OWNER, PUBLISH, input=service_input(pid, "owned-code", category="code")
    )
    rejected = await _ok(
        client, settings, OWNER, PUBLISH, input=service_input(pid, "owned-draft", category="code")
    )
    await _ok(
        client,
        settings,
        APPROVER,
        'mutation($id: ID!) { rejectService(input: {requestId: $id, comment: "no"}) '
        "{ __typename } }",
        id=rejected["publishService"]["approvalRequestId"],
    )
    active_id = active["publishService"]["service"]["id"]
    key = await _ok(
        client,
        settings,
        CONSUMER,
        'mutation { createApiKey(input: {name: "k"}) { apiKey { id } } }',
    )
    subscription = await _ok(
        client,
        settings,
        CONSUMER,
        "mutation($id: ID!) { subscribe(input: {serviceId: $id, plan: FREE}) "
        "{ subscription { id } } }",
        id=active_id,
    )
    me = await _ok(client, settings, CONSUMER, "{ me { id } }")
    return World(
        provider_id=pid,
        active_id=active_id,
        request_id=pending["publishService"]["approvalRequestId"],
        rejected_id=rejected["publishService"]["service"]["id"],
        policy_id=policy["createPolicy"]["policy"]["id"],
        key_id=key["createApiKey"]["apiKey"]["id"],
        subscription_id=subscription["subscribe"]["subscription"]["id"],
        consumer_id=me["me"]["id"],
    )


# --- operations: (document, variables from the world) ---------------------------------------

SERVICE_FIELD = "query($id: ID) {{ service(id: $id) {{ id {field} }} }}"
MISSING = "00000000-0000-0000-0000-000000000000"


def _service(w: World) -> dict[str, Any]:
    return {"id": w.active_id}


OPERATIONS: dict[str, tuple[str, Any]] = {
    "publishService": (PUBLISH, lambda w: {"input": service_input(w.provider_id, "new-one")}),
    "publishServiceVersion": (
        "mutation($id: ID!) { publishServiceVersion(input: {serviceId: $id, version: "
        '"1.1.0"}) { __typename } }',
        _service,
    ),
    "updateService": (
        'mutation($id: ID!) { updateService(input: {serviceId: $id, name: "Renamed"}) '
        "{ __typename } }",
        _service,
    ),
    "deprecateService": (
        "mutation($id: ID!) { deprecateService(input: {serviceId: $id}) { __typename } }",
        _service,
    ),
    "retireService": (
        "mutation($id: ID!) { retireService(input: {serviceId: $id}) { __typename } }",
        _service,
    ),
    "setUpstreamCredential": (
        "mutation($id: ID!) { setUpstreamCredential(input: {serviceId: $id, "
        'header: "X-Upstream-Key: sk-matrix-secret"}) { __typename } }',
        _service,
    ),
    "createProvider": (
        'mutation { createProvider(input: {slug: "p-new", name: "New"}) { __typename } }',
        lambda w: {},
    ),
    "createPolicy": (
        "mutation($input: CreatePolicyInput!) { createPolicy(input: $input) { __typename } }",
        lambda w: {"input": {**NEEDS_APPROVAL, "name": "Another", "enforcement": "ADVISORY"}},
    ),
    "updatePolicy": (
        'mutation($id: ID!) { updatePolicy(input: {policyId: $id, description: "d"}) '
        "{ __typename } }",
        lambda w: {"id": w.policy_id},
    ),
    "deactivatePolicy": (
        "mutation($id: ID!) { deactivatePolicy(input: {policyId: $id}) { __typename } }",
        lambda w: {"id": w.policy_id},
    ),
    "approveService": (
        "mutation($id: ID!) { approveService(input: {requestId: $id}) { __typename } }",
        lambda w: {"id": w.request_id},
    ),
    "rejectService": (
        'mutation($id: ID!) { rejectService(input: {requestId: $id, comment: "c"}) '
        "{ __typename } }",
        lambda w: {"id": w.request_id},
    ),
    "resubmitService": (
        'mutation($id: ID!) { resubmitService(input: {serviceId: $id, comment: "fixed"}) '
        "{ __typename } }",
        lambda w: {"id": w.rejected_id},
    ),
    "suspendService": (
        'mutation($id: ID!) { suspendService(input: {serviceId: $id, reason: "r"}) '
        "{ __typename } }",
        _service,
    ),
    "reinstateService": (
        'mutation($id: ID!) { reinstateService(input: {serviceId: $id, reason: "r"}) '
        "{ __typename } }",
        _service,
    ),
    "subscribe": (
        "mutation($id: ID!) { subscribe(input: {serviceId: $id, plan: BASIC}) { __typename } }",
        _service,
    ),
    "cancelSubscription": (
        "mutation($id: ID!) { cancelSubscription(input: {subscriptionId: $id}) { __typename } }",
        lambda w: {"id": w.subscription_id},
    ),
    "createApiKey": (
        'mutation { createApiKey(input: {name: "mine"}) { __typename } }',
        lambda w: {},
    ),
    "revokeApiKey": (
        "mutation($id: ID!) { revokeApiKey(input: {id: $id}) { __typename } }",
        lambda w: {"id": w.key_id},
    ),
    "rotateApiKey": (
        "mutation($id: ID!) { rotateApiKey(input: {id: $id}) { __typename } }",
        lambda w: {"id": w.key_id},
    ),
    "usage": ("{ usage { totals { requests } } }", lambda w: {}),
    "usage of a service": (
        "query($id: ID) { usage(filter: {serviceId: $id}) { totals { requests } } }",
        _service,
    ),
    "usage of a consumer": (
        "query($id: ID) { usage(filter: {consumerId: $id}) { totals { requests } } }",
        lambda w: {"id": w.consumer_id},
    ),
    "auditLog": ("{ auditLog(first: 1) { edges { node { id } } } }", lambda w: {}),
    "verifyAuditChain": ("{ verifyAuditChain { valid } }", lambda w: {}),
    "approvalRequests": ("{ approvalRequests { edges { node { id } } } }", lambda w: {}),
    "governanceEvents": ("{ governanceEvents(first: 1) { id } }", lambda w: {}),
    "Service.usageStats": (SERVICE_FIELD.format(field="usageStats { requests }"), _service),
    "Service.auditTrail": (SERVICE_FIELD.format(field="auditTrail { action }"), _service),
    "Service.endpointUrl": (SERVICE_FIELD.format(field="endpointUrl"), _service),
    "Service.upstreamAuthConfigured": (
        SERVICE_FIELD.format(field="upstreamAuthConfigured"),
        _service,
    ),
    "me": ("{ me { id } }", lambda w: {}),
    "policies": ("{ policies { name } }", lambda w: {}),
}

# Columns: anonymous, consumer, viewer, other_provider, approver, owner, admin.
A, U, F, NU, NF, NX = ALLOWED, UNAUTH, FORBID, NULL_UNAUTH, NULL_FORBID, NOT_FOUND
MATRIX: dict[str, tuple[str, str, str, str, str, str, str]] = {
    # catalog writes: providers, on their own provider's services only
    "publishService": (U, F, F, F, F, A, A),
    "publishServiceVersion": (U, F, F, F, F, A, A),
    "updateService": (U, F, F, F, F, A, A),
    "deprecateService": (U, F, F, F, F, A, A),
    "retireService": (U, F, F, F, F, A, A),
    "setUpstreamCredential": (U, F, F, F, F, A, A),
    "createProvider": (U, F, F, A, F, A, A),
    # governance: policies and suspension for admins, decisions for approvers
    "createPolicy": (U, F, F, F, F, F, A),
    "updatePolicy": (U, F, F, F, F, F, A),
    "deactivatePolicy": (U, F, F, F, F, F, A),
    "approveService": (U, F, F, F, A, F, A),
    "rejectService": (U, F, F, F, A, F, A),
    "resubmitService": (U, F, F, F, F, A, A),
    "suspendService": (U, F, F, F, F, F, A),
    "reinstateService": (U, F, F, F, F, F, A),
    # usage: every signed-in caller is a consumer of its own; others' objects are not shown
    # (admins may revoke any consumer's key)
    "subscribe": (U, A, A, A, A, A, A),
    "cancelSubscription": (U, A, NX, NX, NX, NX, NX),
    "createApiKey": (U, A, A, A, A, A, A),
    "revokeApiKey": (U, A, NX, NX, NX, NX, A),
    "rotateApiKey": (U, A, NX, NX, NX, NX, NX),
    "usage": (U, A, A, A, A, A, A),
    "usage of a service": (U, A, A, A, A, A, A),
    "usage of a consumer": (U, A, F, F, F, F, A),
    # governance reads: providers are narrowed to their own services
    "auditLog": (U, F, F, A, A, A, A),
    "verifyAuditChain": (U, F, F, F, A, F, A),
    "approvalRequests": (U, F, F, A, A, A, A),
    "governanceEvents": (U, F, A, A, A, A, A),
    # fields of a service: object-level rules
    "Service.usageStats": (NU, NF, NF, NF, NF, A, A),
    "Service.auditTrail": (NU, NF, NF, NF, A, A, A),
    "Service.endpointUrl": (NU, NF, NF, NF, NF, A, A),
    "Service.upstreamAuthConfigured": (NU, NF, NF, NF, NF, A, A),
    "me": (U, A, A, A, A, A, A),
    "policies": (A, A, A, A, A, A, A),
}


def outcome(body: dict[str, Any]) -> str:
    errors = body.get("errors", [])
    codes = [e.get("extensions", {}).get("code") for e in errors]
    auth = [(c, e) for c, e in zip(codes, errors, strict=True) if c in AUTH_CODES]
    if auth:
        code, error = auth[0]
        path = error.get("path") or []
        parent: Any = body.get("data")
        for step in path[:-1]:
            parent = parent[step] if parent is not None else None
        # Deeper than a root field and the holder survived: the field alone went null.
        return f"null+{code}" if len(path) > 1 and parent is not None else str(code)
    return NOT_FOUND if NOT_FOUND in codes else ALLOWED


def test_every_operation_has_a_row():
    assert set(MATRIX) == set(OPERATIONS)


@pytest.mark.parametrize("operation", sorted(MATRIX))
async def test_role_operation_matrix(client: httpx.AsyncClient, settings: Settings, operation: str):
    world = await build_world(client, settings)
    query, variables = OPERATIONS[operation]
    found: dict[str, str] = {}
    bodies: dict[str, Any] = {}
    for name, caller in CALLERS.items():
        body = await _as(client, settings, caller, query, variables(world))
        found[name] = outcome(body)
        bodies[name] = body
    expected = dict(zip(CALLERS, MATRIX[operation], strict=True))
    assert found == expected, {n: bodies[n] for n in found if found[n] != expected[n]}
