"""Measure an operation before it runs: depth, aliases, root fields and estimated cost.

graphql-core has no cost analysis and strawberry's depth/alias limiters report errors without
a stable ``code``, so one walk over the selected operation measures everything at once.
The walk follows fragments (a fragment on the current path is not entered again, so a
fragment cycle cannot loop; standard validation reports the cycle itself) and skips fields
of unknown types (validation reports those too).

Cost model, after the IBM ``@cost``/``@listSize`` directives that Apollo demand control uses:

* a field returning an object costs 1 plus its children; a scalar or enum costs 0;
* a list multiplies its children by its estimated size: the value of a slicing argument
  (``first``, ``last``, ``limit``, ``size``; literal or variable) when given, else
  ``default_list_size``. A connection (an object with ``edges``/``nodes``) passes its slicing
  argument down to those list fields;
* a field may set its own weight and list size through strawberry ``metadata``:
  ``@strawberry.field(metadata={"cost": 5, "list_size": 50})``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    get_named_type,
    is_composite_type,
    value_from_ast_untyped,
)
from graphql.type import GraphQLCompositeType

SLICING_ARGUMENTS = ("first", "last", "limit", "size")
SIZED_CHILDREN = frozenset({"edges", "nodes"})


@dataclass(frozen=True)
class OperationMeasure:
    depth: int
    aliases: int
    root_fields: int
    cost: int


def measure_operation(
    schema: GraphQLSchema,
    operation: OperationDefinitionNode,
    fragments: dict[str, FragmentDefinitionNode],
    variables: dict[str, Any] | None,
    *,
    default_list_size: int,
) -> OperationMeasure:
    walker = _Walker(schema, fragments, variables or {}, default_list_size)
    root = schema.get_root_type(operation.operation)
    depth, cost = walker.selection_set(operation.selection_set, root, 0, None, frozenset())
    return OperationMeasure(
        depth=depth,
        aliases=walker.aliases,
        root_fields=walker.count_fields(operation.selection_set, frozenset()),
        cost=cost,
    )


def _is_list(type_: Any) -> bool:
    if isinstance(type_, GraphQLNonNull):
        type_ = type_.of_type
    return isinstance(type_, GraphQLList)


def _metadata(field: GraphQLField) -> dict[str, Any]:
    definition = (field.extensions or {}).get("strawberry-definition")
    return dict(getattr(definition, "metadata", None) or {})


class _Walker:
    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: dict[str, FragmentDefinitionNode],
        variables: dict[str, Any],
        default_list_size: int,
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables
        self.default_list_size = default_list_size
        self.aliases = 0

    def count_fields(self, selection_set: SelectionSetNode, seen: frozenset[str]) -> int:
        count = 0
        for selection in selection_set.selections or ():
            if isinstance(selection, FieldNode):
                count += 1
            elif isinstance(selection, InlineFragmentNode):
                count += self.count_fields(selection.selection_set, seen)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is not None and name not in seen:
                    count += self.count_fields(fragment.selection_set, seen | {name})
        return count

    def selection_set(
        self,
        selection_set: SelectionSetNode,
        parent: GraphQLCompositeType | None,
        depth: int,
        inherited_size: int | None,
        seen: frozenset[str],
    ) -> tuple[int, int]:
        """(deepest field depth below, cost) of one selection set at ``depth``."""
        deepest, cost = depth, 0
        for selection in selection_set.selections or ():
            if isinstance(selection, FieldNode):
                d, c = self.field(selection, parent, depth + 1, inherited_size, seen)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                target = self.schema.get_type(condition.name.value) if condition else parent
                d, c = self.selection_set(
                    selection.selection_set, _composite(target), depth, inherited_size, seen
                )
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is None or name in seen:
                    continue
                target = self.schema.get_type(fragment.type_condition.name.value)
                d, c = self.selection_set(
                    fragment.selection_set, _composite(target), depth, inherited_size, seen | {name}
                )
            else:  # pragma: no cover - the grammar has no other selection kind
                continue
            deepest, cost = max(deepest, d), cost + c
        return deepest, cost

    def field(
        self,
        node: FieldNode,
        parent: GraphQLCompositeType | None,
        depth: int,
        inherited_size: int | None,
        seen: frozenset[str],
    ) -> tuple[int, int]:
        if node.alias is not None:
            self.aliases += 1
        definition = _field_definition(parent, node.name.value)
        if definition is None:
            # Unknown field (validation reports it) or __typename: measure the shape anyway.
            if node.selection_set is None:
                return depth, 0
            return self.selection_set(node.selection_set, None, depth, None, seen)
        named = get_named_type(definition.type)
        if node.selection_set is None or not is_composite_type(named):
            return depth, 0
        meta = _metadata(definition)
        weight = int(meta.get("cost", 1))
        size = self._slice_size(node, definition, meta)
        multiplier = 1
        passed_down: int | None = None
        if _is_list(definition.type):
            from_connection = inherited_size if node.name.value in SIZED_CHILDREN else None
            multiplier = size if size is not None else from_connection or self.default_list_size
        elif size is not None:
            passed_down = size  # a connection: its edges/nodes lists are this size
        child_depth, child_cost = self.selection_set(
            node.selection_set,
            _composite(named),
            depth,
            passed_down,
            seen,
        )
        return child_depth, multiplier * (weight + child_cost)

    def _slice_size(
        self, node: FieldNode, definition: GraphQLField, meta: dict[str, Any]
    ) -> int | None:
        for argument in node.arguments or ():
            if argument.name.value in SLICING_ARGUMENTS:
                value = value_from_ast_untyped(argument.value, self.variables)
                if isinstance(value, int) and not isinstance(value, bool):
                    return max(value, 0)
        if "list_size" in meta:
            return int(meta["list_size"])
        for name in SLICING_ARGUMENTS:
            arg = definition.args.get(name)
            if arg is not None and isinstance(arg.default_value, int):
                return int(arg.default_value)
        return None


def _composite(type_: Any) -> GraphQLCompositeType | None:
    return type_ if is_composite_type(type_) else None


def _field_definition(parent: GraphQLCompositeType | None, name: str) -> GraphQLField | None:
    fields = getattr(parent, "fields", None)  # unions have no fields of their own
    return fields.get(name) if fields else None
