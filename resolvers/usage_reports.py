"""The ``usage`` report: totals and time buckets of usage records, with latency percentiles.

Aggregated in Python from one statement so the HOUR/DAY/MONTH bucketing and the percentiles
are the same on SQLite and PostgreSQL, and money stays Decimal end to end.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from persistence.models import UsageRecord
from resolvers.db import RequestDB


@dataclass
class Aggregate:
    start: datetime | None = None
    requests: int = 0
    errors: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost: Decimal = Decimal(0)
    latencies: list[int] = field(default_factory=list)

    def add(self, status: int, tokens_in: int, tokens_out: int, cost: Decimal, ms: int) -> None:
        self.requests += 1
        self.errors += status >= 400
        self.input_tokens += tokens_in
        self.output_tokens += tokens_out
        self.cost += cost
        self.latencies.append(ms)

    def percentile(self, p: float) -> int | None:
        """Nearest-rank percentile."""
        if not self.latencies:
            return None
        ordered = sorted(self.latencies)
        return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def bucket_start(moment: datetime, granularity: str) -> datetime:
    moment = moment.astimezone(UTC)
    if granularity == "HOUR":
        return moment.replace(minute=0, second=0, microsecond=0)
    if granularity == "DAY":
        return moment.replace(hour=0, minute=0, second=0, microsecond=0)
    return moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


@dataclass(frozen=True)
class UsageQuery:
    service_ids: Sequence[str] | None  # None: any service
    consumer_id: str | None
    start: datetime | None
    end: datetime | None


async def usage_report(
    db: RequestDB, query: UsageQuery, granularity: str
) -> tuple[Aggregate, list[Aggregate]]:
    statement = select(
        UsageRecord.occurred_at,
        UsageRecord.status_code,
        UsageRecord.input_tokens,
        UsageRecord.output_tokens,
        UsageRecord.cost,
        UsageRecord.latency_ms,
    )
    if query.service_ids is not None:
        statement = statement.where(UsageRecord.service_id.in_(list(query.service_ids)))
    if query.consumer_id is not None:
        statement = statement.where(UsageRecord.consumer_id == query.consumer_id)
    if query.start is not None:
        statement = statement.where(UsageRecord.occurred_at >= query.start)
    if query.end is not None:
        statement = statement.where(UsageRecord.occurred_at < query.end)
    rows: Sequence[Any] = (await db.execute(statement)).all()
    totals = Aggregate()
    buckets: dict[datetime, Aggregate] = {}
    for at, status, tokens_in, tokens_out, cost, ms in rows:
        totals.add(status, tokens_in, tokens_out, cost, ms)
        start = bucket_start(at, granularity)
        buckets.setdefault(start, Aggregate(start=start)).add(
            status, tokens_in, tokens_out, cost, ms
        )
    return totals, [buckets[k] for k in sorted(buckets)]
