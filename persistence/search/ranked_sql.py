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
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import TextClause
from sqlalchemy.sql.selectable import CompoundSelect, TableValuedAlias

from persistence.models import SearchDocument
from persistence.search.ranked import RankedQuery


def _weight(value: float) -> ColumnElement[float]:
    return literal(value, Float())


def ranked_page_statement(
    scored: Select[SearchDocument, float], ask: RankedQuery
) -> Select[SearchDocument, float]:
    """``scored`` selects the filtered matching documents with a ``text_score`` column."""
    hits = scored.subquery("hits")
    best = func.max(hits.c.text_score).over()
    relevance = case((best > 0, hits.c.text_score / best), else_=0.0).label("relevance")
    ranked = select(hits, relevance).subquery("ranked")
    doc = aliased(SearchDocument, ranked)
    w = ask.weights
    score = (
        _weight(w.relevance) * ranked.c.relevance
        + _weight(w.popularity) * ranked.c.popularity_factor
        + _weight(w.performance) * ranked.c.performance_factor
        + _weight(w.compliance) * ranked.c.compliance_factor
    )
    # Every order ends with the service id, so equal scores still page deterministically.
    order: list[ColumnElement[Any]]
    if ask.sort == "POPULARITY":
        order = [ranked.c.usage_count.desc(), score.desc()]
    elif ask.sort == "NEWEST":
        order = [ranked.c.created_at.desc()]
    elif ask.sort == "PRICE_ASC":
        order = [ranked.c.price_per_1k.is_(None), ranked.c.price_per_1k, score.desc()]
    else:
        order = [score.desc()]
    return (
        select(doc, ranked.c.relevance)
        .order_by(*order, ranked.c.service_id)
        .limit(ask.limit)
        .offset(ask.offset)
    )


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
