"""Usage reads: per-service usage aggregates."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import case, func, select

from persistence.models import Consumer, UsageRecord
from resolvers.db import RequestDB


@dataclass(frozen=True)
class UsageTotals:
    requests: int = 0
    errors: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost: Decimal = Decimal(0)


UsageStatsKey = tuple[str, datetime]


async def usage_totals_by_service(
    db: RequestDB, keys: Sequence[UsageStatsKey]
) -> list[UsageTotals]:
    """Totals per service since a start time: one grouped statement per distinct start."""
    results: dict[UsageStatsKey, UsageTotals] = {}
    for since in {start for _, start in keys}:
        ids = {service_id for service_id, start in keys if start == since}
        rows = await db.execute(
            select(
                UsageRecord.service_id,
                func.count(),
                func.sum(case((UsageRecord.status_code >= 400, 1), else_=0)),
                func.sum(UsageRecord.input_tokens),
                func.sum(UsageRecord.output_tokens),
                func.sum(UsageRecord.cost),
            )
            .where(UsageRecord.service_id.in_(ids), UsageRecord.occurred_at >= since)
            .group_by(UsageRecord.service_id)
        )
        for service_id, requests, errors, tokens_in, tokens_out, cost in rows.all():
            results[(service_id, since)] = UsageTotals(
                requests=int(requests),
                errors=int(errors or 0),
                input_tokens=int(tokens_in or 0),
                output_tokens=int(tokens_out or 0),
                cost=Decimal(cost or 0),
            )
    return [results.get(key, UsageTotals()) for key in keys]


async def consumers_by_id(db: RequestDB, ids: Sequence[str]) -> list[Consumer | None]:
    rows = await db.scalars(select(Consumer).where(Consumer.id.in_(set(ids))))
    by_id = {row.id: row for row in rows}
    return [by_id.get(i) for i in ids]


async def consumers_by_subject(db: RequestDB, subjects: Sequence[str]) -> list[Consumer | None]:
    rows = await db.scalars(select(Consumer).where(Consumer.subject.in_(set(subjects))))
    by_subject = {row.subject: row for row in rows}
    return [by_subject.get(s) for s in subjects]
