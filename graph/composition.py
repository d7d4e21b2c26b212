"""In-process composition of the subgraphs into the one schema served at ``/graphql``.

Each subgraph is a real Federation v2 subgraph: its own ``strawberry.federation.Schema`` in
which ``Service`` holds the key plus that subgraph's fields. The composed schema is built from
those same schemas, so no type is declared twice:

* named types are merged by name: an entity becomes one object type with every subgraph's
  fields; shared value types (``PageInfo``, enums, scalars) must agree and are taken once;
* federation plumbing (``_entities``, ``_service``, ``_Any``…) is left out;
* a field that returns an entity owned by another subgraph (``Service.similar``, a search hit's
  ``service``) returns a key-only stub in its own subgraph; here its result is passed through
  the owner's batched reference loader. That is the one "query plan" step a router would do
  over the network (an ``_entities`` fetch), done in-process through a DataLoader instead;
* a field may also have a batch form (``Subgraph.batch_resolvers``): the composed schema's
  executor then resolves it once for a whole list (graph/look_ahead.py).

graphql-core has no schema-merge utility, so the type rebuild is written here, after the
pattern of ``graphql.utilities.lexicographic_sort_schema``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import strawberry
from graphql import (
    GraphQLArgument,
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLResolveInfo,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLType,
    GraphQLUnionType,
    get_named_type,
    get_nullable_type,
    is_introspection_type,
    print_schema,
    specified_directives,
    validate_schema,
)
from graphql.pyutils import is_awaitable

from graph.look_ahead import (
    BATCH,
    PLAIN_ATTRIBUTE,
    PLAIN_LEAF,
    BatchResolver,
    LookAheadExecutor,
    PlainLeaf,
    prefetchable,
)

# Federation's own types and root fields never appear in the composed schema.
FEDERATION_TYPES = frozenset({"_Any", "_Entity", "_Service", "FieldSet", "link__Import"})
FEDERATION_ROOT_FIELDS = frozenset({"_entities", "_service"})

EntityLoader = Callable[[Any, list[str]], Awaitable[Sequence[Any]]]
"""Loads entities by key: (GraphQL context, ids) -> the owner's objects (None where missing),
in the order of the ids. Batch-shaped so a list of stubs is one call (no task per stub)."""


@dataclass(frozen=True)
class Subgraph:
    """A subgraph as composition sees it: its schema and the entities it owns."""

    name: str
    schema: strawberry.federation.Schema
    entity_loaders: Mapping[str, EntityLoader] = field(default_factory=dict)
    # "Type.field" -> the field's batch form, used by the composed schema's look-ahead
    # (graph/look_ahead.py); the subgraph's own schema resolves per object as before.
    batch_resolvers: Mapping[str, BatchResolver] = field(default_factory=dict)


class CompositionError(Exception):
    """The subgraphs disagree about a shared type or field."""


def compose(subgraphs: Sequence[Subgraph]) -> GraphQLSchema:
    """Merge the subgraphs' GraphQL schemas into one executable schema."""
    return _Composer(subgraphs).build()


