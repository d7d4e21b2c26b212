"""Role x operation: who may run what. One row per (operation, caller) with its outcome.

Outcomes: ``ALLOWED`` (no auth error; the operation may still answer e.g. NOT_FOUND for the
made-up ids used here), ``UNAUTHENTICATED``, ``FORBIDDEN``. Extend the table as operations
are added.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from graph.settings import Settings
from tests.conftest import bearer, gql

ALLOWED = "ALLOWED"
UNAUTH = "UNAUTHENTICATED"
FORBID = "FORBIDDEN"
AUTH_CODES = {UNAUTH, FORBID}

MISSING = "00000000-0000-0000-0000-000000000000"

OPERATIONS: dict[str, tuple[str, dict[str, Any]]] = {
    "me": ("{ me { id } }", {}),
    "policies": ("{ policies { name } }", {}),
    "auditLog": ("{ auditLog(first: 1) { edges { node { id } } } }", {}),
    "revokeApiKey": (
        "mutation($id: ID!) { revokeApiKey(input: {id: $id}) { __typename } }",
        {"id": MISSING},
    ),
    "suspendService": (
        'mutation($id: ID!) { suspendService(input: {serviceId: $id, reason: "r"}) '
        "{ __typename } }",
        {"id": MISSING},
    ),
    "deactivatePolicy": (
        "mutation($id: ID!) { deactivatePolicy(input: {policyId: $id}) { __typename } }",
        {"id": MISSING},
    ),
}

CALLERS: dict[str, tuple[str, ...] | None] = {
    "anonymous": None,
    "consumer": ("consumer",),
    "provider": ("provider",),
    "approver": ("approver",),
    "admin": ("admin",),
}

MATRIX: list[tuple[str, str, str]] = [
    ("me", "anonymous", UNAUTH),
    ("me", "consumer", ALLOWED),
    ("me", "admin", ALLOWED),
    ("policies", "anonymous", ALLOWED),
    ("policies", "consumer", ALLOWED),
    ("auditLog", "anonymous", UNAUTH),
    ("auditLog", "consumer", FORBID),
    ("auditLog", "admin", ALLOWED),
    ("revokeApiKey", "anonymous", UNAUTH),
    ("revokeApiKey", "consumer", ALLOWED),
    ("suspendService", "anonymous", UNAUTH),
    ("suspendService", "consumer", FORBID),
    ("suspendService", "provider", FORBID),
    ("suspendService", "admin", ALLOWED),
    ("deactivatePolicy", "anonymous", UNAUTH),
    ("deactivatePolicy", "consumer", FORBID),
    ("deactivatePolicy", "admin", ALLOWED),
]


def _outcome(body: dict[str, Any]) -> str:
    codes = {e.get("extensions", {}).get("code") for e in body.get("errors", [])}
    found = codes & AUTH_CODES
    return found.pop() if len(found) == 1 else ALLOWED if not found else ",".join(sorted(found))


@pytest.mark.parametrize(("operation", "caller", "expected"), MATRIX)
async def test_role_operation_matrix(
    client: httpx.AsyncClient, settings: Settings, operation: str, caller: str, expected: str
):
    query, variables = OPERATIONS[operation]
    roles = CALLERS[caller]
    headers = None if roles is None else bearer(settings, f"{caller}-subject", *roles)
    body = await gql(client, query, variables, headers=headers)
    assert _outcome(body) == expected, body
