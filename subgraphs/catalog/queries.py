"""Catalog root query fields."""

from __future__ import annotations

import strawberry

from graph.context import GatewayInfo
from graph.errors import bad_input
from resolvers import catalog
from resolvers.catalog import CATEGORIES
from resolvers.pagination import encode_cursor, page_args
from subgraphs.catalog.types import (
    Provider,
    ProviderConnection,
    ProviderEdge,
    Service,
    ServiceConnection,
    ServiceFilter,
    page_info_for,
)


@strawberry.type
class Query:
    @strawberry.field(description="One service by id or slug; null when there is none.")
    async def service(
        self, info: GatewayInfo, id: strawberry.ID | None = None, slug: str | None = None
    ) -> Service | None:
        if (id is None) == (slug is None):
            raise bad_input("Give exactly one of `id` and `slug`.", field="id")
        loaders = info.context.loaders
        row = await (
            loaders.service_by_id.load(str(id)) if id else loaders.service_by_slug.load(str(slug))
        )
        return Service.from_model(row) if row else None

    @strawberry.field(description="Listed services by name (Relay connection).")
    async def services(
        self,
        info: GatewayInfo,
        filter: ServiceFilter | None = None,
        first: int | None = 20,
        after: str | None = None,
    ) -> ServiceConnection:
        db = info.context.db
        page = await catalog.list_services(
            db, (filter or ServiceFilter()).to_domain(), page_args(first, after)
        )
        return ServiceConnection.from_page(page, lambda: catalog.count(db, page))

    @strawberry.field(description="One provider by id or slug; null when there is none.")
    async def provider(
        self, info: GatewayInfo, id: strawberry.ID | None = None, slug: str | None = None
    ) -> Provider | None:
        if (id is None) == (slug is None):
            raise bad_input("Give exactly one of `id` and `slug`.", field="id")
        loaders = info.context.loaders
        row = await (
            loaders.provider_by_id.load(str(id)) if id else loaders.provider_by_slug.load(str(slug))
        )
        return Provider.from_model(row) if row else None

    @strawberry.field(description="Providers by name (Relay connection).")
    async def providers(
        self, info: GatewayInfo, first: int | None = 20, after: str | None = None
    ) -> ProviderConnection:
        db = info.context.db
        page = await catalog.list_providers(db, page_args(first, after))
        edges = [
            ProviderEdge(cursor=encode_cursor([r.name, r.id]), node=Provider.from_model(r))
            for r in page.rows
        ]
        return ProviderConnection(
            edges=edges, page_info=page_info_for(page, edges), count=lambda: catalog.count(db, page)
        )

    @strawberry.field(description="The catalog's service categories.")
    def categories(self) -> list[str]:
        return list(CATEGORIES)
