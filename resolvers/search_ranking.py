"""The four-factor search score: relevance, popularity, performance, compliance.

Each factor is in [0, 1]; the score is their weighted sum (weights from settings, normalised
to sum to 1), and ``scoreBreakdown`` shows each factor's weighted contribution, so the four
parts add up to the score.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

from graph.settings import Settings
from persistence.search.base import IndexedService

# Calls in the signal window at which popularity saturates at 1 (log-scaled below it).
POPULARITY_SATURATION = 10_000
# p95 latency at which the latency half of performance is 0.5.
LATENCY_MIDPOINT_MS = 1_000
# What a factor counts as when nothing is known yet (no usage, never checked): neutral.
UNKNOWN = 0.5


@dataclass(frozen=True)
class Weights:
    relevance: float
    popularity: float
    performance: float
    compliance: float

    @classmethod
    def from_settings(cls, settings: Settings) -> Weights:
        raw = (
            settings.search_weight_relevance,
            settings.search_weight_popularity,
            settings.search_weight_performance,
            settings.search_weight_compliance,
        )
        total = sum(raw) or 1.0
        return cls(*(w / total for w in raw))


@dataclass(frozen=True)
class Breakdown:
    relevance: float
    popularity: float
    performance: float
    compliance: float

    @property
    def score(self) -> float:
        return self.relevance + self.popularity + self.performance + self.compliance


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


def breakdown(doc: IndexedService, relevance: float, weights: Weights) -> Breakdown:
    return Breakdown(
        relevance=weights.relevance * relevance,
        popularity=weights.popularity * popularity(doc),
        performance=weights.performance * performance(doc),
        compliance=weights.compliance * compliance(doc),
    )
