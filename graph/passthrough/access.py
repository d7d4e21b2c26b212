"""Who may call which service: an API key resolved with its subscription, plan and price.

One statement resolves the key, the service and the active subscription (outer joins, so a
missing subscription is told apart from a bad key); a second reads the price in force.
Results are cached for a short, configurable time so a hot key costs no query per call;
revocation therefore takes effect within that time.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from persistence.models import (
    ApiKey,
    Plan,
    Service,
    ServicePricing,
    ServiceStatus,
    Subscription,
    SubscriptionStatus,
)
from resolvers.metering.pricing import FREE, Price
from resolvers.metering.quota import QuotaLimits


@dataclass(frozen=True)
class Access:
    api_key_id: str
    consumer_id: str
    key_expires_at: datetime | None
    key_revoked: bool
    service_id: str | None
    service_status: ServiceStatus | None
    endpoint_url: str | None
    upstream_auth_header: str | None
    subscription_id: str | None
    rate_per_second: int
    burst: int
    limits: QuotaLimits
    price: Price


class AccessResolver:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], cache_seconds: float) -> None:
        self._sessions = sessions
        self._ttl = cache_seconds
        self._cache: dict[tuple[str, str], tuple[float, Access | None]] = {}

    async def resolve(self, key_hash: str, service_slug: str) -> Access | None:
        cache_key = (key_hash, service_slug)
        now = time.monotonic()
        if self._ttl > 0:
            hit = self._cache.get(cache_key)
            if hit is not None and hit[0] > now:
                return hit[1]
        access = await self._load(key_hash, service_slug)
        if self._ttl > 0:
            if len(self._cache) > 50_000:
                self._cache.clear()
            self._cache[cache_key] = (now + self._ttl, access)
        return access

    async def _load(self, key_hash: str, service_slug: str) -> Access | None:
        statement = (
            select(ApiKey, Service, Subscription, Plan)
            .select_from(ApiKey)
            .outerjoin(Service, Service.slug == service_slug)
            .outerjoin(
                Subscription,
                and_(
                    Subscription.consumer_id == ApiKey.consumer_id,
                    Subscription.service_id == Service.id,
                    Subscription.status == SubscriptionStatus.ACTIVE,
                ),
            )
            .outerjoin(Plan, Plan.id == Subscription.plan_id)
            .where(ApiKey.key_hash == key_hash)
            .limit(1)
        )
        async with self._sessions() as session:
            row = (await session.execute(statement)).first()
            if row is None:
                return None
            key, service, subscription, plan = _entities(row)
            price = FREE
            if service is not None:
                pricing = (
                    await session.execute(
                        select(
                            ServicePricing.input_price_per_1k,
                            ServicePricing.output_price_per_1k,
                            ServicePricing.request_price,
                            ServicePricing.currency,
                        )
                        .where(ServicePricing.service_id == service.id)
                        .order_by(ServicePricing.effective_from.desc())
                        .limit(1)
                    )
                ).first()
                if pricing is not None:
                    price = Price(*pricing)
        return Access(
            api_key_id=key.id,
            consumer_id=key.consumer_id,
            key_expires_at=key.expires_at,
            key_revoked=key.revoked_at is not None,
            service_id=service.id if service else None,
            service_status=ServiceStatus(service.status) if service else None,
            endpoint_url=service.endpoint_url if service else None,
            upstream_auth_header=service.upstream_auth_header if service else None,
            subscription_id=subscription.id if subscription and plan else None,
            rate_per_second=plan.requests_per_second if plan else 0,
            burst=plan.burst if plan else 0,
            limits=QuotaLimits(
                plan.monthly_request_quota if plan else None,
                plan.monthly_token_quota if plan else None,
                plan.monthly_budget if plan else None,
            ),
            price=price,
        )


def _entities(row: Any) -> tuple[ApiKey, Service | None, Subscription | None, Plan | None]:
    return row[0], row[1], row[2], row[3]