class _Composer:
    def __init__(self, subgraphs: Sequence[Subgraph]) -> None:
        self.subgraphs = subgraphs
        self.owner: dict[str, str] = {}
        self.loaders: dict[str, EntityLoader] = {}
        for subgraph in subgraphs:
            for entity, loader in subgraph.entity_loaders.items():
                if entity in self.owner:
                    raise CompositionError(
                        f"entity {entity} is owned by both {self.owner[entity]} and {subgraph.name}"
                    )
                self.owner[entity] = subgraph.name
                self.loaders[entity] = loader
        # name -> [(subgraph name, type)] in subgraph order
        self.sources: dict[str, list[tuple[str, GraphQLNamedType]]] = {}
        for subgraph in subgraphs:
            for name, named in subgraph.schema._schema.type_map.items():
                if name in FEDERATION_TYPES or is_introspection_type(named):
                    continue
                self.sources.setdefault(name, []).append((subgraph.name, named))
        self.built: dict[str, GraphQLNamedType] = {}
        self.batch: dict[tuple[str, str], BatchResolver] = {}
        for subgraph in subgraphs:
            for coordinate, batch in subgraph.batch_resolvers.items():
                _check_batchable(subgraph, coordinate)
                self.batch[(subgraph.name, coordinate)] = batch

    def build(self) -> GraphQLSchema:
        for name in self.sources:
            self.built[name] = self._build_named(name)
        schema = GraphQLSchema(
            query=cast(GraphQLObjectType, self.built["Query"]),
            mutation=cast(GraphQLObjectType | None, self.built.get("Mutation")),
            subscription=cast(GraphQLObjectType | None, self.built.get("Subscription")),
            types=list(self.built.values()),
            directives=specified_directives,
        )
        errors = validate_schema(schema)
        if errors:
            raise CompositionError("; ".join(e.message for e in errors))
        return schema

    # --- type references -----------------------------------------------------------------

    def _ref(self, type_: GraphQLType) -> Any:
        if isinstance(type_, GraphQLNonNull):
            return GraphQLNonNull(self._ref(type_.of_type))
        if isinstance(type_, GraphQLList):
            return GraphQLList(self._ref(type_.of_type))
        return self.built[cast(GraphQLNamedType, type_).name]

    # --- named types ---------------------------------------------------------------------

    def _build_named(self, name: str) -> GraphQLNamedType:
        sources = self.sources[name]
        first = sources[0][1]
        if isinstance(first, GraphQLScalarType | GraphQLEnumType):
            self._check_same_shape(name, sources)
            return first  # leaf types hold no references to rebuild
        if isinstance(first, GraphQLObjectType):
            return GraphQLObjectType(
                name=name,
                fields=lambda: self._merge_object_fields(name, sources),
                interfaces=lambda: [
                    cast(GraphQLInterfaceType, self.built[i.name]) for i in first.interfaces
                ],
                is_type_of=first.is_type_of if len(sources) == 1 else None,
                description=first.description,
                extensions=first.extensions,
            )
        if isinstance(first, GraphQLInputObjectType):
            self._check_same_shape(name, sources)
            return GraphQLInputObjectType(
                name=name,
                fields=lambda: {
                    fname: GraphQLInputField(
                        self._ref(f.type),
                        default_value=f.default_value,
                        description=f.description,
                        deprecation_reason=f.deprecation_reason,
                        out_name=f.out_name,
                        extensions=f.extensions,
                    )
                    for fname, f in first.fields.items()
                },
                out_type=first.out_type,
                description=first.description,
                extensions=first.extensions,
                is_one_of=first.is_one_of,
            )
        if isinstance(first, GraphQLInterfaceType):
            return GraphQLInterfaceType(
                name=name,
                fields=lambda: self._merge_object_fields(name, sources),
                resolve_type=first.resolve_type,
                description=first.description,
                extensions=first.extensions,
            )
        if isinstance(first, GraphQLUnionType):
            return GraphQLUnionType(
                name=name,
                types=lambda: [cast(GraphQLObjectType, self.built[t.name]) for t in first.types],
                resolve_type=first.resolve_type,
                description=first.description,
                extensions=first.extensions,
            )
        raise CompositionError(f"cannot compose type {name} of kind {type(first).__name__}")

    @staticmethod
    def _check_same_shape(name: str, sources: list[tuple[str, GraphQLNamedType]]) -> None:
        def shape(named: GraphQLNamedType) -> Any:
            if isinstance(named, GraphQLEnumType):
                return sorted(named.values)
            if isinstance(named, GraphQLInputObjectType):
                return sorted((k, str(f.type)) for k, f in named.fields.items())
            return None

        expected = shape(sources[0][1])
        for subgraph, named in sources[1:]:
            if shape(named) != expected:
                raise CompositionError(
                    f"{name} in {subgraph} differs from {name} in {sources[0][0]}"
                )

    def _merge_object_fields(
        self, type_name: str, sources: list[tuple[str, GraphQLNamedType]]
    ) -> dict[str, GraphQLField]:
        merged: dict[str, GraphQLField] = {}
        origin: dict[str, str] = {}
        owner = self.owner.get(type_name)
        # The owner's definition of a shared field (the key) wins; the rest come in order.
        ordered = sorted(sources, key=lambda s: s[0] != owner)
        for subgraph, named in ordered:
            for fname, fdef in cast(GraphQLObjectType, named).fields.items():
                if type_name == "Query" and fname in FEDERATION_ROOT_FIELDS:
                    continue
                if fname in merged:
                    if str(fdef.type) != str(merged[fname].type):
                        raise CompositionError(
                            f"{type_name}.{fname}: {fdef.type} in {subgraph} but "
                            f"{merged[fname].type} in {origin[fname]}"
                        )
                    continue
                merged[fname] = self._rebuild_field(subgraph, f"{type_name}.{fname}", fdef)
                origin[fname] = subgraph
        return merged

    def _rebuild_field(self, subgraph: str, coordinate: str, fdef: GraphQLField) -> GraphQLField:
        returns = get_named_type(fdef.type).name
        extensions = dict(fdef.extensions or {})
        attribute = _plain_attribute_name(fdef)
        resolve = _read_attribute(attribute) if attribute is not None else fdef.resolve
        if attribute is not None:
            extensions[PLAIN_ATTRIBUTE] = attribute
            nullable = get_nullable_type(fdef.type)
            if isinstance(nullable, GraphQLScalarType | GraphQLEnumType):
                leaf_type = self._ref(nullable)
                non_null = nullable is not fdef.type
                extensions[PLAIN_LEAF] = PlainLeaf(attribute, leaf_type, non_null)
        batch = self.batch.get((subgraph, coordinate))
        owner = self.owner.get(returns)
        if owner is not None and owner != subgraph and resolve is not None:
            resolve = _materialising(resolve, self.loaders[returns])
            if batch is not None:
                batch = _materialising_batch(batch, self.loaders[returns])
        if batch is not None and resolve is not None:
            resolve = prefetchable(resolve)
            extensions[BATCH] = batch
        return GraphQLField(
            self._ref(fdef.type),
            args={
                aname: GraphQLArgument(
                    self._ref(a.type),
                    default_value=a.default_value,
                    description=a.description,
                    deprecation_reason=a.deprecation_reason,
                    out_name=a.out_name,
                    extensions=a.extensions,
                )
                for aname, a in fdef.args.items()
            },
            resolve=resolve,
            subscribe=fdef.subscribe,
            description=fdef.description,
            deprecation_reason=fdef.deprecation_reason,
            extensions=extensions,
        )


