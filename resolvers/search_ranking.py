"""The four-factor search score: relevance, popularity, performance, compliance.

Each factor is in [0, 1]; the score is their weighted sum (weights from settings, normalised
to sum to 1), and ``scoreBreakdown`` shows each factor's weighted contribution, so the four
parts add up to the score.
"""

from __future__ import annotations

from dataclasses import dataclass

from graph.settings import Settings
from persistence.search.base import IndexedService
from persistence.search.signals import compliance, performance, popularity


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


def breakdown(doc: IndexedService, relevance: float, weights: Weights) -> Breakdown:
    return Breakdown(
        relevance=weights.relevance * relevance,
        popularity=weights.popularity * popularity(doc),
        performance=weights.performance * performance(doc),
        compliance=weights.compliance * compliance(doc),
    )
