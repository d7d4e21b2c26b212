"""The subgraphs this gateway serves, in composition order (the entity owner first)."""

from __future__ import annotations

from graph.composition import Subgraph
from subgraphs.catalog.schema import subgraph as catalog
from subgraphs.governance.schema import subgraph as governance
from subgraphs.search.schema import subgraph as search
from subgraphs.usage.schema import subgraph as usage

SUBGRAPHS: tuple[Subgraph, ...] = (catalog, search, usage, governance)
BY_NAME = {s.name: s for s in SUBGRAPHS}
