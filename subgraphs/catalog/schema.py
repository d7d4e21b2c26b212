"""The catalog subgraph's own Federation v2 schema."""

from __future__ import annotations

import strawberry

from graph.composition import Subgraph
from subgraphs.catalog.mutations import Mutation
from subgraphs.catalog.queries import Query
from subgraphs.catalog.types import Provider, Service

schema = strawberry.federation.Schema(query=Query, mutation=Mutation, types=[Service, Provider])
subgraph = Subgraph(
    "catalog",
    schema,
    {"Service": Service.load_many, "Provider": Provider.load_many},
    batch_resolvers={"Service.provider": Service.batch_provider},
)
