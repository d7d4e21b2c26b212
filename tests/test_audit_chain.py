"""The hash-chained audit log and its append-only guard, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from graph.runtime import Runtime
from persistence.models import AuditEntry, GovernanceEvent
from resolvers.audit import GENESIS_HASH, append_audit, verify_chain
from resolvers.events import GovernanceEventType, emit_event
from tests.publishing_helpers import tamper_with_audit_row


async def _append(runtime: Runtime, n: int, actor: str = "admin:1") -> None:
    async with runtime.session_factory() as session, session.begin():
        await append_audit(
            session,
            actor=actor,
            action="service.update",
            target_type="Service",
            target_id=f"svc-{n}",
            diff={"before": {"price": Decimal("0.10")}, "after": {"price": Decimal("0.2")}},
            request_id=f"req-{n}",
        )


async def test_entries_link_to_their_predecessor_and_verify(runtime: Runtime):
    for n in range(3):
        await _append(runtime, n)
    async with runtime.session_factory() as session:
        rows = (await session.scalars(select(AuditEntry).order_by(AuditEntry.id))).all()
        assert rows[0].prev_hash == GENESIS_HASH
        assert [r.prev_hash for r in rows[1:]] == [r.hash for r in rows[:-1]]
        assert rows[0].diff == {"before": {"price": "0.10"}, "after": {"price": "0.2"}}
        result = await verify_chain(session)
    assert result.valid and result.checked_entries == 3 and result.first_broken_id is None


async def test_concurrent_appenders_keep_one_chain(runtime: Runtime):
    await asyncio.gather(*(_append(runtime, n) for n in range(8)))
    async with runtime.session_factory() as session:
        result = await verify_chain(session)
    assert result.valid and result.checked_entries == 8


async def test_an_empty_log_is_valid(runtime: Runtime):
    async with runtime.session_factory() as session:
        result = await verify_chain(session)
    assert result.valid and result.checked_entries == 0


@pytest.mark.parametrize("statement", ["UPDATE audit_log SET actor = 'x'", "DELETE FROM audit_log"])
async def test_database_refuses_changing_audit_rows(runtime: Runtime, statement: str):
    await _append(runtime, 1)
    async with runtime.session_factory() as session:
        with pytest.raises(DBAPIError, match="append-only"):
            async with session.begin():
                await session.execute(text(statement))
        assert await session.scalar(select(AuditEntry.actor)) == "admin:1"


async def test_tampering_without_the_trigger_is_reported(runtime: Runtime, backend: str):
    for n in range(4):
        await _append(runtime, n)
    async with runtime.session_factory() as session:
        third = (await session.scalars(select(AuditEntry.id).order_by(AuditEntry.id))).all()[2]
    await tamper_with_audit_row(runtime.session_factory, backend, third)
    async with runtime.session_factory() as session:
        result = await verify_chain(session)
    assert not result.valid
    assert result.first_broken_id == third
    assert result.checked_entries == 3
    # The guard is back: the altered row cannot be "repaired" either.
    async with runtime.session_factory() as session:
        with pytest.raises(DBAPIError, match="append-only"):
            async with session.begin():
                await session.execute(text("UPDATE audit_log SET actor = 'admin:1'"))


async def test_events_get_increasing_ids_in_the_callers_transaction(runtime: Runtime):
    async with runtime.session_factory() as session, session.begin():
        first = await emit_event(
            session,
            type=GovernanceEventType.POLICY_CREATED,
            actor="admin:1",
            service_id=None,
            payload={"max": Decimal("0.5")},
        )
        second = await emit_event(
            session,
            type=GovernanceEventType.SERVICE_SUSPENDED,
            actor="admin:1",
            service_id="svc-1",
            payload={"reason": "r"},
        )
    assert second.id > first.id
    with pytest.raises(RuntimeError):
        async with runtime.session_factory() as session, session.begin():
            await emit_event(
                session,
                type=GovernanceEventType.POLICY_UPDATED,
                actor="admin:1",
                service_id=None,
                payload={},
            )
            raise RuntimeError("roll back")
    async with runtime.session_factory() as session:
        rows = (await session.scalars(select(GovernanceEvent).order_by(GovernanceEvent.id))).all()
    assert [r.type for r in rows] == ["POLICY_CREATED", "SERVICE_SUSPENDED"]
    assert rows[0].payload == {"max": "0.5"}
