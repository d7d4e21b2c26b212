"""The governance subgraph's own Federation v2 schema."""

from __future__ import annotations

import strawberry

from graph.composition import Subgraph
from subgraphs.governance.mutations import Mutation
from subgraphs.governance.queries import Query
from subgraphs.governance.subscriptions import Subscription
from subgraphs.governance.types import Service

schema = strawberry.federation.Schema(
    query=Query, mutation=Mutation, subscription=Subscription, types=[Service]
)
subgraph = Subgraph(
    "governance", schema, batch_resolvers={"Service.compliance": Service.batch_compliance}
)
