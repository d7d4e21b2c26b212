"""The search subgraph's own Federation v2 schema."""

from __future__ import annotations

import strawberry

from graph.composition import Subgraph
from subgraphs.search.queries import Query
from subgraphs.search.types import SearchHit, Service

schema = strawberry.federation.Schema(query=Query, types=[Service])
subgraph = Subgraph(
    "search",
    schema,
    batch_resolvers={
        "Service.similar": Service.batch_similar,
        "SearchHit.service": SearchHit.batch_service,
    },
)
