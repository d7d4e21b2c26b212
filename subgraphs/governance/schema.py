"""The governance subgraph's own Federation v2 schema."""

from __future__ import annotations

import strawberry

from graph.composition import Subgraph
from graph.context import GatewayInfo
from resolvers import governance
from subgraphs.governance.types import Policy, Service


@strawberry.type
class Query:
    @strawberry.field(description="Governance policies, by name.")
    async def policies(self, info: GatewayInfo, active_only: bool = True) -> list[Policy]:
        rows = await governance.list_policies(info.context.db, active_only=active_only)
        return [Policy.from_model(row) for row in rows]


schema = strawberry.federation.Schema(query=Query, types=[Service])
subgraph = Subgraph("governance", schema)
