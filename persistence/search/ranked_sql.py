"""The SQL of a ranked search on the built-in engines (SQLite and PostgreSQL alike).

The page statement scores every hit inside the database: the engine's text score divided by
the best one of the result (a window ``MAX``, so relevance keeps its meaning of "fraction of
the best match", exactly as the in-Python reference computes it), plus the stored
query-independent factors, each times its weight; then ``ORDER BY … LIMIT … OFFSET``. Only
one page of rows leaves the database. Facets are one statement too: the filtered matches as a
CTE and one ``GROUP BY`` per facet, ``UNION ALL``-ed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Float,
    Select,
    case,
    distinct,
    func,
    literal,
    select,
    true,
    union_all,
)
from sqlalchemy.sql.elements import TextClause
from sqlalchemy.sql.selectable import CompoundSelect, Subquery, TableValuedAlias

from persistence.models import SearchDocument
from persistence.search.ranked import RankedQuery


def _weight(value: float) -> ColumnElement[float]:
    return literal(value, Float())


# A select of any columns (the page statement and its input have several).
AnySelect = Select[*tuple[Any, ...]]

# What the ranking reads of each hit: its key and the sort and score columns. Only these are
# carried through the window and the sort; the full rows are read for the page alone.
_d = SearchDocument
RANK_COLUMNS = (
    _d.service_id,
    _d.usage_count,
    _d.created_at,
    _d.price_per_1k,
    _d.popularity_factor,
    _d.performance_factor,
    _d.compliance_factor,
)


def ranked_page_statement(scored: AnySelect, ask: RankedQuery) -> AnySelect:
    """``scored`` selects ``RANK_COLUMNS`` of the filtered matching documents with a
    ``text_score`` column; the answer is the page's documents, each with its relevance."""
    hits = scored.subquery("hits")
    best = func.max(hits.c.text_score).over()
    relevance = case((best > 0, hits.c.text_score / best), else_=0.0)
    w = ask.weights
    score = (
        _weight(w.relevance) * relevance
        + _weight(w.popularity) * hits.c.popularity_factor
        + _weight(w.performance) * hits.c.performance_factor
        + _weight(w.compliance) * hits.c.compliance_factor
    )
    ranked = select(
        *(hits.c[c.key] for c in RANK_COLUMNS), relevance.label("relevance"), score.label("score")
    ).subquery("ranked")
    page = (
        select(ranked)
        .order_by(*_order(ranked, ask))
        .limit(ask.limit)
        .offset(ask.offset)
        .subquery("page")
    )
    return (
        select(SearchDocument, page.c.relevance)
        .join(page, SearchDocument.service_id == page.c.service_id)
        .order_by(*_order(page, ask))
    )


def _order(ranked: Subquery, ask: RankedQuery) -> list[ColumnElement[Any]]:
    # Every order ends with the service id, so equal scores still page deterministically.
    c = ranked.c
    order: list[ColumnElement[Any]]
    if ask.sort == "POPULARITY":
        order = [c.usage_count.desc(), c.score.desc()]
    elif ask.sort == "NEWEST":
        order = [c.created_at.desc()]
    elif ask.sort == "PRICE_ASC":
        order = [c.price_per_1k.is_(None), c.price_per_1k, c.score.desc()]
    else:
        order = [c.score.desc()]
    return [*order, c.service_id]


def facet_counts_statement(
    where: Sequence[ColumnElement[bool] | TextClause],
    tag_elements: Callable[[ColumnElement[Any]], TableValuedAlias],
) -> CompoundSelect:
    """Rows of (facet, value, count) over the documents passing ``where``."""
    d = SearchDocument
    hits = (
        select(d.service_id, d.category, d.tags, d.provider_id, d.pricing_model)
        .where(*where)
        .cte("facet_hits")
    )
    tag = tag_elements(hits.c.tags)

    def by(kind: str, column: ColumnElement[Any]) -> Select[Any]:
        return select(literal(kind).label("kind"), column.label("value"), func.count()).group_by(
            column
        )

    return union_all(
        by("categories", hits.c.category),
        by("providers", hits.c.provider_id),
        by("pricing_models", hits.c.pricing_model).where(hits.c.pricing_model.is_not(None)),
        # A tag listed twice on one service counts once for it.
        select(
            literal("tags").label("kind"),
            tag.c.value.label("value"),
            func.count(distinct(hits.c.service_id)),
        )
        .select_from(hits)
        .join(tag, true())
        .group_by(tag.c.value),
    )
