"""Usage mutations: subscriptions and API keys of the signed-in consumer."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from graph.context import GatewayInfo
from graph.permissions import IsAuthenticated
from persistence import models
from resolvers import usage_accounts
from subgraphs.usage.accounts import ApiKey, PlanTier, ServiceSubscription


@strawberry.input
class SubscribeInput:
    service_id: strawberry.ID
    plan: PlanTier


@strawberry.type
class SubscribePayload:
    subscription: ServiceSubscription


@strawberry.input
class CancelSubscriptionInput:
    subscription_id: strawberry.ID


@strawberry.type
class CancelSubscriptionPayload:
    subscription: ServiceSubscription


@strawberry.input
class CreateApiKeyInput:
    name: str
    expires_at: datetime | None = None


@strawberry.type
class CreateApiKeyPayload:
    api_key: ApiKey
    secret: str = strawberry.field(description="The key itself: shown this once, never again.")


@strawberry.input
class RevokeApiKeyInput:
    id: strawberry.ID


@strawberry.type
class RevokeApiKeyPayload:
    api_key: ApiKey


@strawberry.input
class RotateApiKeyInput:
    id: strawberry.ID


@strawberry.type
class RotateApiKeyPayload:
    revoked_api_key: ApiKey
    api_key: ApiKey
    secret: str = strawberry.field(description="The new key: shown this once, never again.")


async def _plan(session: AsyncSession, plan_id: str) -> models.Plan:
    plan = await session.get(models.Plan, plan_id)
    assert plan is not None
    return plan


@asynccontextmanager
async def _as_consumer(info: GatewayInfo) -> AsyncIterator[tuple[AsyncSession, models.Consumer]]:
    """One write transaction for the signed-in caller's consumer (created on first use)."""
    principal = info.context.require_principal()
    async with info.context.db.transaction() as session:
        yield session, await usage_accounts.consumer_for(session, principal)


@strawberry.type
class Mutation:
    @strawberry.mutation(
        permission_classes=[IsAuthenticated],
        description="Subscribe the signed-in consumer to a service, or re-plan.",
    )
    async def subscribe(self, info: GatewayInfo, input: SubscribeInput) -> SubscribePayload:
        ctx = info.context
        async with _as_consumer(info) as (session, consumer):
            row = await usage_accounts.subscribe(
                session,
                consumer=consumer,
                service_id=str(input.service_id),
                tier=models.PlanTier(input.plan.value),
                plan_overrides=ctx.settings.plan_overrides,
                request_id=ctx.request_id,
            )
            plan = await _plan(session, row.plan_id)
        return SubscribePayload(subscription=ServiceSubscription.from_model(row, plan))

    @strawberry.mutation(
        permission_classes=[IsAuthenticated],
        description="Cancel one of the signed-in consumer's subscriptions.",
    )
    async def cancel_subscription(
        self, info: GatewayInfo, input: CancelSubscriptionInput
    ) -> CancelSubscriptionPayload:
        ctx = info.context
        async with _as_consumer(info) as (session, consumer):
            row = await usage_accounts.cancel_subscription(
                session,
                consumer=consumer,
                subscription_id=str(input.subscription_id),
                request_id=ctx.request_id,
            )
            plan = await _plan(session, row.plan_id)
        return CancelSubscriptionPayload(subscription=ServiceSubscription.from_model(row, plan))

    @strawberry.mutation(
        permission_classes=[IsAuthenticated],
        description="Create an API key; its secret is returned only here.",
    )
    async def create_api_key(
        self, info: GatewayInfo, input: CreateApiKeyInput
    ) -> CreateApiKeyPayload:
        ctx = info.context
        async with _as_consumer(info) as (session, consumer):
            issued = await usage_accounts.create_api_key(
                session,
                consumer=consumer,
                name=input.name,
                expires_at=input.expires_at,
                pepper=ctx.settings.api_key_pepper,
                request_id=ctx.request_id,
            )
        return CreateApiKeyPayload(api_key=ApiKey.from_model(issued.row), secret=issued.secret)

    @strawberry.mutation(
        permission_classes=[IsAuthenticated],
        description="Revoke one of the signed-in consumer's API keys (admins: any key).",
    )
    async def revoke_api_key(
        self, info: GatewayInfo, input: RevokeApiKeyInput
    ) -> RevokeApiKeyPayload:
        ctx = info.context
        principal = ctx.require_principal()
        if principal.is_admin:
            async with ctx.db.transaction() as session:
                row = await usage_accounts.admin_revoke_api_key(
                    session, admin=principal, key_id=str(input.id), request_id=ctx.request_id
                )
            return RevokeApiKeyPayload(api_key=ApiKey.from_model(row))
        async with _as_consumer(info) as (session, consumer):
            row = await usage_accounts.revoke_api_key(
                session, consumer=consumer, key_id=str(input.id), request_id=ctx.request_id
            )
        return RevokeApiKeyPayload(api_key=ApiKey.from_model(row))

    @strawberry.mutation(
        permission_classes=[IsAuthenticated],
        description="Revoke an API key and issue its replacement at once.",
    )
    async def rotate_api_key(
        self, info: GatewayInfo, input: RotateApiKeyInput
    ) -> RotateApiKeyPayload:
        ctx = info.context
        async with _as_consumer(info) as (session, consumer):
            old = await usage_accounts.owned_active_key(session, consumer, str(input.id))
            issued = await usage_accounts.rotate_api_key(
                session,
                consumer=consumer,
                key_id=str(input.id),
                pepper=ctx.settings.api_key_pepper,
                request_id=ctx.request_id,
            )
        return RotateApiKeyPayload(
            revoked_api_key=ApiKey.from_model(old),
            api_key=ApiKey.from_model(issued.row),
            secret=issued.secret,
        )