def _check_batchable(subgraph: Subgraph, coordinate: str) -> None:
    """A batch form must name a field of the subgraph that has no permission or extension:
    the look-ahead calls it directly, so it would bypass them."""
    type_name, _, field_name = coordinate.partition(".")
    named = subgraph.schema._schema.type_map.get(type_name)
    fdef = named.fields.get(field_name) if isinstance(named, GraphQLObjectType) else None
    if fdef is None:
        raise CompositionError(f"{subgraph.name} has no field {coordinate} for its batch form")
    definition = (fdef.extensions or {}).get("strawberry-definition")
    if getattr(definition, "permission_classes", None) or getattr(definition, "extensions", None):
        raise CompositionError(f"{coordinate} is guarded: it cannot have a batch form")


def _plain_attribute_name(fdef: GraphQLField) -> str | None:
    """The attribute a Strawberry field without resolver, permission or extension reads.

    Strawberry resolves such a field through a wrapper, ``StrawberryField.get_result`` and then
    its default resolver: three Python calls for what is one ``getattr``, on most fields of
    every response. The result is the same; only fields whose default resolver is ``getattr``
    (Strawberry's default) are replaced.
    """
    if not getattr(fdef.resolve, "_is_default", False):
        return None
    definition = (fdef.extensions or {}).get("strawberry-definition")
    name = getattr(definition, "python_name", None)
    if not isinstance(name, str) or getattr(definition, "default_resolver", None) is not getattr:
        return None
    return name


