"""Request bodies of a ranked search on Elasticsearch, and the page built from its answers.

The contract's score is ``w_rel · text / best text + Σ w_i · factor_i`` (docs/search.md), and
the server has no scripting to rely on, so the engine computes it with two core queries:

1. the text query alone, ``size: 0``, with ``track_total_hits``, the facets as ``terms``
   aggregations and a ``top_hits`` of one, whose ``max_score`` is the best text score of the
   result;
2. a ``function_score`` whose inner query is the same text query boosted by
   ``w_rel / best`` (so it scores exactly the weighted relevance), plus one
   ``field_value_factor`` per stored factor with ``factor = weight``, summed
   (``score_mode``/``boost_mode`` ``sum``), sorted and paged (``from``/``size``).

Browse mode (no words) has relevance 0: one request ranks, pages and counts. Only one page of
documents crosses back to the gateway.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from persistence.search import signals
from persistence.search.base import IndexedService, tokenize
from persistence.search.ranked import (
    FacetCounts,
    RankedHit,
    RankedPage,
    RankedQuery,
    static_score,
)
from persistence.search.text import correct_terms, highlight

# More distinct values than any facet of the catalog has: facets count every value.
FACET_SIZE = 10_000
FACET_FIELDS = {
    "categories": "category",
    "tags": "tags",
    "pricing_models": "pricing_model",
    "providers": "provider_id",
}

# The aggregation whose ``max_score`` is the best text score of the result.
BEST = "best_text_score"
BEST_SCORE: dict[str, Any] = {BEST: {"top_hits": {"size": 1, "_source": False}}}


def text_query(text: dict[str, Any] | None, filters: list[dict[str, Any]], boost: float) -> Any:
    """The filtered text query; filter clauses score nothing, so its score is the text score
    times ``boost`` (0 in browse mode)."""
    body: dict[str, Any] = {"filter": filters}
    if text is not None:
        body["must"] = [text]
        body["boost"] = boost
    return {"bool": body}


def scored_query(query: dict[str, Any], ask: RankedQuery) -> dict[str, Any]:
    w = ask.weights
    factors = (
        ("popularity_factor", w.popularity, 0.0),
        ("performance_factor", w.performance, signals.UNKNOWN),
        ("compliance_factor", w.compliance, signals.UNKNOWN),
    )
    return {
        "function_score": {
            "query": query,
            "functions": [
                # ``missing`` = the neutral value, as signals.py counts an unknown factor.
                {"field_value_factor": {"field": field, "factor": weight, "missing": missing}}
                for field, weight, missing in factors
            ],
            "score_mode": "sum",
            "boost_mode": "sum",
        }
    }


def sort_of(ask: RankedQuery) -> list[Any]:
    # Every order ends with the service id, so equal scores still page deterministically.
    if ask.sort == "POPULARITY":
        keys: list[Any] = [{"usage_count": "desc"}, {"_score": "desc"}]
    elif ask.sort == "NEWEST":
        keys = [{"created_at": "desc"}]
    elif ask.sort == "PRICE_ASC":
        keys = [{"price_value": {"order": "asc", "missing": "_last"}}, {"_score": "desc"}]
    else:
        keys = [{"_score": "desc"}]
    return [*keys, {"service_id": "asc"}]


def facet_aggregations() -> dict[str, Any]:
    order = [{"_count": "desc"}, {"_key": "asc"}]
    return {
        kind: {"terms": {"field": field, "size": FACET_SIZE, "order": order}}
        for kind, field in FACET_FIELDS.items()
    }


def facets_of(aggregations: dict[str, Any]) -> FacetCounts:
    return FacetCounts(
        **{
            kind: [(str(b["key"]), int(b["doc_count"])) for b in aggregations[kind]["buckets"]]
            for kind in FACET_FIELDS
        }
    )


def relevance_of(score: float, static: float, ask: RankedQuery) -> float:
    """The hit's relevance, recovered from its engine score: what is left after the stored
    factors, divided by the relevance weight. Clamped, since the engine sums in float32."""
    if ask.weights.relevance <= 0:
        return 0.0
    return min(1.0, max(0.0, (score - static) / ask.weights.relevance))


def empty_page() -> RankedPage:
    return RankedPage([], 0, FacetCounts([], [], [], []))


def highlights_of(doc: IndexedService, words: Sequence[str]) -> tuple[str, ...]:
    """Snippets marking the words this document matched on. Elasticsearch's own highlighter
    re-runs the fuzzy query per hit (≈ 0.5 s for a page at 10,000 services), so the page is
    highlighted here, as the built-in engines do: each query word, or when the document lacks
    it, its nearest word of the document within the same edit allowance (``fuzziness: AUTO``)
    that made the document match."""
    vocabulary = {w for text in doc.text_fields.values() for w in tokenize(text)}
    return highlight(doc.text_fields, correct_terms(words, vocabulary))


def page_of(
    response: dict[str, Any],
    counts: dict[str, Any],
    ask: RankedQuery,
    words: Sequence[str],
    from_source: Callable[[dict[str, Any]], IndexedService],
) -> RankedPage:
    hits = []
    for hit in response["hits"]["hits"]:
        doc = from_source(hit["_source"])
        if words:
            score = float(hit["_score"] or 0.0)
            relevance = relevance_of(score, static_score(doc, ask.weights), ask)
            hits.append(RankedHit(doc, relevance, highlights_of(doc, words)))
        else:
            hits.append(RankedHit(doc, 0.0))
    total = int(counts["hits"]["total"]["value"])
    return RankedPage(hits, total, facets_of(counts["aggregations"]))
