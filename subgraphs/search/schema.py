"""The search subgraph's own Federation v2 schema."""

from __future__ import annotations

import strawberry

from graph.composition import Subgraph
from subgraphs.search.types import Service


@strawberry.type
class Query:
    @strawberry.field(description="Search subgraph health marker.")
    def search_backend(self) -> str:
        return "builtin"


schema = strawberry.federation.Schema(query=Query, types=[Service])
subgraph = Subgraph("search", schema)
