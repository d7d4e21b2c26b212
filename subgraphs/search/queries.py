"""Search root fields: searchServices, suggestServices, trendingServices, recommendedServices."""

from __future__ import annotations

import strawberry

from graph.context import GatewayContext, GatewayInfo
from graph.errors import bad_input
from persistence.search.indexes import SearchIndexes
from resolvers import search as search_resolvers
from resolvers import search_recommend
from resolvers.search_ranking import Weights
from subgraphs.search.extensions import mark_degraded
from subgraphs.search.types import (
    SearchConnection,
    SearchFilterInput,
    SearchSort,
    Service,
    TrendWindow,
    stubs,
)

MAX_RECOMMENDATIONS = 100


def _indexes(context: GatewayContext) -> SearchIndexes:
    if context.search is None:
        raise RuntimeError("the request context has no search indexes")
    return context.search


def _check_first(first: int, limit: int = MAX_RECOMMENDATIONS) -> None:
    if not 0 <= first <= limit:
        raise bad_input(f"`first` must be between 0 and {limit}.", field="first")


@strawberry.type
class Query:
    @strawberry.field(description="Full-text search over listed services, ranked and faceted.")
    async def search_services(
        self,
        info: GatewayInfo,
        query: str | None = None,
        filter: SearchFilterInput | None = None,
        sort: SearchSort | None = None,
        first: int | None = 20,
        after: str | None = None,
    ) -> SearchConnection:
        f = filter or SearchFilterInput()
        flt = search_resolvers.search_filter(
            statuses=[s.value for s in f.statuses or ()],
            categories=f.categories or (),
            tags=f.tags or (),
            provider_ids=[str(p) for p in f.provider_ids or ()],
            pricing_models=[m.value for m in f.pricing_models or ()],
            max_price_per_1k=f.max_price_per_1k,
            min_compliance=f.min_compliance_score,
        )
        page = await search_resolvers.search_services(
            _indexes(info.context),
            Weights.from_settings(info.context.settings),
            query=query,
            flt=flt,
            sort=search_resolvers.SearchSort(sort.value) if sort else None,
            first=first,
            after=after,
            db=info.context.db,
        )
        if page.degraded:
            mark_degraded(info.context)
        return SearchConnection.from_page(page)

    @strawberry.field(description="Search-as-you-type: ACTIVE services whose name words start so.")
    async def suggest_services(
        self, info: GatewayInfo, prefix: str, first: int = 5
    ) -> list[Service]:
        ids, degraded = await search_resolvers.suggest_services(
            _indexes(info.context), prefix, first
        )
        if degraded:
            mark_degraded(info.context)
        return stubs(ids)

    @strawberry.field(description="ACTIVE services whose usage grew most over the window.")
    async def trending_services(
        self, info: GatewayInfo, window: TrendWindow = TrendWindow.WEEK, first: int = 10
    ) -> list[Service]:
        _check_first(first)
        ids = await search_recommend.trending_service_ids(
            info.context.db, search_recommend.TrendWindow(window.value), first
        )
        return stubs(ids)

    @strawberry.field(
        description="For the calling consumer: services that consumers using the same services "
        "also use, topped up with trending ones."
    )
    async def recommended_services(self, info: GatewayInfo, first: int = 10) -> list[Service]:
        _check_first(first)
        principal = info.context.principal
        consumer = (
            await info.context.loaders.consumer_by_subject.load(principal.subject)
            if principal is not None
            else None
        )
        ids = await search_recommend.recommended_service_ids(
            info.context.db, consumer.id if consumer else None, first
        )
        return stubs(ids)
