"""The ``usage`` report type and query."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import strawberry

from graph.context import GatewayInfo
from graph.errors import bad_input, forbidden
from resolvers.usage_reports import Aggregate, UsageQuery, usage_report
from subgraphs.usage.access import owns_service
from subgraphs.usage.accounts import Granularity


@strawberry.type(description="Aggregated metered calls of a period.")
class UsageAggregate:
    requests: int
    errors: int
    input_tokens: int
    output_tokens: int
    cost: Decimal
    p50_latency_ms: int | None
    p95_latency_ms: int | None

    @classmethod
    def of(cls, agg: Aggregate) -> UsageAggregate:
        return cls(
            requests=agg.requests,
            errors=agg.errors,
            input_tokens=agg.input_tokens,
            output_tokens=agg.output_tokens,
            cost=agg.cost,
            p50_latency_ms=agg.percentile(50),
            p95_latency_ms=agg.percentile(95),
        )


@strawberry.type(description="One time bucket of a usage report.")
class UsageBucket(UsageAggregate):
    start: datetime


@strawberry.type(description="Usage totals and their time buckets.")
class UsageReport:
    totals: UsageAggregate
    buckets: list[UsageBucket]


@strawberry.input(description="Which usage to report; `to` is exclusive.")
class UsageFilter:
    service_id: strawberry.ID | None = None
    consumer_id: strawberry.ID | None = None
    from_: datetime | None = strawberry.field(default=None, name="from")
    to: datetime | None = None


async def report(info: GatewayInfo, query: UsageQuery, granularity: Granularity) -> UsageReport:
    if query.start and query.end and query.start >= query.end:
        raise bad_input("`from` must be before `to`.", field="from")
    totals, buckets = await usage_report(info.context.db, query, granularity.value)
    return UsageReport(
        totals=UsageAggregate.of(totals),
        buckets=[
            UsageBucket(start=b.start, **vars(UsageAggregate.of(b)))  # type: ignore[arg-type]
            for b in buckets
        ],
    )


async def scoped_query(info: GatewayInfo, flt: UsageFilter) -> UsageQuery:
    """The caller's filter narrowed to what the caller may see."""
    principal = info.context.require_principal()
    consumer_id = str(flt.consumer_id) if flt.consumer_id else None
    service_ids = [str(flt.service_id)] if flt.service_id else None
    if not principal.is_admin:
        own = await info.context.loaders.consumer_by_subject.load(principal.subject)
        own_id = own.id if own else None
        provider_view = flt.service_id is not None and await owns_service(info, str(flt.service_id))
        if consumer_id is not None and consumer_id != own_id:
            raise forbidden("Only the consumer itself and admins can see a consumer's usage.")
        if not provider_view:
            consumer_id = own_id or "-"  # a caller with no consumer record has no usage
    return UsageQuery(service_ids, consumer_id, flt.from_, flt.to)
