"""Governance reads: compliance reports, policies, approval requests, the audit log and the
event history."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, bindparam, func, or_, select, tuple_

from graph.errors import bad_input
from persistence.models import (
    ApprovalRequest,
    ApprovalStatus,
    AuditEntry,
    ComplianceCheck,
    GovernanceEvent,
    Policy,
    Provider,
    Service,
)
from persistence.models.records import ComplianceRecord
from resolvers.catalog import Page
from resolvers.db import RequestDB
from resolvers.pagination import PageArgs

# Built once, the ids an expanding bind parameter bound at execution: constructing the
# windowed subquery and its cache key cost ≈ 0.3 ms per call, and every `compliance` field
# batch made one (docs/performance.md, "Third pass"). On the table's columns, so the loader's
# variant reads Core rows (persistence/models/records.py).
_checks = ComplianceCheck.__table__.c
_NEWEST_CHECKS = (
    select(
        _checks.id,
        func.row_number()
        .over(
            partition_by=_checks.service_id, order_by=(_checks.checked_at.desc(), _checks.id.desc())
        )
        .label("rn"),
    )
    .where(_checks.service_id.in_(bindparam("service_ids", expanding=True)))
    .subquery()
)
_LATEST_CHECKS = (
    select(ComplianceCheck)
    .join(_NEWEST_CHECKS, _NEWEST_CHECKS.c.id == ComplianceCheck.id)
    .where(_NEWEST_CHECKS.c.rn == 1)
)
_LATEST_CHECK_ROWS = (
    select(ComplianceCheck.__table__)
    .join(_NEWEST_CHECKS, _NEWEST_CHECKS.c.id == _checks.id)
    .where(_NEWEST_CHECKS.c.rn == 1)
)


def latest_checks_statement(service_ids: Sequence[str]) -> Select[ComplianceCheck]:
    """The newest compliance check of each given service (one row per service that has one)."""
    return _LATEST_CHECKS.params(service_ids=sorted(set(service_ids)))


async def latest_compliance_by_service(
    db: RequestDB, service_ids: Sequence[str]
) -> list[ComplianceRecord | None]:
    rows = await db.rows(_LATEST_CHECK_ROWS, {"service_ids": sorted(set(service_ids))})
    by_service = {row.service_id: row for row in rows}
    return [by_service.get(i) for i in service_ids]


async def list_policies(db: RequestDB, *, active_only: bool) -> list[Policy]:
    stmt = select(Policy).order_by(Policy.name)
    if active_only:
        stmt = stmt.where(Policy.active.is_(True))
    return list(await db.scalars(stmt))


# --- approval requests, audit log, event history --------------------------------------------


def _id_after(after: tuple[Any, ...] | None) -> int | None:
    if after is None:
        return None
    if len(after) != 1 or not isinstance(after[0], int):
        raise bad_input("Invalid cursor.", field="after")
    return int(after[0])


def _owned_service_ids(owner_subject: str) -> Select[Any]:
    return (
        select(Service.id)
        .join(Provider, Provider.id == Service.provider_id)
        .where(Provider.owner_subject == owner_subject)
    )


async def list_approval_requests(
    db: RequestDB,
    *,
    status: ApprovalStatus | None,
    page: PageArgs,
    now: datetime,
    owner_subject: str | None = None,
) -> Page[ApprovalRequest]:
    """Newest first. A PENDING request past its expiry counts as EXPIRED (the periodic
    re-check marks it so in the database). ``owner_subject`` keeps the requests about that
    provider account's services."""
    stmt = select(ApprovalRequest)
    if owner_subject is not None:
        stmt = stmt.where(ApprovalRequest.service_id.in_(_owned_service_ids(owner_subject)))
    if status is ApprovalStatus.PENDING:
        stmt = stmt.where(
            ApprovalRequest.status == ApprovalStatus.PENDING.value,
            ApprovalRequest.expires_at > now,
        )
    elif status is ApprovalStatus.EXPIRED:
        stmt = stmt.where(
            or_(
                ApprovalRequest.status == ApprovalStatus.EXPIRED.value,
                and_(
                    ApprovalRequest.status == ApprovalStatus.PENDING.value,
                    ApprovalRequest.expires_at <= now,
                ),
            )
        )
    elif status is not None:
        stmt = stmt.where(ApprovalRequest.status == status.value)
    if page.after is not None:
        if len(page.after) != 2 or not all(isinstance(p, str) for p in page.after):
            raise bad_input("Invalid cursor.", field="after")
        stmt = stmt.where(
            tuple_(ApprovalRequest.created_at, ApprovalRequest.id)
            < tuple_(datetime.fromisoformat(page.after[0]), page.after[1])
        )
    stmt = stmt.order_by(ApprovalRequest.created_at.desc(), ApprovalRequest.id.desc())
    rows = list(await db.scalars(stmt.limit(page.first + 1))) if page.first else []
    return Page(
        rows=rows[: page.first],
        has_next=len(rows) > page.first,
        has_previous=page.after is not None,
    )


