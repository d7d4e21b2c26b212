"""The usage subgraph's own Federation v2 schema."""

from __future__ import annotations

import strawberry

from graph.composition import Subgraph
from graph.context import GatewayInfo
from graph.permissions import IsAuthenticated
from subgraphs.usage.accounts import Granularity
from subgraphs.usage.mutations import Mutation
from subgraphs.usage.reports import UsageFilter, UsageReport, report, scoped_query
from subgraphs.usage.types import Consumer, Service


@strawberry.type
class Query:
    @strawberry.field(
        description="The signed-in consumer, or null when the caller is none.",
        permission_classes=[IsAuthenticated],
    )
    async def me(self, info: GatewayInfo) -> Consumer | None:
        principal = info.context.require_principal()
        row = await info.context.loaders.consumer_by_subject.load(principal.subject)
        return Consumer.from_model(row) if row else None

    @strawberry.field(
        description="Metered usage: a consumer sees its own; a provider its services' "
        "aggregates; admins everything."
    )
    async def usage(
        self,
        info: GatewayInfo,
        filter: UsageFilter | None = None,
        granularity: Granularity = Granularity.DAY,
    ) -> UsageReport:
        query = await scoped_query(info, filter or UsageFilter())
        return await report(info, query, granularity)


schema = strawberry.federation.Schema(query=Query, mutation=Mutation, types=[Service, Consumer])
subgraph = Subgraph("usage", schema, {"Consumer": Consumer.load_many})
