"""Usage reads: per-service usage aggregates."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import case, func, select

from persistence.models import ApiKey, Consumer, Plan, QuotaCounter, Subscription, UsageRecord
from resolvers.db import RequestDB, rows_by_unique_key


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


consumers_by_id = rows_by_unique_key(Consumer, Consumer.id)
consumers_by_subject = rows_by_unique_key(Consumer, Consumer.subject)


async def api_keys_by_consumer(db: RequestDB, ids: Sequence[str]) -> list[list[ApiKey]]:
    rows = await db.scalars(
        select(ApiKey).where(ApiKey.consumer_id.in_(set(ids))).order_by(ApiKey.created_at)
    )
    grouped: dict[str, list[ApiKey]] = {}
    for row in rows:
        grouped.setdefault(row.consumer_id, []).append(row)
    return [grouped.get(i, []) for i in ids]


async def subscriptions_by_consumer(
    db: RequestDB, ids: Sequence[str]
) -> list[list[tuple[Subscription, Plan]]]:
    rows = await db.execute(
        select(Subscription, Plan)
        .join(Plan, Plan.id == Subscription.plan_id)
        .where(Subscription.consumer_id.in_(set(ids)))
        .order_by(Subscription.created_at)
    )
    grouped: dict[str, list[tuple[Subscription, Plan]]] = {}
    for subscription, plan in rows:
        grouped.setdefault(subscription.consumer_id, []).append((subscription, plan))
    return [grouped.get(i, []) for i in ids]


async def quota_counters_by_subscription(
    db: RequestDB, keys: Sequence[tuple[str, str]]
) -> list[QuotaCounter | None]:
    """Counters by (subscription id, "YYYY-MM")."""
    rows = await db.scalars(
        select(QuotaCounter).where(
            QuotaCounter.subscription_id.in_({s for s, _ in keys}),
            QuotaCounter.period.in_({p for _, p in keys}),
        )
    )
    by_key = {(r.subscription_id, r.period): r for r in rows}
    return [by_key.get(k) for k in keys]
