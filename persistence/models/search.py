"""Search: the denormalised documents the built-in index serves, its vocabulary and cursor.

The built-in index lives in the application database. Each listed service has one
``search_documents`` row holding what search filters, facets and ranks on (so a search reads
one table, never the catalog joins). The text index beside it is backend-specific, created by
the migrations and written by the engines (persistence/search/): an FTS5 table ``search_fts``
on SQLite, and on PostgreSQL a table ``search_text`` of each document's key (``doc_key``, an
identity column of PostgreSQL's own) and weighted tsvector with a GIN index.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import BigInteger, Float, Integer, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from persistence.models.base import Base, utcnow


class SearchDocument(Base):
    __tablename__ = "search_documents"

    service_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    slug: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[str] = mapped_column(String(64), index=True)
    tags: Mapped[list[str]] = mapped_column(default=list)
    # Tags joined by spaces: what the text index reads (JSON is not tokenised).
    tags_text: Mapped[str] = mapped_column(Text, default="")
    provider_id: Mapped[str] = mapped_column(String(36), index=True)
    provider_name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(32), index=True)
    pricing_model: Mapped[str | None] = mapped_column(String(16))
    # The higher of the input and output prices per 1K tokens; None for per-request pricing.
    price_per_1k: Mapped[Decimal | None]
    created_at: Mapped[datetime]
    # Ranking signals, refreshed by the indexer (see docs/search.md).
    usage_count: Mapped[int] = mapped_column(BigInteger, default=0)
    p95_latency_ms: Mapped[int | None] = mapped_column(Integer)
    error_rate: Mapped[float | None] = mapped_column(Float)
    compliance_score: Mapped[Decimal | None] = mapped_column(Numeric(5, 4))
    # The signals as ranking factors in [0, 1] (persistence/search/signals.py), stored so the
    # engine ranks and limits by the combined score itself (docs/search.md).
    popularity_factor: Mapped[float] = mapped_column(Float, default=0.0)
    performance_factor: Mapped[float] = mapped_column(Float, default=0.5)
    compliance_factor: Mapped[float] = mapped_column(Float, default=0.5)
    indexed_at: Mapped[datetime] = mapped_column(default=utcnow)


class SearchTerm(Base):
    """Every word the index has seen: the vocabulary typo correction picks from."""

    __tablename__ = "search_terms"

    term: Mapped[str] = mapped_column(String(64), primary_key=True)


class SearchIndexState(Base):
    """A durable consumer cursor: the last governance event id an index has applied."""

    __tablename__ = "search_index_state"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    last_event_id: Mapped[int] = mapped_column(BigInteger, default=0)
    last_full_refresh_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
