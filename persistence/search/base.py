"""The one interface every search index backend implements, and the values it speaks in.

A backend does the text work only: find the documents that match a query under a filter,
with a text-relevance score and highlights, and answer prefix suggestions. Ranking, sorting,
facets and paging happen above it (``resolvers/search.py``) on what it returns, so every
backend behaves the same by construction.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Protocol

MAX_QUERY_LENGTH = 256
_WORD = re.compile(r"[^\W_]+", re.UNICODE)


def tokenize(text: str) -> list[str]:
    """Lower-cased words, split like the SQLite unicode61 / Elasticsearch standard tokenizers."""
    return [w for w in _WORD.findall(text.lower()) if len(w) <= 64]


@dataclass(frozen=True)
class IndexedService:
    """What the index knows of one service: filter, facet and ranking fields."""

    service_id: str
    slug: str
    name: str
    description: str
    category: str
    tags: tuple[str, ...]
    provider_id: str
    provider_name: str
    status: str
    pricing_model: str | None
    price_per_1k: Decimal | None
    created_at: datetime
    usage_count: int
    p95_latency_ms: int | None
    error_rate: float | None
    compliance_score: Decimal | None

    @property
    def text_fields(self) -> dict[str, str]:
        return {
            "name": self.name,
            "tags": " ".join(self.tags),
            "category": self.category,
            "provider": self.provider_name,
            "description": self.description,
        }


@dataclass(frozen=True)
class SearchFilter:
    """Empty tuples mean "any"; ``statuses`` is already defaulted by the caller."""

    statuses: tuple[str, ...]
    categories: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    provider_ids: tuple[str, ...] = ()
    pricing_models: tuple[str, ...] = ()
    max_price_per_1k: Decimal | None = None
    min_compliance: Decimal | None = None

    def accepts(self, doc: IndexedService) -> bool:
        """The filter in Python: the reference the backends' native filters must agree with."""
        if doc.status not in self.statuses:
            return False
        if self.categories and doc.category not in self.categories:
            return False
        if self.tags and not set(self.tags) & set(doc.tags):
            return False
        if self.provider_ids and doc.provider_id not in self.provider_ids:
            return False
        if self.pricing_models and doc.pricing_model not in self.pricing_models:
            return False
        if self.max_price_per_1k is not None and (
            doc.price_per_1k is None or doc.price_per_1k > self.max_price_per_1k
        ):
            return False
        return self.min_compliance is None or (
            doc.compliance_score is not None and doc.compliance_score >= self.min_compliance
        )


@dataclass(frozen=True)
class Match:
    doc: IndexedService
    text_score: float  # backend-native, higher is better; only comparable within one result
    highlights: tuple[str, ...] = ()


@dataclass(frozen=True)
class MatchResult:
    matches: list[Match]
    # The words actually searched for (after typo correction), for highlighting.
    terms: tuple[str, ...] = field(default=())


class SearchBackendUnavailable(Exception):
    """The backend cannot answer now (e.g. Elasticsearch unreachable)."""


class SearchBackend(Protocol):
    name: str

    async def match(self, query: str, flt: SearchFilter) -> MatchResult:
        """Every document that passes ``flt`` and, when ``query`` has words, matches it."""
        ...

    async def suggest(self, prefix: str, statuses: Sequence[str], limit: int) -> list[str]:
        """Ids of services whose name has words starting with the prefix's words."""
        ...

    async def upsert(self, docs: Sequence[IndexedService]) -> None: ...

    async def delete(self, service_ids: Sequence[str]) -> None: ...

    async def close(self) -> None: ...