def _read_attribute(name: str) -> Callable[..., Any]:
    """The composed resolver of a plain field (see ``_plain_attribute_name``)."""

    def resolve(source: Any, _info: GraphQLResolveInfo, **_args: Any) -> Any:
        return getattr(source, name)

    return resolve


def _materialising(
    resolve: Callable[..., Any], load: EntityLoader
) -> Callable[..., Awaitable[Any]]:
    """Wrap a resolver whose result holds key-only entity stubs: load the owner's objects."""

    async def resolver(source: Any, info: GraphQLResolveInfo, **kwargs: Any) -> Any:
        result = resolve(source, info, **kwargs)
        if is_awaitable(result):
            result = await result
        return await _materialise(result, info.context, load)

    return resolver


async def _materialise(value: Any, context: Any, load: EntityLoader) -> Any:
    if value is None:
        return None
    if not isinstance(value, list | tuple):
        return (await load(context, [str(value.id)]))[0]
    if any(isinstance(v, list | tuple) for v in value):  # nested lists: one call per list
        return list(await asyncio.gather(*(_materialise(v, context, load) for v in value)))
    # A flat list of stubs is one call: the owner's loader takes every key at once, without
    # a coroutine and task per stub (a task per stub was a visible share of the loop's work).
    present = [str(v.id) for v in value if v is not None]
    loaded = iter(await load(context, present) if present else ())
    return [None if v is None else next(loaded) for v in value]


def _materialising_batch(batch: BatchResolver, load: EntityLoader) -> BatchResolver:
    """A batch resolver whose values hold key-only stubs: one owner load for all of them."""

    async def resolver(context: Any, sources: list[Any], args: dict[str, Any]) -> list[Any]:
        values = list(await batch(context, sources, args))
        stubs = [
            stub
            for value in values
            for stub in (value if isinstance(value, list | tuple) else [value])
            if stub is not None
        ]
        # Each key once (the same service is often similar to several on a page), as a router
        # dedupes an _entities fetch's representations; repeats share the loaded object.
        keys = list(dict.fromkeys(str(stub.id) for stub in stubs))
        loaded = dict(zip(keys, await load(context, keys) if keys else (), strict=True))
        return [
            None
            if value is None
            else [None if s is None else loaded[str(s.id)] for s in value]
            if isinstance(value, list | tuple)
            else loaded[str(value.id)]
            for value in values
        ]

    return resolver


@strawberry.type
class _Bootstrap:
    ok: bool = True


class ComposedSchema(strawberry.Schema):
    """A Strawberry schema whose executable GraphQL schema is the composition of subgraphs.

    Strawberry's machinery (extensions, HTTP and WebSocket integrations, error handling) runs
    unchanged; only the underlying ``GraphQLSchema`` is the composed one.
    """

    def __init__(self, subgraphs: Sequence[Subgraph], **kwargs: Any) -> None:
        # Strawberry needs a root type to set itself up; the GraphQL schema is then replaced.
        # The look-ahead executor (graph/look_ahead.py) runs the subgraphs' batch resolvers.
        kwargs.setdefault("execution_context_class", LookAheadExecutor)
        super().__init__(query=_Bootstrap, **kwargs)
        self._schema = compose(subgraphs)
        self._schema._strawberry_schema = self  # type: ignore[attr-defined]
        self.subgraphs = tuple(subgraphs)
        mutations = [s.schema.mutation for s in subgraphs if s.schema.mutation]
        subscriptions = [s.schema.subscription for s in subgraphs if s.schema.subscription]
        self.mutation = mutations[0] if mutations else None
        self.subscription = subscriptions[0] if subscriptions else None
        for subgraph in subgraphs:
            for name, concrete in subgraph.schema.schema_converter.type_map.items():
                self.schema_converter.type_map.setdefault(name, concrete)

    def as_str(self) -> str:
        return print_schema(self._schema)

    __str__ = as_str
