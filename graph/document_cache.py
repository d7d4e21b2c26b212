"""Parse and validate a repeated GraphQL document once per process, not once per request.

Frontends send the same few documents over and over; parsing and validating them was about a
fifth of the gateway's CPU per request (docs/performance.md). Strawberry ships ``ParserCache``
and ``ValidationCache``, but they do not fit the gateway's extension chain:

* ``ValidationCache`` assigns ``pre_execution_errors`` unconditionally, which would erase the
  operation-limit errors ``OperationLimits`` sets before validation;
* both key on the ``DocumentNode``, whose ``__hash__`` walks the whole tree on every lookup;
* cached validation errors would be shared, and mutated (codes, production masking), across
  requests.

This extension only short-cuts the success path: it keys on the query text (plus the parse
options and the validation rules in force, so ``max_tokens`` and the production-only rules
are respected), lets strawberry parse and validate on a miss, and remembers a document only
once it parsed, and a validation only once it passed. Failures are recomputed every time,
with fresh error objects. It must run after ``OperationLimits`` (which sets ``max_tokens``
and may refuse the operation) and ``IntrospectionOffInProduction`` (which adds a rule).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable, Iterator
from typing import Generic, TypeVar

from graphql import DocumentNode
from strawberry.extensions import SchemaExtension

# Bounded so unique query texts cannot grow memory without limit; a gateway serves far fewer
# distinct documents than this.
DEFAULT_MAXSIZE = 512

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class LRU(Generic[K, V]):
    """A small least-recently-used map (the event loop is single-threaded: no lock)."""

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self._items: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> V | None:
        value = self._items.get(key)
        if value is not None:
            self._items.move_to_end(key)
        return value

    def put(self, key: K, value: V) -> None:
        self._items[key] = value
        self._items.move_to_end(key)
        if len(self._items) > self.maxsize:
            self._items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)

    def clear(self) -> None:
        self._items.clear()


# Process-wide: extensions are instantiated per request.
PARSED: LRU[Hashable, DocumentNode] = LRU(DEFAULT_MAXSIZE)
VALIDATED: LRU[Hashable, bool] = LRU(DEFAULT_MAXSIZE)


class DocumentCache(SchemaExtension):
    def on_parse(self) -> Iterator[None]:
        ctx = self.execution_context
        key: Hashable = None
        if ctx.graphql_document is None and ctx.query:
            key = (ctx.query, tuple(sorted(ctx.parse_options.items())))
            ctx.graphql_document = PARSED.get(key)
        yield
        if key is not None and ctx.graphql_document is not None:
            PARSED.put(key, ctx.graphql_document)

    def on_validate(self) -> Iterator[None]:
        ctx = self.execution_context
        key: Hashable = None
        # Only a document that came from the query text is known by its text; an operation
        # already refused (limits) keeps its errors and is validated the normal way.
        if ctx.query and ctx.pre_execution_errors is None:
            key = (ctx.schema._schema, ctx.query, ctx.validation_rules)
            if VALIDATED.get(key):
                ctx.pre_execution_errors = []  # strawberry then skips validation
        yield
        if key is not None and ctx.pre_execution_errors == []:
            VALIDATED.put(key, True)
