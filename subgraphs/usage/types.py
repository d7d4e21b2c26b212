"""Usage GraphQL types: the Consumer entity and usage statistics on Service."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import Enum

import strawberry

from graph.context import GatewayContext, GatewayInfo
from persistence import models


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

    @strawberry.field(description="Metered usage of this service in a trailing window.")
    async def usage_stats(
        self, info: GatewayInfo, window: UsageWindow = UsageWindow.MONTH
    ) -> UsageStats:
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
    async def resolve_reference(cls, info: GatewayInfo, id: strawberry.ID) -> Consumer | None:
        return await cls.load(info.context, str(id))
