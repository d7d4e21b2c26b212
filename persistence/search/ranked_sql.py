"""The SQL of a ranked search on the built-in engines (SQLite and PostgreSQL alike).

One statement per search. The filtered matches are computed once, as a materialised CTE
holding each hit's key, text score, sort and score columns and facet fields; the engine's
text score (FTS5 ``bm25()``, ``ts_rank``) is the costly part of a search and is evaluated
once per hit. From that CTE the statement returns, ``UNION ALL``-ed:

* the leading ``window`` rows of the ranked result (key, relevance, position): relevance is
  the text score divided by the best one of the result, exactly as the in-Python reference
  computes it, the score adds the stored query-independent factors times their weights, and
  the order is ``ORDER BY … LIMIT`` (a top-N sort);
* one row per facet value with its count (categories, providers, pricing models, tags).

The full document rows are read afterwards for the page alone.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Float,
    Integer,
    Select,
    String,
    case,
    cast,
    func,
    literal,
    null,
    select,
    true,
    union_all,
)
from sqlalchemy.sql.selectable import CTE, CompoundSelect, Subquery, TableValuedAlias

from persistence.models import SearchDocument
from persistence.search.ranked import RankedQuery, RankWeights


def _weight(value: float) -> ColumnElement[float]:
    return literal(value, Float())


# A select of any columns (the ranked statement and its input have several).
AnySelect = Select[*tuple[Any, ...]]

# What a search reads of each hit: its key, the sort and score columns and the facet fields.
_d = SearchDocument
HIT_COLUMNS = (
    _d.service_id,
    _d.usage_count,
    _d.created_at,
    _d.price_per_1k,
    _d.popularity_factor,
    _d.performance_factor,
    _d.compliance_factor,
    _d.category,
    _d.tags,
    _d.provider_id,
    _d.pricing_model,
)

PAGE_KIND = "page"
FACET_KINDS = ("categories", "tags", "pricing_models", "providers")


def _score(hits: CTE, relevance: ColumnElement[float], w: RankWeights) -> ColumnElement[float]:
    return (
        _weight(w.relevance) * relevance
        + _weight(w.popularity) * hits.c.popularity_factor
        + _weight(w.performance) * hits.c.performance_factor
        + _weight(w.compliance) * hits.c.compliance_factor
    )


def ranked_hits_statement(
    scored: AnySelect,
    ask: RankedQuery,
    window: int,
    tag_elements: Callable[[ColumnElement[Any]], TableValuedAlias],
) -> CompoundSelect:
    """``scored`` selects ``HIT_COLUMNS`` of the filtered matching documents with a
    ``text_score`` column. Rows of (kind, value, relevance, n): for kind ``page`` the
    ``window`` best hits (value = service id, n = 1-based position); for each facet kind
    its values and their counts (relevance NULL)."""
    # MATERIALIZED: every branch below reads the hits; evaluated once, not once per branch.
    hits = scored.cte("hits").prefix_with("MATERIALIZED")
    best_cte = select(func.max(hits.c.text_score).label("best")).cte("best")
    best = select(best_cte.c.best).scalar_subquery()
    relevance = case((best > 0, hits.c.text_score / best), else_=0.0)
    ranked = select(
        hits.c.service_id,
        hits.c.usage_count,
        hits.c.created_at,
        hits.c.price_per_1k,
        relevance.label("relevance"),
        _score(hits, relevance, ask.weights).label("score"),
    ).subquery("ranked")
    top = select(ranked).order_by(*_order(ranked, ask)).limit(window).subquery("top")
    page = select(
        literal(PAGE_KIND, String()).label("kind"),
        top.c.service_id.label("value"),
        cast(top.c.relevance, Float()).label("relevance"),
        func.row_number().over(order_by=_order(top, ask)).label("n"),
    )

    def by(kind: str, column: ColumnElement[Any]) -> Select[Any]:
        return select(
            literal(kind, String()),
            column,
            cast(null(), Float()),
            _count(),
        ).group_by(column)

    # Stored tags are distinct per document (builtin._row_values), so counting (document,
    # tag) rows counts documents; a DISTINCT here cost more than the rest of the facets.
    tag = tag_elements(hits.c.tags)
    tags = by("tags", tag.c.value).select_from(hits).join(tag, true())
    return union_all(
        page,
        by("categories", hits.c.category),
        by("providers", hits.c.provider_id),
        by("pricing_models", hits.c.pricing_model).where(hits.c.pricing_model.is_not(None)),
        tags,
    )


def _count() -> ColumnElement[int]:
    # One integer type on both engines (PostgreSQL's count is bigint), for the UNION.
    return cast(func.count(), Integer())


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
