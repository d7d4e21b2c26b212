"""The schema extension that enforces the operation limits before any resolver runs.

* tokens: the parser stops after ``graphql_max_tokens`` tokens (graphql-core ``max_tokens``);
* depth, aliases, root fields and estimated cost: measured on the parsed document before
  validation (cheap, and it spares validation of hostile documents); a violation becomes the
  operation's pre-execution errors, so strawberry skips validation and execution;
* every request error gets a stable ``extensions.code``; the estimated cost and the budget are
  reported in the response's ``extensions.cost`` when ``graphql_cost_in_extensions`` is on
  (a refused operation's error always carries ``cost`` and ``maxCost``).

Limits come from the request context's settings, so one schema object serves apps configured
differently (tests build several).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from graphql import (
    FragmentDefinitionNode,
    GraphQLError,
    OperationDefinitionNode,
    OperationType,
)
from strawberry.extensions import SchemaExtension

from graph.errors import ErrorCode
from graph.limits.analysis import OperationMeasure, measure_operation
from graph.settings import Settings, get_settings


class OperationLimits(SchemaExtension):
    def __init__(self, *, execution_context: Any = None) -> None:
        super().__init__(execution_context=execution_context)
        self.measure: OperationMeasure | None = None

    @property
    def settings(self) -> Settings:
        settings = getattr(self.execution_context.context, "settings", None)
        return settings if isinstance(settings, Settings) else get_settings()

    def on_parse(self) -> Iterator[None]:
        self.execution_context.parse_options["max_tokens"] = self.settings.graphql_max_tokens
        yield
        for error in self.execution_context.pre_execution_errors or ():
            limited = "Document contains more than" in error.message
            code = ErrorCode.MAX_TOKENS_LIMIT if limited else ErrorCode.GRAPHQL_PARSE_FAILED
            _set_code(error, code)

    def on_validate(self) -> Iterator[None]:
        errors = self._limit_errors()
        if errors:
            self.execution_context.pre_execution_errors = errors
        yield
        for error in self.execution_context.pre_execution_errors or ():
            _set_code(error, ErrorCode.GRAPHQL_VALIDATION_FAILED)

    def get_results(self) -> dict[str, Any]:
        if self.measure is None or not self.settings.graphql_cost_in_extensions:
            return {}
        return {"cost": {"estimated": self.measure.cost, "max": self.settings.graphql_max_cost}}

    def _limit_errors(self) -> list[GraphQLError]:
        document = self.execution_context.graphql_document
        if document is None:
            return []
        operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        name = self.execution_context.operation_name
        operation = next(
            (o for o in operations if name is None or (o.name and o.name.value == name)), None
        )
        if operation is None:
            return []  # validation reports the missing or ambiguous operation
        fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        settings = self.settings
        measure = measure_operation(
            self.execution_context.schema._schema,
            operation,
            fragments,
            self.execution_context.variables,
            default_list_size=settings.graphql_default_list_size,
        )
        self.measure = measure
        errors: list[GraphQLError] = []
        if measure.depth > settings.graphql_max_depth:
            errors.append(
                _limit_error(
                    f"The operation is {measure.depth} levels deep; "
                    f"the maximum is {settings.graphql_max_depth}.",
                    ErrorCode.MAX_DEPTH_LIMIT,
                )
            )
        if measure.aliases > settings.graphql_max_aliases:
            errors.append(
                _limit_error(
                    f"The operation uses {measure.aliases} aliases; "
                    f"the maximum is {settings.graphql_max_aliases}.",
                    ErrorCode.MAX_ALIASES_LIMIT,
                )
            )
        if (
            operation.operation is not OperationType.SUBSCRIPTION
            and measure.root_fields > settings.graphql_max_root_fields
        ):
            errors.append(
                _limit_error(
                    f"The operation selects {measure.root_fields} root fields; "
                    f"the maximum is {settings.graphql_max_root_fields}.",
                    ErrorCode.MAX_ROOT_FIELDS_LIMIT,
                )
            )
        if measure.cost > settings.graphql_max_cost:
            errors.append(
                _limit_error(
                    f"The operation's estimated cost is {measure.cost}; "
                    f"the budget is {settings.graphql_max_cost}.",
                    ErrorCode.COST_ESTIMATED_TOO_EXPENSIVE,
                    cost=measure.cost,
                    maxCost=settings.graphql_max_cost,
                )
            )
        return errors


def _limit_error(message: str, code: ErrorCode, **extensions: Any) -> GraphQLError:
    return GraphQLError(message, extensions={"code": code.value, **extensions})


def _set_code(error: GraphQLError, code: ErrorCode) -> None:
    if not (error.extensions or {}).get("code"):
        error.extensions = {**(error.extensions or {}), "code": code.value}
