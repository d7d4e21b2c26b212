"""An executor that reference counting can free: no cycle through the executor itself.

graphql-core's ``Executor`` keeps its own bound methods (``gather_async_work``,
``track_async_work``) in ``async_helpers``, a reference cycle through the executor. Everything
an execution reaches (the request context with its session and DataLoaders, the ORM rows, the
result tree: ≈ 900 objects for a search page) could then only be freed by the cyclic
collector, and those collections land on some request: a full one every dozen or so requests
took 4 to 8 ms of one request's latency (measured on the search page, docs/performance.md).
The helpers here reach their executor weakly, so a finished execution is freed the moment the
response is sent.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

from graphql.type.definition import GraphQLResolveInfoHelpers
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext


def _weakly(method: Callable[..., Any]) -> Callable[..., Any]:
    reference = weakref.WeakMethod(method)

    def call(*args: Any, **kwargs: Any) -> Any:
        bound = reference()
        # Only a resolver still running after its execution finished could get here.
        if bound is None:
            raise RuntimeError("the execution this resolver belongs to has finished")
        return bound(*args, **kwargs)

    return call


class AcyclicExecutor(StrawberryGraphQLCoreExecutionContext):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.async_helpers = GraphQLResolveInfoHelpers(
            gather=_weakly(self.gather_async_work), track=_weakly(self.track_async_work)
        )
