"""API key and subscription types."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from enum import Enum

import strawberry

from graph.context import GatewayInfo
from persistence import models
from resolvers.metering.quota import period_of, period_reset

PlanTier = models.PlanTier
strawberry.enum(PlanTier, description="A plan tier.")
SubscriptionStatus = models.SubscriptionStatus
strawberry.enum(SubscriptionStatus, description="Subscription state.")


@strawberry.type(description="An API key for the metered passthrough; the secret is not kept.")
class ApiKey:
    id: strawberry.ID
    prefix: str
    name: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None

    @classmethod
    def from_model(cls, row: models.ApiKey) -> ApiKey:
        return cls(
            id=strawberry.ID(row.id),
            prefix=row.prefix,
            name=row.name,
            created_at=row.created_at,
            expires_at=row.expires_at,
            revoked_at=row.revoked_at,
            last_used_at=row.last_used_at,
        )


@strawberry.type(description="The limits of a plan tier; null quota or budget is unlimited.")
class Plan:
    tier: PlanTier
    requests_per_second: int
    burst: int
    monthly_request_quota: int | None
    monthly_token_quota: int | None
    monthly_budget: Decimal | None


@strawberry.type(description="What is left of a subscription's monthly limits.")
class RemainingQuota:
    period: str
    resets_at: datetime
    requests_used: int
    tokens_used: int
    spend: Decimal
    requests_remaining: int | None
    tokens_remaining: int | None
    budget_remaining: Decimal | None


@strawberry.type(description="A consumer's subscription to one service under one plan.")
class ServiceSubscription:
    id: strawberry.ID
    service_id: strawberry.ID
    status: SubscriptionStatus
    plan: Plan
    created_at: datetime
    cancelled_at: datetime | None

    @classmethod
    def from_model(cls, row: models.Subscription, plan: models.Plan) -> ServiceSubscription:
        return cls(
            id=strawberry.ID(row.id),
            service_id=strawberry.ID(row.service_id),
            status=row.status,
            plan=Plan(
                tier=plan.tier,
                requests_per_second=plan.requests_per_second,
                burst=plan.burst,
                monthly_request_quota=plan.monthly_request_quota,
                monthly_token_quota=plan.monthly_token_quota,
                monthly_budget=plan.monthly_budget,
            ),
            created_at=row.created_at,
            cancelled_at=row.cancelled_at,
        )

    @strawberry.field(description="Use and remainder of this calendar month (UTC).")
    async def remaining(self, info: GatewayInfo) -> RemainingQuota:
        now = datetime.now(UTC)
        period = period_of(now)
        counter = await info.context.loaders.quota_counter.load((str(self.id), period))
        used_requests = counter.requests if counter else 0
        used_tokens = counter.tokens if counter else 0
        spend = counter.spend if counter else Decimal(0)
        quota = self.plan
        return RemainingQuota(
            period=period,
            resets_at=period_reset(now),
            requests_used=used_requests,
            tokens_used=used_tokens,
            spend=spend,
            requests_remaining=None
            if quota.monthly_request_quota is None
            else max(0, quota.monthly_request_quota - used_requests),
            tokens_remaining=None
            if quota.monthly_token_quota is None
            else max(0, quota.monthly_token_quota - used_tokens),
            budget_remaining=None
            if quota.monthly_budget is None
            else max(Decimal(0), quota.monthly_budget - spend),
        )


@strawberry.enum(description="Bucket size of a usage report.")
class Granularity(Enum):
    HOUR = "HOUR"
    DAY = "DAY"
    MONTH = "MONTH"
