"""Governance reads: latest compliance report per service, policies."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select

from persistence.models import ComplianceCheck, Policy
from resolvers.db import RequestDB


async def latest_compliance_by_service(
    db: RequestDB, service_ids: Sequence[str]
) -> list[ComplianceCheck | None]:
    newest = (
        select(
            ComplianceCheck.id,
            func.row_number()
            .over(
                partition_by=ComplianceCheck.service_id,
                order_by=(ComplianceCheck.checked_at.desc(), ComplianceCheck.id.desc()),
            )
            .label("rn"),
        )
        .where(ComplianceCheck.service_id.in_(set(service_ids)))
        .subquery()
    )
    rows = await db.scalars(
        select(ComplianceCheck)
        .join(newest, newest.c.id == ComplianceCheck.id)
        .where(newest.c.rn == 1)
    )
    by_service = {row.service_id: row for row in rows}
    return [by_service.get(i) for i in service_ids]


async def list_policies(db: RequestDB, *, active_only: bool) -> list[Policy]:
    stmt = select(Policy).order_by(Policy.name)
    if active_only:
        stmt = stmt.where(Policy.active.is_(True))
    return list(await db.scalars(stmt))
