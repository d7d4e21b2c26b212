"""The one list of schema extensions every served schema runs (composed and each subgraph).

Subgraph schemas are built in their own packages without extensions; ``install`` adds this
list to a schema once, so the composed ``/graphql`` and ``/subgraphs/{name}/graphql`` enforce
the same limits, masking and production rules without each subgraph repeating them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import SchemaExtension

from graph.document_cache import DocumentCache
from graph.error_masking import MaskUnexpectedErrors
from graph.limits import OperationLimits
from graph.settings import Settings, get_settings
from subgraphs.search.extensions import SearchDegradedExtension

_INSTALLED = "_marketplace_hardened"


class IntrospectionOffInProduction(SchemaExtension):
    """``__schema``/``__type`` are refused in production (``__typename`` stays allowed)."""

    def on_validate(self) -> Iterator[None]:
        settings = getattr(self.execution_context.context, "settings", None)
        if (settings if isinstance(settings, Settings) else get_settings()).is_production:
            rules = self.execution_context.validation_rules
            self.execution_context.validation_rules = (*rules, NoSchemaIntrospectionCustomRule)
        yield


# Masking runs last around the operation so it sees every other extension's errors. The
# document cache comes after the limits (``max_tokens``, refusals) and the production rules:
# hooks are entered in this order, and it keys on what those two have set.
GATEWAY_EXTENSIONS: tuple[type[SchemaExtension], ...] = (
    MaskUnexpectedErrors,
    OperationLimits,
    IntrospectionOffInProduction,
    DocumentCache,
    SearchDegradedExtension,
)


def install(schema: Any) -> Any:
    """Add the gateway extensions to ``schema`` (idempotent); returns the schema."""
    if not getattr(schema, _INSTALLED, False):
        schema.extensions = (*schema.extensions, *GATEWAY_EXTENSIONS)
        setattr(schema, _INSTALLED, True)
    return schema
