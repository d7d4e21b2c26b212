"""Usage GraphQL types: the Consumer entity and usage statistics on Service."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import Enum
from typing import Annotated

import strawberry

from graph.context import GatewayContext, GatewayInfo
from graph.permissions import IsServiceOwner
from persistence import models
from resolvers.usage_reports import UsageQuery
from subgraphs.usage.access import require_self
from subgraphs.usage.accounts import ApiKey, Granularity, ServiceSubscription
from subgraphs.usage.reports import UsageReport, report


@strawberry.enum(description="A trailing time window.")
class UsageWindow(Enum):
    DAY = "DAY"
    WEEK = "WEEK"
    MONTH = "MONTH"

    def start(self, now: datetime) -> datetime:
        days = {"DAY": 1, "WEEK": 7, "MONTH": 30}[self.value]
        return (now - timedelta(days=days)).replace(minute=0, second=0, microsecond=0)


@strawberry.type(description="Aggregated metered calls.")
class UsageStats:
    requests: int
    errors: int
    input_tokens: int
    output_tokens: int
    cost: Decimal


@strawberry.federation.type(keys=["id"], description="An LLM service listed in the catalog.")
class Service:
    id: strawberry.ID

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> Service:
        return cls(id=id)

    @strawberry.field(
        description="Metered usage of this service in a trailing window "
        "(the service's provider and admins only).",
        permission_classes=[IsServiceOwner],
    )
    async def usage_stats(
        self, info: GatewayInfo, window: UsageWindow = UsageWindow.MONTH
    ) -> UsageStats | None:  # nullable: a refusal nulls this field, not the whole service
        since = window.start(datetime.now(UTC))
        totals = await info.context.loaders.usage_totals_by_service.load((str(self.id), since))
        return UsageStats(
            requests=totals.requests,
            errors=totals.errors,
            input_tokens=totals.input_tokens,
            output_tokens=totals.output_tokens,
            cost=totals.cost,
        )


@strawberry.federation.type(keys=["id"], description="A consumer of marketplace services.")
class Consumer:
    id: strawberry.ID
    name: str
    email: str | None
    created_at: datetime

    @strawberry.field(description="The consumer's API keys (secrets are never shown again).")
    async def api_keys(self, info: GatewayInfo) -> list[ApiKey]:
        await require_self(info, str(self.id))
        rows = await info.context.loaders.api_keys_by_consumer.load(str(self.id))
        return [ApiKey.from_model(r) for r in rows]

    @strawberry.field(description="The consumer's subscriptions, active and cancelled.")
    async def subscriptions(self, info: GatewayInfo) -> list[ServiceSubscription]:
        await require_self(info, str(self.id))
        rows = await info.context.loaders.subscriptions_by_consumer.load(str(self.id))
        return [ServiceSubscription.from_model(s, p) for s, p in rows]

    @strawberry.field(description="The consumer's own usage.")
    async def usage(
        self,
        info: GatewayInfo,
        from_: Annotated[datetime | None, strawberry.argument(name="from")] = None,
        to: datetime | None = None,
        granularity: Granularity = Granularity.DAY,
    ) -> UsageReport:
        await require_self(info, str(self.id))
        return await report(info, UsageQuery(None, str(self.id), from_, to), granularity)

    @classmethod
    def from_model(cls, row: models.Consumer) -> Consumer:
        return cls(
            id=strawberry.ID(row.id), name=row.name, email=row.email, created_at=row.created_at
        )

    @classmethod
    async def load(cls, context: GatewayContext, id: str) -> Consumer | None:
        row = await context.loaders.consumer_by_id.load(id)
        return cls.from_model(row) if row else None

    @classmethod
    async def load_many(cls, context: GatewayContext, ids: list[str]) -> list[Consumer | None]:
        rows = await context.loaders.consumer_by_id.load_many(ids)
        return [cls.from_model(row) if row else None for row in rows]

    @classmethod
    async def resolve_reference(cls, info: GatewayInfo, id: strawberry.ID) -> Consumer | None:
        return await cls.load(info.context, str(id))
