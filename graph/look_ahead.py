"""The composed schema's executor: a list's entity fields loaded up front (look-ahead batch
loading), and plain leaf fields completed directly.

Resolved one item at a time, a field like ``Service.provider`` under a list of ten services
costs ten resolver coroutines, ten DataLoader futures, and graphql-core's gather (a task per
item and field) — although the DataLoader turns them into one statement anyway. The composed
gateway sees the whole query, so when a list of objects is completed it can do better: it
looks at the fields selected beneath the list (through plain attribute fields such as a
connection edge's ``node``), runs each field that has a *batch resolver* once for all the
items, and the items' fields then resolve synchronously from the results. Same loaders, so
the same statements; no per-item awaitable, future or task.

A batch resolver is ``(context, sources, args) -> values`` in the order of the sources
(``Subgraph.batch_resolvers``). If one fails, nothing is stored for it and every item's field
runs its own resolver as before, so errors stay per field and read exactly as they did. The
batch fields selected beneath what a batch loaded run in a further round (a page's services,
then their providers), so every level is loaded once.

A plain field (no resolver, permission or extension; ``composition.py`` marks it) of a scalar
or enum type is completed with one attribute read and its type's ``serialize``, instead of
graphql-core's resolve info, resolver call and completion dispatch per field.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from contextvars import ContextVar
from typing import Any, NamedTuple
from weakref import WeakKeyDictionary

from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLList,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    GraphQLScalarType,
    Undefined,
    get_nullable_type,
)
from graphql.execution.collect_fields import FieldDetailsList
from graphql.execution.values import get_argument_values

from graph.fanout import FanOutExecutor

BatchResolver = Callable[[Any, list[Any], dict[str, Any]], Awaitable[Sequence[Any]]]
"""(GraphQL context, source objects, the field's coerced arguments) -> one value per source."""

BATCH = "composition-batch-resolver"
"""GraphQLField.extensions key: the field's BatchResolver (composed schema only)."""
PLAIN_ATTRIBUTE = "composition-plain-attribute"
"""GraphQLField.extensions key: the Python attribute a plain field reads (look-ahead follows
these into nested objects, e.g. ``edges { node { … } }``)."""
PLAIN_LEAF = "composition-plain-leaf"
"""GraphQLField.extensions key: ``PlainLeaf`` of a plain field whose type is a scalar or enum."""


class PlainLeaf(NamedTuple):
    attribute: str
    type: GraphQLScalarType | GraphQLEnumType
    non_null: bool


# (id(source), id(field node)) -> (source, context, root value, value). Keyed by the field's
# node, not its response key: one object can sit in two lists whose children share a response
# key with other arguments (``a: similar(first: 1)`` under two different parents). A context
# variable because graphql-core hands resolvers the GraphQLResolveInfo, not the executor. It
# is set right before a prefetched list is completed, in the task that completes it; tasks
# started from there inherit it.
_Store = dict[tuple[int, int], tuple[Any, Any, Any, Any]]
_prefetched: ContextVar[_Store | None] = ContextVar("composition_prefetched", default=None)


class _Job(NamedTuple):
    batch: BatchResolver
    key: int  # id(field node)
    items: list[Any]
    args: dict[str, Any]
    field_type: GraphQLOutputType
    details: FieldDetailsList  # the field's nodes, for the fields selected beneath it


def prefetchable(resolve: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a field resolver so it returns the look-ahead's value when there is one."""

    def resolver(source: Any, info: GraphQLResolveInfo, **kwargs: Any) -> Any:
        store = _prefetched.get()
        if store is not None:
            hit = store.get((id(source), id(info.field_nodes[0])))
            # Identity checks: an id is only unique while its object lives, and a value
            # belongs to one execution (its request context, its subscription event).
            if (
                hit is not None
                and hit[0] is source
                and hit[1] is info.context
                and hit[2] is info.root_value
            ):
                return hit[3]
        return resolve(source, info, **kwargs)

    return resolver


_MAY_BATCH: WeakKeyDictionary[GraphQLObjectType, bool] = WeakKeyDictionary()


def _may_batch(item_type: GraphQLObjectType) -> bool:
    """Whether a batch field can lie beneath objects of this type (directly, or through plain
    attributes): lists of anything else (facet values, score breakdowns) are not planned."""
    known = _MAY_BATCH.get(item_type)
    if known is None:
        known = _MAY_BATCH[item_type] = _reaches_batch(item_type, set())
    return known


def _reaches_batch(item_type: GraphQLObjectType, seen: set[GraphQLObjectType]) -> bool:
    if item_type in seen:
        return False
    seen.add(item_type)
    for field in item_type.fields.values():
        extensions = field.extensions or {}
        if BATCH in extensions:
            return True
        nested = get_nullable_type(field.type)
        if (
            PLAIN_ATTRIBUTE in extensions
            and isinstance(nested, GraphQLObjectType)
            and _reaches_batch(nested, seen)
        ):
            return True
    return False


def _plain_leaf_value(source: Any, leaf: PlainLeaf) -> Any:
    """The completed value of a plain leaf field, or ``Undefined`` to complete it in full."""
    try:
        value = getattr(source, leaf.attribute)
        if value is None:
            return Undefined if leaf.non_null else None
        if isinstance(value, Exception):
            return Undefined
        serialized = leaf.type.serialize(value)
    except Exception:
        return Undefined
    return Undefined if serialized is None else serialized


def _completed_leaves(source: Any, plan: list[tuple[str, PlainLeaf]]) -> Any:
    """An object of plain leaves completed in one loop, or ``Undefined`` to complete it in
    full (a leaf that needs graphql-core's handling)."""
    completed = {}
    for key, leaf in plan:
        value = _plain_leaf_value(source, leaf)
        if value is Undefined:
            return Undefined
        completed[key] = value
    return completed


class LookAheadExecutor(FanOutExecutor):
    """The composed schema's executor: FanOutExecutor (every served schema runs it), plus the
    look-ahead when completing lists of objects."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._store: _Store = {}
        self._leaf_plans: dict[tuple[GraphQLObjectType, int], tuple[Any, Any]] = {}
        # Field middleware (an extension's ``resolve``) must see every field: no short cut.
        middleware = self.middleware_manager
        self._leaves_direct = not (middleware and middleware.middlewares)

    def execute_field(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: FieldDetailsList,
        path: Any,
        position_context: Any,
    ) -> Any:
        # A plain scalar or enum field is one attribute read and one serialisation. Through
        # graphql-core it also costs a resolve info, an argument check, a resolver call and
        # the completion dispatch: most of a response's fields are such leaves (a search page
        # has hundreds). Anything unusual (None in a non-null field, a value the type cannot
        # serialise, an exception) goes the full way, which reports it as it always did.
        if self._leaves_direct:
            field = parent_type.fields.get(field_details_list[0].node.name.value)
            extensions = field.extensions if field is not None else {}
            leaf = extensions.get(PLAIN_LEAF)
            if leaf is not None:
                value = _plain_leaf_value(source, leaf)
                if value is not Undefined:
                    return value
            elif field is not None and BATCH in extensions and self._store:
                value = self._completed_prefetch(field.type, field_details_list, source)
                if value is not Undefined:
                    return value
        return super().execute_field(
            parent_type, source, field_details_list, path, position_context
        )

    def _completed_prefetch(
        self, field_type: GraphQLOutputType, field_details_list: FieldDetailsList, source: Any
    ) -> Any:
        """A batch field's prefetched value, completed here when it is an object (or a list of
        objects) of plain leaves: what its resolver would return (``prefetchable``), without
        the resolve info, arguments, resolver call and completion graphql-core spends on it.
        ``Undefined`` for anything else (no value, a null the type forbids), which then goes
        the full way."""
        hit = self._store.get((id(source), id(field_details_list[0].node)))
        if (
            hit is None
            or hit[0] is not source
            or hit[1] is not self.context_value
            or hit[2] is not self.root_value
        ):
            return Undefined
        value, nullable = hit[3], get_nullable_type(field_type)
        if value is None:
            return Undefined if nullable is not field_type else None
        if isinstance(nullable, GraphQLList):
            item_type = nullable.of_type
            items = get_nullable_type(item_type)
            if not isinstance(items, GraphQLObjectType) or not isinstance(value, list):
                return Undefined
            plan = self._object_leaf_plan(items, field_details_list)
            if plan is None:
                return Undefined
            completed: list[Any] = []
            for item in value:
                if item is None:
                    if items is not item_type:
                        return Undefined
                    completed.append(None)
                    continue
                done = _completed_leaves(item, plan)
                if done is Undefined:
                    return Undefined
                completed.append(done)
            return completed
        if isinstance(nullable, GraphQLObjectType):
            plan = self._object_leaf_plan(nullable, field_details_list)
            return Undefined if plan is None else _completed_leaves(value, plan)
        return Undefined

    def _object_leaf_plan(
        self, object_type: GraphQLObjectType, field_details_list: FieldDetailsList
    ) -> list[tuple[str, PlainLeaf]] | None:
        # An ``is_type_of`` check needs the resolve info this path does not build.
        return None if object_type.is_type_of else self._leaf_plan(object_type, field_details_list)

    def collect_and_execute_subfields(
        self,
        return_type: GraphQLObjectType,
        field_details_list: FieldDetailsList,
        path: Any,
        result: Any,
        position_context: Any,
    ) -> Any:
        # An object whose selected fields are all plain leaves (a provider's name, a similar
        # service's slug and name, a compliance report's flags) is completed in one loop:
        # graphql-core's field-by-field execution costs several times the attribute reads.
        # Anything unusual goes the full way, as for a single plain leaf.
        leaves = self._leaf_plan(return_type, field_details_list) if self._leaves_direct else None
        if leaves is not None:
            completed = _completed_leaves(result, leaves)
            if completed is not Undefined:
                return completed
        return super().collect_and_execute_subfields(
            return_type, field_details_list, path, result, position_context
        )

    def _leaf_plan(
        self, return_type: GraphQLObjectType, field_details_list: FieldDetailsList
    ) -> list[tuple[str, PlainLeaf]] | None:
        """(response key, plain leaf) of each field selected on ``return_type``, or None when
        one is anything else (or a deferred fragment is among them). Memoised as graphql-core
        memoises the collected fields: per execution, by the field nodes' list."""
        key = (return_type, id(field_details_list))
        known = self._leaf_plans.get(key)
        if known is None:
            collected = self.collect_subfields(return_type, field_details_list)
            plan: list[tuple[str, PlainLeaf]] | None = []
            if collected.new_defer_usages:
                plan = None
            for response_key, details in collected.grouped_field_set.items():
                field = return_type.fields.get(details[0].node.name.value)
                leaf = field.extensions.get(PLAIN_LEAF) if field is not None else None
                if leaf is None or plan is None:
                    plan = None
                    break
                plan.append((response_key, leaf))
            known = self._leaf_plans[key] = (field_details_list, plan)
        return known[1]

    def build_per_event_executor(self, payload: Any) -> Any:
        executor = super().build_per_event_executor(payload)
        if isinstance(executor, LookAheadExecutor):
            # graphql-core copies the subscription's executor per event: give each event's
            # execution its own values, so nothing is kept from one event to the next.
            executor._store = {}
        return executor

    def complete_list_value(
        self,
        return_type: GraphQLList[Any],
        field_details_list: FieldDetailsList,
        info: GraphQLResolveInfo,
        path: Any,
        result: Any,
        position_context: Any,
    ) -> Any:
        complete = super().complete_list_value
        if isinstance(result, list) and result:
            item_type = get_nullable_type(return_type.of_type)
            if isinstance(item_type, GraphQLObjectType) and _may_batch(item_type):
                present = [item for item in result if item is not None]
                jobs = self._plan(item_type, field_details_list, present) if present else []
                if jobs:

                    async def after_prefetch() -> Any:
                        await self._prefetch(info.context, jobs)
                        # Set for this completion only. Left set, a task that outlives the
                        # execution (a subscription's, or a caller awaiting the app directly)
                        # kept the values, and through the tasks created meanwhile, which
                        # copy the context, every earlier execution's values as well.
                        token = _prefetched.set(self._store)
                        try:
                            completed = complete(
                                return_type,
                                field_details_list,
                                info,
                                path,
                                result,
                                position_context,
                            )
                            return await completed if self.is_awaitable(completed) else completed
                        finally:
                            _prefetched.reset(token)

                    return after_prefetch()
        return complete(return_type, field_details_list, info, path, result, position_context)

    def _plan(
        self, item_type: GraphQLObjectType, field_details_list: FieldDetailsList, items: list[Any]
    ) -> list[_Job]:
        jobs: list[_Job] = []
        grouped = self.collect_subfields(item_type, field_details_list).grouped_field_set
        for sub_details in grouped.values():
            first = sub_details[0]
            field: GraphQLField | None = item_type.fields.get(first.node.name.value)
            if field is None or not field.extensions:
                continue  # __typename, or a field without composition metadata
            batch = field.extensions.get(BATCH)
            if batch is not None:
                key = id(first.node)
                # Items whose value a previous round already loaded (a list of entities
                # prefetched with what is selected beneath it) are not loaded again.
                pending = [i for i in items if not self._has_value(i, key)]
                if pending:
                    args = get_argument_values(
                        field,
                        first.node,
                        self.variable_values,
                        first.fragment_variable_values,
                        self.hide_suggestions,
                    )
                    jobs.append(_Job(batch, key, pending, args, field.type, sub_details))
                continue
            attribute = field.extensions.get(PLAIN_ATTRIBUTE)
            nested = get_nullable_type(field.type)
            if (
                attribute is not None
                and isinstance(nested, GraphQLObjectType)
                and _may_batch(nested)
            ):
                children = [c for c in (getattr(i, attribute) for i in items) if c is not None]
                if children:
                    jobs.extend(self._plan(nested, sub_details, children))
        return jobs

    def _has_value(self, item: Any, key: int) -> bool:
        hit = self._store.get((id(item), key))
        return hit is not None and hit[0] is item

    async def _prefetch(self, context: Any, jobs: list[_Job]) -> None:
        """Run the jobs, then, round after round, the batch fields selected beneath what they
        loaded (``hits { service { provider } }``: the services, then their providers), so
        nested entities are loaded once per level instead of once per parent."""
        store, root = self._store, self.root_value
        while jobs:
            results = await asyncio.gather(
                *(job.batch(context, job.items, job.args) for job in jobs),
                return_exceptions=True,
            )
            nested: list[_Job] = []
            for job, values in zip(jobs, results, strict=True):
                if isinstance(values, BaseException):
                    continue  # each item's own resolver runs, and reports, as before
                for item, value in zip(job.items, values, strict=True):
                    store[(id(item), job.key)] = (item, context, root, value)
                nested.extend(self._plan_beneath(job, values))
            jobs = nested

    def _plan_beneath(self, job: _Job, values: Sequence[Any]) -> list[_Job]:
        returned = get_nullable_type(job.field_type)
        if isinstance(returned, GraphQLList):
            returned = get_nullable_type(returned.of_type)
            values = [v for value in values if value for v in value]
        objects = {id(v): v for v in values if v is not None}  # each object once
        if not objects or not isinstance(returned, GraphQLObjectType):
            return []
        return self._plan(returned, job.details, list(objects.values()))
