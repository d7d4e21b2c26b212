"""GraphQL documents and helpers shared by the publishing and governance tests."""

from __future__ import annotations

import importlib
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from graph.settings import Settings
from tests.conftest import bearer, gql

ADMIN = ("admin:root", "admin")
APPROVER = ("approver:ada", "approver")
NIMBUS = ("provider:nimbus", "provider")
LEXICA = ("provider:lexica", "provider")
CONSUMER = ("consumer:acme", "consumer")

PUBLISH = """
mutation($input: PublishServiceInput!) {
  publishService(input: $input) {
    requiresApproval approvalRequestId
    service { id slug status version category pricing { currency inputPricePer1k } }
  }
}
"""

EVENTS = """
query($since: ID, $types: [GovernanceEventType!]) {
  governanceEvents(since: $since, types: $types, first: 100) { id type serviceId actor payload }
}
"""

VERIFY = "{ verifyAuditChain { valid checkedEntries firstBrokenId } }"


def who(settings: Settings, caller: tuple[str, ...]) -> dict[str, str]:
    subject, *roles = caller
    return bearer(settings, subject, *roles)


async def call(
    client: httpx.AsyncClient,
    settings: Settings,
    caller: tuple[str, ...] | None,
    query: str,
    variables: dict[str, Any] | None = None,
) -> dict[str, Any]:
    headers = who(settings, caller) if caller else None
    return await gql(client, query, variables, headers=headers)


def error_code(body: dict[str, Any]) -> str:
    assert body.get("errors"), body
    return str(body["errors"][0]["extensions"]["code"])


async def provider_id(client: httpx.AsyncClient, slug: str) -> str:
    body = await gql(client, "query($s: String) { provider(slug: $s) { id } }", {"s": slug})
    return str(body["data"]["provider"]["id"])


def service_input(
    provider: str, slug: str = "nimbus-trial-chat", **overrides: Any
) -> dict[str, Any]:
    values: dict[str, Any] = {
        "providerId": provider,
        "slug": slug,
        "name": "Nimbus Coder",
        "description": "Code completion model tuned for Python and TypeScript.",
        "category": "chat",
        "version": "1.0.0",
        "changelog": "First release.",
        "endpointUrl": "https://api.nimbus.example/v1/coder",
        "tags": ["code", "python"],
        "dataRegion": "us",
        "privacyPolicyUrl": "https://nimbus.example/legal/privacy",
        "termsUrl": "https://nimbus.example/legal/terms",
        "piiHandling": "none",
        "pricing": {
            "model": "PER_TOKEN",
            "currency": "USD",
            "inputPricePer1k": "0.002",
            "outputPricePer1k": "0.004",
        },
    }
    values.update(overrides)
    return values


async def events(
    client: httpx.AsyncClient, settings: Settings, types: list[str] | None = None
) -> list[dict[str, Any]]:
    body = await call(client, settings, ADMIN, EVENTS, {"types": types})
    assert "errors" not in body, body
    return list(body["data"]["governanceEvents"])


async def audit_count(client: httpx.AsyncClient, settings: Settings) -> int:
    body = await call(client, settings, ADMIN, VERIFY)
    assert body["data"]["verifyAuditChain"]["valid"] is True, body
    return int(body["data"]["verifyAuditChain"]["checkedEntries"])


_DROP_GUARD = {
    "postgres": "DROP TRIGGER audit_log_append_only ON audit_log",
    "sqlite": "DROP TRIGGER audit_log_refuse_update",
}


async def tamper_with_audit_row(
    session_factory: async_sessionmaker[AsyncSession], backend: str, entry_id: int
) -> None:
    """Drop the append-only guard, alter one row, and put the guard back, in one transaction
    (DDL is transactional on both backends), so later tests still find the trigger."""
    migration = importlib.import_module("persistence.migrations.versions.0001_initial_schema")
    guards = (
        migration.AUDIT_LOG_GUARDS_POSTGRES[1:]
        if backend == "postgres"
        else migration.AUDIT_LOG_GUARDS_SQLITE[:1]
    )
    async with session_factory() as session, session.begin():
        await session.execute(text(_DROP_GUARD[backend]))
        await session.execute(
            text("UPDATE audit_log SET actor = 'someone-else' WHERE id = :id"), {"id": entry_id}
        )
        for statement in guards:
            await session.execute(text(statement))
