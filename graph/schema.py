"""The composed schema, built once per process, and its SDL (what schema.graphql holds)."""

from __future__ import annotations

from functools import lru_cache

from graph.composition import ComposedSchema
from subgraphs.registry import SUBGRAPHS


@lru_cache(maxsize=1)
def composed_schema() -> ComposedSchema:
    return ComposedSchema(SUBGRAPHS)


def composed_sdl() -> str:
    return composed_schema().as_str().rstrip() + "\n"
