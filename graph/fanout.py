"""Subscription fan-out: execute a selection once per event and shape, not per subscriber.

graphql-core executes a subscription's selection set for every subscriber and every event,
and strawberry serializes every result on its own. With a thousand subscribers of one
dashboard query that is a thousand identical executions and ``json.dumps`` per event.

A subscription that knows its event renders the same for a whole audience yields one shared
object per (event, audience) (``mark_shared``). ``FanOutExecutor`` then executes each
distinct shape — (schema, document, operation, variables) — once against that object and
hands the same result to every subscriber of that shape; the result's ``data`` is a
``RenderedData``, which serializes itself once, and ``encode_message`` splices that text
into each subscriber's protocol message.

The sharing is opt-in and keyed by the object: whoever calls ``mark_shared`` promises that
the object's fields resolve from the object alone (no per-request context), and must hand
out a separate object per audience whose view could differ. Unmarked roots, queries,
mutations, and results that need awaiting or carry errors run exactly as before.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import lru_cache
from typing import Any, TypeVar, cast

from graphql import ExecutionResult, print_ast
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from graph.acyclic_executor import AcyclicExecutor

T = TypeVar("T")

_RENDERS = "_fanout_renders"
_SEPARATORS = (",", ":")


class RenderedData(dict[str, Any]):
    """A result's ``data`` shared by many subscribers; serialized on first use, once."""

    __slots__ = ("_json",)

    def __init__(self, data: Mapping[str, Any]) -> None:
        super().__init__(data)
        self._json: str | None = None

    def json(self) -> str:
        if self._json is None:
            self._json = json.dumps(self, separators=_SEPARATORS)
        return self._json


def mark_shared(value: T) -> T:
    """Let ``FanOutExecutor`` share executions against ``value`` between subscribers."""
    setattr(value, _RENDERS, {})
    return value


def _renders(value: object) -> dict[tuple[object, ...], ExecutionResult] | None:
    return cast("dict[tuple[object, ...], ExecutionResult] | None", getattr(value, _RENDERS, None))


class _Executed:
    """Stands in for a per-event executor whose result another subscriber already made."""

    __slots__ = ("result",)

    def __init__(self, result: ExecutionResult) -> None:
        self.result = result

    def execute_operation(self, serially: bool | None = None) -> ExecutionResult:
        return self.result


class FanOutExecutor(AcyclicExecutor):
    """Strawberry's executor, plus one shared execution per (shared event, shape)."""

    _shape: tuple[object, ...] | None = None

    def build_per_event_executor(self, payload: Any) -> Any:
        renders = _renders(payload)
        if renders is not None:
            if self._shape is None:
                # Once per subscription, on the executor every event's copy is made from.
                self._shape = self._shape_key()
            shared = renders.get(self._shape)
            if shared is not None:
                return _Executed(shared)  # nothing left to execute: skip the copy
        return super().build_per_event_executor(payload)

    def _shape_key(self) -> tuple[object, ...]:
        operation = self.operation
        loc = operation.loc
        document = loc.source.body if loc is not None else print_ast(operation)
        coerced = self.variable_values.coerced
        name = operation.name.value if operation.name else None
        variables = repr(sorted(coerced.items())) if coerced else ""
        return (id(self.schema), document, name, variables)

    def execute_operation(self, serially: bool | None = None) -> Any:
        renders = _renders(self.root_value)
        # ``serially=False`` is graphql-core's per-event execution of a subscription.
        if renders is None or serially is not False or self._shape is None:
            return super().execute_operation(serially)
        shared = renders.get(self._shape)
        if shared is not None:
            return shared
        result = super().execute_operation(serially)
        if not isinstance(result, ExecutionResult):
            return result  # an awaitable: resolved per subscriber, not shared
        if result.errors:
            # Error objects get per-request details (request id, masking) added in place.
            return result
        if result.data is not None:
            result.data = RenderedData(result.data)
        renders[self._shape] = result
        return result


def install(schema: Any) -> Any:
    """Run ``schema``'s operations with ``FanOutExecutor`` (idempotent)."""
    current = getattr(schema, "execution_context_class", None)
    if current is StrawberryGraphQLCoreExecutionContext:
        schema.execution_context_class = FanOutExecutor
    return schema


def encode_message(message: object) -> str | None:
    """The protocol message as JSON text when its data is shared and already rendered.

    Only ``{"data": RenderedData}`` payloads qualify (no errors or extensions, which may
    differ per subscriber); ``None`` means: encode it the ordinary way.
    """
    if not isinstance(message, dict):
        return None
    payload = message.get("payload")
    if not isinstance(payload, dict) or len(payload) != 1:
        return None
    data = payload.get("data")
    if not isinstance(data, RenderedData):
        return None
    rest = tuple((k, v) for k, v in message.items() if k != "payload")
    body = f'"payload":{{"data":{data.json()}}}'
    if not rest:
        return f"{{{body}}}"
    if all(isinstance(v, str) for _, v in rest):
        return f"{_head(rest)},{body}}}"
    return f"{json.dumps(dict(rest), separators=_SEPARATORS)[:-1]},{body}}}"


@lru_cache(maxsize=4096)
def _head(fields: tuple[tuple[str, str], ...]) -> str:
    # The envelope without payload, e.g. ``{"id":"1","type":"next"``: the same few operation
    # ids over and over, so its encoding is cached too.
    return json.dumps(dict(fields), separators=_SEPARATORS)[:-1]