def approval_cursor_key(row: ApprovalRequest) -> list[str]:
    return [row.created_at.isoformat(), row.id]


@dataclass(frozen=True)
class AuditFilter:
    actor: str | None = None
    action: str | None = None
    target_id: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    # Set for providers: only entries about services whose provider this subject owns.
    owner_subject: str | None = None


async def audit_log(db: RequestDB, flt: AuditFilter, page: PageArgs) -> Page[AuditEntry]:
    """Newest first, keyset-paged by id."""
    stmt = select(AuditEntry)
    if flt.actor is not None:
        stmt = stmt.where(AuditEntry.actor == flt.actor)
    if flt.action is not None:
        stmt = stmt.where(AuditEntry.action == flt.action)
    if flt.target_id is not None:
        stmt = stmt.where(AuditEntry.target_id == flt.target_id)
    if flt.start is not None:
        stmt = stmt.where(AuditEntry.occurred_at >= flt.start)
    if flt.end is not None:
        stmt = stmt.where(AuditEntry.occurred_at < flt.end)
    if flt.owner_subject is not None:
        stmt = stmt.where(
            AuditEntry.target_type == "Service",
            AuditEntry.target_id.in_(_owned_service_ids(flt.owner_subject)),
        )
    after = _id_after(page.after)
    if after is not None:
        stmt = stmt.where(AuditEntry.id < after)
    stmt = stmt.order_by(AuditEntry.id.desc()).limit(page.first + 1)
    rows = list(await db.scalars(stmt)) if page.first else []
    return Page(
        rows=rows[: page.first],
        has_next=len(rows) > page.first,
        has_previous=page.after is not None,
    )


AuditTrailKey = tuple[str, int]


async def audit_trails_by_service(
    db: RequestDB, keys: Sequence[AuditTrailKey]
) -> list[list[AuditEntry]]:
    """``Service.auditTrail(first)`` for many services in one statement: a window function
    numbers each service's entries newest first and keeps the first ``first``."""
    limit = max(first for _, first in keys)
    numbered = (
        select(
            AuditEntry.id,
            func.row_number()
            .over(partition_by=AuditEntry.target_id, order_by=AuditEntry.id.desc())
            .label("rn"),
        )
        .where(
            AuditEntry.target_type == "Service",
            AuditEntry.target_id.in_({service_id for service_id, _ in keys}),
        )
        .subquery()
    )
    rows = await db.scalars(
        select(AuditEntry)
        .join(numbered, numbered.c.id == AuditEntry.id)
        .where(numbered.c.rn <= limit)
        .order_by(AuditEntry.id.desc())
    )
    grouped: dict[str, list[AuditEntry]] = defaultdict(list)
    for row in rows:
        grouped[row.target_id].append(row)
    return [grouped.get(service_id, [])[:first] for service_id, first in keys]


async def event_history(
    db: RequestDB,
    *,
    since: int | None,
    types: Sequence[str],
    owner_subject: str | None,
    limit: int,
) -> list[GovernanceEvent]:
    """Stored events after the cursor ``since``, oldest first."""
    stmt = select(GovernanceEvent).order_by(GovernanceEvent.id).limit(limit)
    if since is not None:
        stmt = stmt.where(GovernanceEvent.id > since)
    if types:
        stmt = stmt.where(GovernanceEvent.type.in_(list(types)))
    if owner_subject is not None:
        stmt = stmt.where(GovernanceEvent.service_id.in_(_owned_service_ids(owner_subject)))
    return list(await db.scalars(stmt))
