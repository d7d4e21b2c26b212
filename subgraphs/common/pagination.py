"""Relay connection building blocks."""

from __future__ import annotations

import strawberry


# Shareable: several subgraphs resolve PageInfo, which Federation v2 allows only when declared.
@strawberry.federation.type(shareable=True, description="Relay page information.")
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None
