"""One span and one set of metrics per GraphQL operation.

Strawberry ships ``OpenTelemetryExtension``, but its operation span is not made the current
span (so database spans would not nest under it), it records the full query text, and its
per-field spans cost more than they tell here (measured in ``bench/tracing.py``, see
docs/observability.md). This extension makes one span per operation, current for the whole
execution, and records the operation's metrics. It implements no ``resolve`` hook, so it adds
nothing per field.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

from graphql import FragmentDefinitionNode, GraphQLError, OperationDefinitionNode
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode
from strawberry.extensions import SchemaExtension

from graph.limits import measure_operation
from graph.telemetry.metrics import GRAPHQL_ERRORS, GRAPHQL_LATENCY, GRAPHQL_OPERATIONS

_tracer = trace.get_tracer("graph.telemetry.graphql")

# Operation names become a metric label: keep them to GraphQL names of bounded length.
_NAME = re.compile(r"^[_A-Za-z][_0-9A-Za-z]{0,63}$")
ANONYMOUS = "anonymous"
UNKNOWN_TYPE = "unknown"
UNCODED = "UNCODED"


def _label_name(name: str | None) -> str:
    if not name:
        return ANONYMOUS
    return name if _NAME.match(name) else "invalid"


def _error_code(error: GraphQLError) -> str:
    code = (error.extensions or {}).get("code")
    return str(code) if code else UNCODED


class OperationTelemetry(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        span = _tracer.start_span("graphql.operation", kind=SpanKind.INTERNAL)
        token = otel_context.attach(trace.set_span_in_context(span))
        started = time.perf_counter()
        try:
            yield
        finally:
            elapsed = time.perf_counter() - started
            otel_context.detach(token)
            self._finish(span, elapsed)

    def _finish(self, span: trace.Span, elapsed: float) -> None:
        ctx = self.execution_context
        name = ctx.operation_name
        try:
            operation_type = ctx.operation_type.value
        except Exception:  # no parsable document: the type is unknown, not an error here
            operation_type = UNKNOWN_TYPE
        result = ctx.result
        errors: list[GraphQLError] = list(getattr(result, "errors", None) or [])
        errors += [e for e in ctx.pre_execution_errors or [] if e not in errors]

        GRAPHQL_OPERATIONS.labels(
            operation_type=operation_type,
            operation_name=_label_name(name),
            outcome="error" if errors else "ok",
        ).inc()
        GRAPHQL_LATENCY.labels(operation_type=operation_type).observe(elapsed)
        for error in errors:
            GRAPHQL_ERRORS.labels(operation_type=operation_type, code=_error_code(error)).inc()

        if span.is_recording():
            span.update_name(f"{operation_type} {name}" if name else operation_type)
            attributes: dict[str, Any] = {"graphql.operation.type": operation_type}
            if name:
                attributes["graphql.operation.name"] = name
            cost = self._cost()
            if cost is not None:
                attributes["graphql.operation.cost"] = cost
            if errors:
                attributes["graphql.error.count"] = len(errors)
                attributes["graphql.error.codes"] = sorted({_error_code(e) for e in errors})
                span.set_status(Status(StatusCode.ERROR, errors[0].message[:200]))
            span.set_attributes(attributes)
        span.end()

    def _cost(self) -> int | None:
        """The operation's estimated cost, by the same measure the operation limits enforce.

        Measured again here, and only for a recorded span: the limits extension keeps its
        measure to itself, and one walk of the document is small next to exporting a span.
        """
        ctx = self.execution_context
        document = ctx.graphql_document
        settings = getattr(ctx.context, "settings", None)
        if document is None or settings is None:
            return None
        name = ctx.operation_name
        operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        operation = next(
            (o for o in operations if name is None or (o.name and o.name.value == name)), None
        )
        if operation is None:
            return None
        fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        try:
            measure = measure_operation(
                ctx.schema._schema,
                operation,
                fragments,
                ctx.variables,
                default_list_size=settings.graphql_default_list_size,
            )
        except Exception:  # a document validation rejected may not be measurable
            return None
        return measure.cost
