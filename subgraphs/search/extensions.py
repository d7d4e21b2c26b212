"""Response ``extensions`` a search resolver asks for, e.g. ``degraded: true`` when the
configured search backend was unreachable and the built-in index answered instead."""

from __future__ import annotations

from typing import Any

from strawberry.extensions import SchemaExtension

from graph.context import GatewayContext

_KEY = "search.degraded"


def mark_degraded(context: GatewayContext) -> None:
    context.extras[_KEY] = True


class SearchDegradedExtension(SchemaExtension):
    def get_results(self) -> dict[str, Any]:
        context = self.execution_context.context
        extras = getattr(context, "extras", None) or {}
        return {"degraded": True} if extras.get(_KEY) else {}
