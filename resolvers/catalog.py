"""Catalog reads: services and providers, paged with keyset cursors, and their loaders."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from typing import Any, Generic, TypeVar

import semver
from sqlalchemy import ColumnElement, Select, Text, and_, bindparam, exists, func, select, tuple_
from sqlalchemy.dialects.postgresql import ARRAY

from graph.errors import bad_input
from persistence.models import Provider, Service, ServicePricing, ServiceStatus, ServiceVersion
from persistence.models.records import ServiceRecord
from resolvers.db import RequestDB, records_by_unique_key
from resolvers.pagination import PageArgs

# What a catalog listing shows when the caller does not filter by status.
LISTED_STATUSES = (ServiceStatus.ACTIVE, ServiceStatus.DEPRECATED)


@dataclass(frozen=True)
class ServiceFilter:
    categories: tuple[str, ...] = ()
    statuses: tuple[ServiceStatus, ...] = ()
    provider_ids: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()


T = TypeVar("T")


@dataclass
class Page(Generic[T]):
    """One page of rows plus how to count the whole result only if somebody asks."""

    rows: list[T]
    has_next: bool
    has_previous: bool
    count_statement: Select[Any] | None = field(default=None, repr=False)
    count_params: dict[str, Any] = field(default_factory=dict, repr=False)


# Listings read Core rows of the table (persistence/models/records.py), so their clauses are
# on its columns: an ORM attribute anywhere in a statement sends it through the ORM's
# compilation and execution.
_services = Service.__table__
_s = _services.c


@dataclass(frozen=True)
class _Shape:
    """Which clauses a listing has. Its statements are built once per shape, with the values
    bound at execution: building the listing and its cache key on every request cost ≈ 120 µs
    of its ≈ 260 (docs/performance.md, "Seventh pass")."""

    postgres: bool
    categories: bool
    provider_ids: bool
    tags: bool
    after: bool


@cache
def _clauses(shape: _Shape) -> tuple[ColumnElement[bool], ...]:
    clauses: list[ColumnElement[bool]] = [_s.status.in_(bindparam("statuses", expanding=True))]
    if shape.categories:
        clauses.append(_s.category.in_(bindparam("categories", expanding=True)))
    if shape.provider_ids:
        clauses.append(_s.provider_id.in_(bindparam("provider_ids", expanding=True)))
    if shape.tags and shape.postgres:
        clauses.append(_s.tags.op("?|")(bindparam("tags", type_=ARRAY(Text()))))
    elif shape.tags:
        each = func.json_each(_s.tags).table_valued("value")
        tag_in = each.c.value.in_(bindparam("tags", expanding=True))
        clauses.append(exists(select(1).select_from(each).where(tag_in)))
    if shape.after:
        after = tuple_(bindparam("after_name"), bindparam("after_id"))
        clauses.append(tuple_(_s.name, _s.id) > after)
    return tuple(clauses)


@cache
def _listing(shape: _Shape) -> tuple[Select[Any], Select[Any]]:
    """The page statement (``limit`` bound too) and the count statement (every page's: without
    the cursor's clause) of a shape."""
    page = select(_services).where(*_clauses(shape)).order_by(_s.name, _s.id)
    whole = _clauses(replace(shape, after=False))
    return (
        page.limit(bindparam("limit")),
        select(func.count()).select_from(_services).where(*whole),
    )


def _filtered(
    db: RequestDB, flt: ServiceFilter, after: tuple[Any, ...] | None = None
) -> tuple[tuple[ColumnElement[bool], ...], _Shape, dict[str, Any]]:
    """The listing clauses of ``flt`` (and of a keyset cursor), their shape and their values."""
    bind = db.session.bind
    shape = _Shape(
        postgres=bind is not None and bind.dialect.name == "postgresql",
        categories=bool(flt.categories),
        provider_ids=bool(flt.provider_ids),
        tags=bool(flt.tags),
        after=after is not None,
    )
    params: dict[str, Any] = {"statuses": [s.value for s in flt.statuses or LISTED_STATUSES]}
    if flt.categories:
        params["categories"] = list(flt.categories)
    if flt.provider_ids:
        params["provider_ids"] = list(flt.provider_ids)
    if flt.tags:
        params["tags"] = list(flt.tags)
    if after is not None:
        if len(after) != 2 or not all(isinstance(part, str) for part in after):
            raise bad_input("Invalid cursor.", field="after")
        params["after_name"], params["after_id"] = after
    return _clauses(shape), shape, params


def service_cursor_key(service: ServiceRecord) -> list[str]:
    return [service.name, service.id]


async def list_services(db: RequestDB, flt: ServiceFilter, page: PageArgs) -> Page[ServiceRecord]:
    _, shape, params = _filtered(db, flt, page.after)
    statement, count_statement = _listing(shape)
    rows: list[ServiceRecord] = (
        list(await db.rows(statement, {**params, "limit": page.first + 1})) if page.first else []
    )
    return Page(
        rows=rows[: page.first],
        has_next=len(rows) > page.first,
        has_previous=page.after is not None,
        count_statement=count_statement,
        count_params={k: v for k, v in params.items() if not k.startswith("after_")},
    )


async def list_providers(db: RequestDB, page: PageArgs) -> Page[Provider]:
    stmt = select(Provider).order_by(Provider.name, Provider.id).limit(page.first + 1)
    if page.after is not None:
        if len(page.after) != 2:
            raise bad_input("Invalid cursor.", field="after")
        stmt = stmt.where(tuple_(Provider.name, Provider.id) > tuple_(*page.after))
    rows = list(await db.scalars(stmt)) if page.first else []
    return Page(
        rows=rows[: page.first],
        has_next=len(rows) > page.first,
        has_previous=page.after is not None,
        count_statement=select(func.count()).select_from(Provider),
    )


async def count(db: RequestDB, page: Page[Any]) -> int:
    assert page.count_statement is not None
    return int(await db.scalar(page.count_statement, page.count_params) or 0)


# --- batch functions behind the DataLoaders (one statement per batch) ---------------------


services_by_id = records_by_unique_key(_services, "id")
services_by_slug = records_by_unique_key(_services, "slug")
providers_by_id = records_by_unique_key(Provider.__table__, "id")
providers_by_slug = records_by_unique_key(Provider.__table__, "slug")


def semver_key(version: str) -> semver.Version:
    try:
        return semver.Version.parse(version)
    except ValueError:
        return semver.Version(0)


async def versions_by_service(
    db: RequestDB, service_ids: Sequence[str]
) -> list[list[ServiceVersion]]:
    rows = await db.scalars(
        select(ServiceVersion).where(ServiceVersion.service_id.in_(set(service_ids)))
    )
    grouped: dict[str, list[ServiceVersion]] = defaultdict(list)
    for row in rows:
        grouped[row.service_id].append(row)
    for versions in grouped.values():
        versions.sort(key=lambda v: semver_key(v.version), reverse=True)
    return [grouped.get(i, []) for i in service_ids]


def pricing_history_statement(service_ids: Sequence[str]) -> Select[ServicePricing]:
    """Every price list of the given services, oldest first."""
    return (
        select(ServicePricing)
        .where(ServicePricing.service_id.in_(set(service_ids)))
        .order_by(ServicePricing.effective_from)
    )


def in_force(history: Iterable[ServicePricing]) -> dict[str, ServicePricing]:
    """The price list in force per service: the newest of an oldest-first history."""
    return {row.service_id: row for row in history}  # later rows overwrite earlier ones


async def pricing_by_service(
    db: RequestDB, service_ids: Sequence[str]
) -> list[ServicePricing | None]:
    latest = in_force(await db.scalars(pricing_history_statement(service_ids)))
    return [latest.get(i) for i in service_ids]


ProviderServicesKey = tuple[str, int, tuple[Any, ...] | None]


async def services_page_by_provider(
    db: RequestDB, keys: Sequence[ProviderServicesKey]
) -> list[Page[ServiceRecord]]:
    """``Provider.services(first, after)`` for many providers: one statement per (first, after).

    A window function numbers each provider's services, so a single query returns the first
    ``first + 1`` rows of every provider at once.
    """
    groups: dict[tuple[int, tuple[Any, ...] | None], set[str]] = defaultdict(set)
    for provider_id, first, after in keys:
        groups[(first, after)].add(provider_id)
    results: dict[ProviderServicesKey, Page[ServiceRecord]] = {}
    for (first, after), provider_ids in groups.items():
        clauses, _, params = _filtered(db, ServiceFilter(provider_ids=tuple(provider_ids)), after)
        numbered = (
            select(
                _services,
                func.row_number()
                .over(partition_by=_s.provider_id, order_by=(_s.name, _s.id))
                .label("rn"),
            )
            .where(and_(*clauses))
            .subquery()
        )
        rows = await db.rows(
            select(numbered)
            .where(numbered.c.rn <= first + 1)
            .order_by(numbered.c.provider_id, numbered.c.rn),
            params,
        )
        by_provider: dict[str, list[ServiceRecord]] = defaultdict(list)
        for row in rows:
            by_provider[row.provider_id].append(row)
        for provider_id in provider_ids:
            found = by_provider.get(provider_id, [])
            results[(provider_id, first, after)] = Page(
                rows=found[:first], has_next=len(found) > first, has_previous=after is not None
            )
    return [results[key] for key in keys]


async def service_counts_by_provider(db: RequestDB, provider_ids: Sequence[str]) -> list[int]:
    clauses, _, params = _filtered(db, ServiceFilter(provider_ids=tuple(provider_ids)))
    result = await db.execute(
        select(_s.provider_id, func.count()).where(*clauses).group_by(_s.provider_id), params
    )
    counts = {provider_id: n for provider_id, n in result.all()}
    return [int(counts.get(i, 0)) for i in provider_ids]


# The catalog's category list: a published service must use one of these.
CATEGORIES = (
    "text-generation",
    "chat",
    "embeddings",
    "moderation",
    "translation",
    "speech-to-text",
    "text-to-speech",
    "vision",
    "image-generation",
    "code",
    "summarization",
    "reranking",
)
