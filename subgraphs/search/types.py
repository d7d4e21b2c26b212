"""Search GraphQL types, and search's view of the Service entity (key + contributed fields)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import strawberry

from graph.context import GatewayContext, GatewayInfo
from resolvers import search as search_resolvers
from resolvers.search import Facets, Hit, SearchPage, hit_cursor
from resolvers.search_recommend import TrendWindow as TrendWindowEnum
from subgraphs.catalog.types import PricingModel, ServiceStatus
from subgraphs.common.pagination import PageInfo

SearchSort = search_resolvers.SearchSort
strawberry.enum(
    SearchSort,
    description="Order of search hits. Default: RELEVANCE with a query, POPULARITY without.",
)
TrendWindow = TrendWindowEnum
strawberry.enum(TrendWindow, description="Window usage growth is measured over.")


@strawberry.federation.type(keys=["id"], description="An LLM service listed in the catalog.")
class Service:
    id: strawberry.ID

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> Service:
        return cls(id=id)

    @strawberry.field(description="Services like this one: same category, most shared tags.")
    async def similar(self, info: GatewayInfo, first: int = 5) -> list[Service]:
        ids = await info.context.loaders.similar_services.load(similar_key(self.id, first))
        return stubs(ids)

    @staticmethod
    async def batch_similar(
        context: GatewayContext, services: list[Any], args: dict[str, Any]
    ) -> list[list[Service]]:
        """``similar`` for many services at once (the composed schema's look-ahead)."""
        first = args.get("first", 5)
        keys = [similar_key(s.id, first) for s in services]
        return [stubs(ids) for ids in await context.loaders.similar_services.load_many(keys)]


def similar_key(service_id: str, first: int) -> tuple[str, int]:
    """The ``similar_services`` loader key: at most 50 similar services are ever ranked."""
    return str(service_id), max(0, min(first, 50))


def stubs(ids: list[str]) -> list[Service]:
    return [Service(id=strawberry.ID(i)) for i in ids]


@strawberry.input(description="Search filters; every given one must hold.")
class SearchFilterInput:
    categories: list[str] | None = None
    tags: list[str] | None = strawberry.field(default=None, description="Any of these tags.")
    provider_ids: list[strawberry.ID] | None = None
    pricing_models: list[PricingModel] | None = None
    max_price_per_1k: Decimal | None = strawberry.field(
        default=None,
        description="Highest input or output price per 1,000 tokens (per-token pricing only).",
    )
    statuses: list[ServiceStatus] | None = strawberry.field(
        default=None, description="Default: ACTIVE only."
    )
    min_compliance_score: Decimal | None = strawberry.field(
        default=None, description="Latest compliance score at least this (0 to 1)."
    )


@strawberry.type(description="Each factor's weighted contribution; they add up to the score.")
class ScoreBreakdown:
    relevance: float
    popularity: float
    performance: float
    compliance: float


@strawberry.type(description="One search result.")
class SearchHit:
    score: float
    highlights: list[str] = strawberry.field(
        description="Snippets with the matched words in <em>…</em>."
    )
    score_breakdown: ScoreBreakdown
    service_id: strawberry.Private[str]

    @strawberry.field
    def service(self) -> Service:
        return Service(id=strawberry.ID(self.service_id))

    @staticmethod
    async def batch_service(
        _context: GatewayContext, hits: list[Any], _args: dict[str, Any]
    ) -> list[Service]:
        """``service`` for a page of hits at once (the composed schema's look-ahead)."""
        return stubs([hit.service_id for hit in hits])

    @classmethod
    def from_hit(cls, hit: Hit) -> SearchHit:
        b = hit.breakdown
        return cls(
            score=round(hit.score, 6),
            highlights=list(hit.highlights),
            score_breakdown=ScoreBreakdown(
                relevance=round(b.relevance, 6),
                popularity=round(b.popularity, 6),
                performance=round(b.performance, 6),
                compliance=round(b.compliance, 6),
            ),
            service_id=hit.doc.service_id,
        )


@strawberry.type
class SearchHitEdge:
    cursor: str
    node: SearchHit


@strawberry.type(description="A facet value and how many hits have it.")
class FacetValue:
    value: str
    count: int


def _values(pairs: list[tuple[str, int]]) -> list[FacetValue]:
    return [FacetValue(value=v, count=c) for v, c in pairs]


@strawberry.type(description="Counts over all hits (not only this page).")
class SearchFacets:
    categories: list[FacetValue]
    tags: list[FacetValue]
    pricing_models: list[FacetValue]
    providers: list[FacetValue] = strawberry.field(description="Values are provider ids.")

    @classmethod
    def from_facets(cls, facets: Facets) -> SearchFacets:
        return cls(
            categories=_values(facets.categories),
            tags=_values(facets.tags),
            pricing_models=_values(facets.pricing_models),
            providers=_values(facets.providers),
        )


@strawberry.type(description="Ranked search hits with facets.")
class SearchConnection:
    total_count: int
    took_ms: float
    backend: str = strawberry.field(description="The index that answered.")
    edges: list[SearchHitEdge]
    facets: SearchFacets
    page_info: PageInfo

    @classmethod
    def from_page(cls, page: SearchPage) -> SearchConnection:
        edges = [
            SearchHitEdge(cursor=hit_cursor(pos), node=SearchHit.from_hit(hit))
            for pos, hit in page.hits
        ]
        return cls(
            total_count=page.total,
            took_ms=page.took_ms,
            backend=page.backend,
            edges=edges,
            facets=SearchFacets.from_facets(page.facets),
            page_info=PageInfo(
                has_next_page=page.has_next,
                has_previous_page=page.has_previous,
                start_cursor=edges[0].cursor if edges else None,
                end_cursor=edges[-1].cursor if edges else None,
            ),
        )
