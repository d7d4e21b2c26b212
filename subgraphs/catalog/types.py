"""Catalog GraphQL types: Service and Provider entities, versions, pricing, connections."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

import strawberry

from graph.context import GatewayContext, GatewayInfo
from graph.permissions import SeesProviderSecrets
from persistence import models
from persistence.models.records import ProviderRecord, ServiceRecord
from resolvers import catalog
from resolvers.catalog import Page
from resolvers.pagination import encode_cursor, page_args
from subgraphs.common.pagination import PageInfo

ServiceStatus = models.ServiceStatus
strawberry.enum(ServiceStatus, description="Lifecycle of a service.")
PricingModel = models.PricingModel
strawberry.enum(PricingModel, description="How a service is priced.")


@strawberry.type(description="A published version of a service (semver 2.0.0).")
class ServiceVersion:
    version: str
    changelog: str
    created_at: datetime

    @classmethod
    def from_model(cls, row: models.ServiceVersion) -> ServiceVersion:
        return cls(version=row.version, changelog=row.changelog, created_at=row.created_at)


@strawberry.type(description="Prices in force. Token prices are per 1,000 tokens.")
class Pricing:
    model: PricingModel
    currency: str
    input_price_per_1k: Decimal | None
    output_price_per_1k: Decimal | None
    request_price: Decimal | None
    effective_from: datetime

    @classmethod
    def from_model(cls, row: models.ServicePricing) -> Pricing:
        return cls(
            model=row.model,
            currency=row.currency,
            input_price_per_1k=row.input_price_per_1k,
            output_price_per_1k=row.output_price_per_1k,
            request_price=row.request_price,
            effective_from=row.effective_from,
        )


@strawberry.federation.type(keys=["id"], description="An LLM service listed in the catalog.")
class Service:
    id: strawberry.ID
    slug: str
    name: str
    description: str
    category: str
    tags: list[str]
    version: str = strawberry.field(description="The current (highest) version.")
    status: ServiceStatus
    created_at: datetime
    updated_at: datetime
    provider_id: strawberry.Private[str]
    # Owner-only values: exposed through the guarded fields below, never as plain fields.
    endpoint: strawberry.Private[str]
    upstream_auth_header: strawberry.Private[str | None]

    @classmethod
    def from_model(cls, row: ServiceRecord) -> Service:
        return cls(
            id=strawberry.ID(row.id),
            slug=row.slug,
            name=row.name,
            description=row.description,
            category=row.category,
            tags=list(row.tags),
            version=row.current_version,
            status=row.status,
            created_at=row.created_at,
            updated_at=row.updated_at,
            provider_id=row.provider_id,
            endpoint=row.endpoint_url,
            upstream_auth_header=row.upstream_auth_header,
        )

    @classmethod
    async def load(cls, context: GatewayContext, id: str) -> Service | None:
        row = await context.loaders.service_by_id.load(id)
        return cls.from_model(row) if row else None

    @classmethod
    async def load_many(cls, context: GatewayContext, ids: list[str]) -> list[Service | None]:
        # DataLoader.load_many gathers plain futures: no task per id.
        rows = await context.loaders.service_by_id.load_many(ids)
        return [cls.from_model(row) if row else None for row in rows]

    @classmethod
    async def resolve_reference(cls, info: GatewayInfo, id: strawberry.ID) -> Service | None:
        return await cls.load(info.context, str(id))

    @strawberry.field
    async def provider(self, info: GatewayInfo) -> Provider:
        row = await info.context.loaders.provider_by_id.load(self.provider_id)
        assert row is not None  # enforced by the foreign key
        return Provider.from_model(row)

    @staticmethod
    async def batch_provider(
        context: GatewayContext, services: list[Service], _args: dict[str, Any]
    ) -> list[Provider]:
        """``provider`` for many services at once (the composed schema's look-ahead)."""
        rows = await context.loaders.provider_by_id.load_many([s.provider_id for s in services])
        if any(row is None for row in rows):
            raise LookupError("a service without its provider")  # each field then reports it
        return [Provider.from_model(row) for row in rows if row is not None]

    @strawberry.field(description="All versions, newest first.")
    async def versions(self, info: GatewayInfo) -> list[ServiceVersion]:
        rows = await info.context.loaders.versions_by_service.load(str(self.id))
        return [ServiceVersion.from_model(row) for row in rows]

    @strawberry.field(
        description="The upstream URL the passthrough forwards to (the owning provider and "
        "admins only; null with a FORBIDDEN error for everyone else).",
        permission_classes=[SeesProviderSecrets],
    )
    async def endpoint_url(self) -> str | None:
        return self.endpoint

    @strawberry.field(
        description="Whether the gateway sends a credential upstream; the credential itself "
        "is never shown (the owning provider and admins only).",
        permission_classes=[SeesProviderSecrets],
    )
    async def upstream_auth_configured(self) -> bool | None:
        return self.upstream_auth_header is not None

    @strawberry.field
    async def pricing(self, info: GatewayInfo) -> Pricing | None:
        row = await info.context.loaders.pricing_by_service.load(str(self.id))
        return Pricing.from_model(row) if row else None


@strawberry.type
class ServiceEdge:
    cursor: str
    node: Service


@strawberry.type(description="A page of services (Relay connection).")
class ServiceConnection:
    edges: list[ServiceEdge]
    page_info: PageInfo
    count: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field(description="How many services match, over all pages.")
    async def total_count(self) -> int:
        return await self.count()

    @classmethod
    def from_page(
        cls, page: Page[ServiceRecord], count: Callable[[], Awaitable[int]]
    ) -> ServiceConnection:
        edges = [
            ServiceEdge(
                cursor=encode_cursor(catalog.service_cursor_key(r)), node=Service.from_model(r)
            )
            for r in page.rows
        ]
        return cls(edges=edges, page_info=page_info_for(page, edges), count=count)


def page_info_for(page: Page[Any], edges: list[ServiceEdge] | list[ProviderEdge]) -> PageInfo:
    return PageInfo(
        has_next_page=page.has_next,
        has_previous_page=page.has_previous,
        start_cursor=edges[0].cursor if edges else None,
        end_cursor=edges[-1].cursor if edges else None,
    )


@strawberry.federation.type(keys=["id"], description="A company that publishes LLM services.")
class Provider:
    id: strawberry.ID
    slug: str
    name: str
    description: str
    website: str | None
    created_at: datetime

    @classmethod
    def from_model(cls, row: ProviderRecord) -> Provider:
        return cls(
            id=strawberry.ID(row.id),
            slug=row.slug,
            name=row.name,
            description=row.description,
            website=row.website,
            created_at=row.created_at,
        )

    @classmethod
    async def load(cls, context: GatewayContext, id: str) -> Provider | None:
        row = await context.loaders.provider_by_id.load(id)
        return cls.from_model(row) if row else None

    @classmethod
    async def load_many(cls, context: GatewayContext, ids: list[str]) -> list[Provider | None]:
        rows = await context.loaders.provider_by_id.load_many(ids)
        return [cls.from_model(row) if row else None for row in rows]

    @classmethod
    async def resolve_reference(cls, info: GatewayInfo, id: strawberry.ID) -> Provider | None:
        return await cls.load(info.context, str(id))

    @strawberry.field(description="The provider's listed services, by name.")
    async def services(
        self, info: GatewayInfo, first: int | None = 20, after: str | None = None
    ) -> ServiceConnection:
        args = page_args(first, after)
        loaders = info.context.loaders
        page = await loaders.services_page_by_provider.load((str(self.id), args.first, args.after))
        return ServiceConnection.from_page(
            page, lambda: loaders.service_count_by_provider.load(str(self.id))
        )


@strawberry.type
class ProviderEdge:
    cursor: str
    node: Provider


@strawberry.type(description="A page of providers (Relay connection).")
class ProviderConnection:
    edges: list[ProviderEdge]
    page_info: PageInfo
    count: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field
    async def total_count(self) -> int:
        return await self.count()


@strawberry.input(description="Narrow a service listing. Unset = listed (ACTIVE, DEPRECATED).")
class ServiceFilter:
    categories: list[str] | None = None
    statuses: list[ServiceStatus] | None = None
    provider_ids: list[strawberry.ID] | None = None
    tags: list[str] | None = None

    def to_domain(self) -> catalog.ServiceFilter:
        return catalog.ServiceFilter(
            categories=tuple(self.categories or ()),
            statuses=tuple(self.statuses or ()),
            provider_ids=tuple(str(i) for i in self.provider_ids or ()),
            tags=tuple(self.tags or ()),
        )
