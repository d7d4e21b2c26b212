"""Builds search documents from the catalog, usage and governance tables.

One statement per kind of data for a whole batch of services (services with providers,
prices, usage, compliance), so reindexing N services costs four statements, not 4N.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from persistence.models import (
    ComplianceCheck,
    PricingModel,
    Provider,
    Service,
    ServicePricing,
    UsageRecord,
)
from persistence.search.base import IndexedService

# Usage older than this does not count towards popularity or performance.
SIGNAL_WINDOW = timedelta(days=30)
# A call the upstream failed (5xx, gateway timeouts) counts as an error; 4xx are the caller's.
ERROR_STATUS_FROM = 500


def price_per_1k(row: ServicePricing | None) -> Decimal | None:
    if row is None or row.model != PricingModel.PER_TOKEN:
        return None
    prices = [p for p in (row.input_price_per_1k, row.output_price_per_1k) if p is not None]
    return max(prices) if prices else None


def p95(values: list[int]) -> int | None:
    """Nearest-rank 95th percentile (computed here: SQLite has no percentile aggregate)."""
    if not values:
        return None
    values.sort()
    return values[max(0, math.ceil(0.95 * len(values)) - 1)]


async def all_service_ids(session: AsyncSession) -> list[str]:
    return list((await session.scalars(select(Service.id).order_by(Service.id))).all())


async def load_documents(
    session: AsyncSession, service_ids: Sequence[str], *, now: datetime | None = None
) -> list[IndexedService]:
    """Documents of the given services that exist (deleted ids are simply absent)."""
    ids = sorted(set(service_ids))
    if not ids:
        return []
    since = (now or datetime.now(UTC)) - SIGNAL_WINDOW
    services = (
        await session.execute(
            select(Service, Provider.name)
            .join(Provider, Provider.id == Service.provider_id)
            .where(Service.id.in_(ids))
        )
    ).all()
    pricing: dict[str, ServicePricing] = {}
    for row in await session.scalars(
        select(ServicePricing)
        .where(ServicePricing.service_id.in_(ids))
        .order_by(ServicePricing.effective_from)
    ):
        pricing[row.service_id] = row  # the newest price list wins
    latencies: dict[str, list[int]] = defaultdict(list)
    errors: dict[str, int] = defaultdict(int)
    usage = await session.execute(
        select(UsageRecord.service_id, UsageRecord.latency_ms, UsageRecord.status_code).where(
            UsageRecord.service_id.in_(ids), UsageRecord.occurred_at >= since
        )
    )
    for service_id, latency_ms, status_code in usage:
        latencies[service_id].append(latency_ms)
        errors[service_id] += status_code >= ERROR_STATUS_FROM
    compliance: dict[str, Decimal] = {}
    for service_id, score in await session.execute(
        select(ComplianceCheck.service_id, ComplianceCheck.score)
        .where(ComplianceCheck.service_id.in_(ids))
        .order_by(ComplianceCheck.checked_at)
    ):
        compliance[service_id] = score  # the latest check wins
    docs: list[IndexedService] = []
    for service, provider_name in services:
        calls = len(latencies[service.id])
        price = pricing.get(service.id)
        docs.append(
            IndexedService(
                service_id=service.id,
                slug=service.slug,
                name=service.name,
                description=service.description,
                category=service.category,
                tags=tuple(service.tags),
                provider_id=service.provider_id,
                provider_name=provider_name,
                status=str(service.status),
                pricing_model=str(price.model) if price else None,
                price_per_1k=price_per_1k(price),
                created_at=service.created_at,
                usage_count=calls,
                p95_latency_ms=p95(latencies[service.id]),
                error_rate=errors[service.id] / calls if calls else None,
                compliance_score=compliance.get(service.id),
            )
        )
    return docs
