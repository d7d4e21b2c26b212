"""The query-independent ranking factors of a search document, each in [0, 1].

Computed once per document when it is indexed (and on the periodic signals refresh) and
stored beside it, so an engine can rank by ``weight * relevance + Σ weight * factor`` without
sending every match back to Python. ``resolvers/search_ranking.py`` builds the score
breakdown from the same functions, so the stored factors and the breakdown cannot disagree.
"""

from __future__ import annotations

import math
from decimal import Decimal

from persistence.search.base import IndexedService

# Calls in the signal window at which popularity saturates at 1 (log-scaled below it).
POPULARITY_SATURATION = 10_000
# p95 latency at which the latency half of performance is 0.5.
LATENCY_MIDPOINT_MS = 1_000
# What a factor counts as when nothing is known yet (no usage, never checked): neutral.
UNKNOWN = 0.5


def popularity(doc: IndexedService) -> float:
    return min(1.0, math.log1p(doc.usage_count) / math.log1p(POPULARITY_SATURATION))


def performance(doc: IndexedService) -> float:
    if doc.p95_latency_ms is None:
        return UNKNOWN
    latency = LATENCY_MIDPOINT_MS / (LATENCY_MIDPOINT_MS + doc.p95_latency_ms)
    reliability = 1.0 - (doc.error_rate or 0.0)
    return 0.5 * latency + 0.5 * reliability


def compliance(doc: IndexedService) -> float:
    score: Decimal | None = doc.compliance_score
    return UNKNOWN if score is None else float(score)
