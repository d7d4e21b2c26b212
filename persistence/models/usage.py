"""Usage: consumers, plans, subscriptions, API keys and metered usage records."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from persistence.models.base import Base, IdMixin, TimestampMixin, str_enum, utcnow


class PlanTier(StrEnum):
    FREE = "FREE"
    BASIC = "BASIC"
    PRO = "PRO"
    ENTERPRISE = "ENTERPRISE"


class SubscriptionStatus(StrEnum):
    ACTIVE = "ACTIVE"
    CANCELLED = "CANCELLED"


class Consumer(IdMixin, TimestampMixin, Base):
    __tablename__ = "consumers"

    subject: Mapped[str] = mapped_column(String(200), unique=True)  # the JWT `sub`
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))


class Plan(IdMixin, Base):
    """Limits of a tier. ``None`` quota or budget means unlimited."""

    __tablename__ = "plans"

    tier: Mapped[PlanTier] = mapped_column(str_enum(PlanTier, 16), unique=True)
    requests_per_second: Mapped[int] = mapped_column(Integer)
    burst: Mapped[int] = mapped_column(Integer)
    monthly_request_quota: Mapped[int | None] = mapped_column(BigInteger)
    monthly_token_quota: Mapped[int | None] = mapped_column(BigInteger)
    monthly_budget: Mapped[Decimal | None]


class Subscription(IdMixin, TimestampMixin, Base):
    __tablename__ = "subscriptions"
    __table_args__ = (
        Index("ix_subscriptions_consumer_service", "consumer_id", "service_id"),
        # At most one ACTIVE subscription per (consumer, service): the passthrough resolves a
        # key's subscription by that pair, and two concurrent `subscribe` calls must not both
        # insert. Cancelled rows stay as history, any number of them.
        Index(
            "uq_subscriptions_one_active",
            "consumer_id",
            "service_id",
            unique=True,
            postgresql_where=text("status = 'ACTIVE'"),
            sqlite_where=text("status = 'ACTIVE'"),
        ),
    )

    consumer_id: Mapped[str] = mapped_column(ForeignKey("consumers.id"))
    service_id: Mapped[str] = mapped_column(ForeignKey("services.id"), index=True)
    plan_id: Mapped[str] = mapped_column(ForeignKey("plans.id"))
    status: Mapped[SubscriptionStatus] = mapped_column(
        str_enum(SubscriptionStatus, 16), default=SubscriptionStatus.ACTIVE
    )
    cancelled_at: Mapped[datetime | None]


class ApiKey(IdMixin, Base):
    """An API key. Only an HMAC-SHA256 of the secret is stored (see docs/security.md)."""

    __tablename__ = "api_keys"

    consumer_id: Mapped[str] = mapped_column(ForeignKey("consumers.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]


class UsageRecord(Base):
    """One metered passthrough call. The id is the request id, so inserts are idempotent.

    On PostgreSQL the table is range-partitioned by month on ``occurred_at`` (see the initial
    migration), which is why ``occurred_at`` is part of the primary key.
    """

    __tablename__ = "usage_records"
    __table_args__ = (Index("ix_usage_records_service_time", "service_id", "occurred_at"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(primary_key=True)
    consumer_id: Mapped[str] = mapped_column(String(36), index=True)
    service_id: Mapped[str] = mapped_column(String(36))
    api_key_id: Mapped[str | None] = mapped_column(String(36))
    status_code: Mapped[int] = mapped_column(Integer)
    input_tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    output_tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    cost: Mapped[Decimal]
    latency_ms: Mapped[int] = mapped_column(Integer)
    ttfb_ms: Mapped[int | None] = mapped_column(Integer)
    bytes_in: Mapped[int] = mapped_column(BigInteger, default=0)
    bytes_out: Mapped[int] = mapped_column(BigInteger, default=0)
    estimated: Mapped[bool] = mapped_column(default=False)


class UsageOutbox(Base):
    """A usage event waiting to be published to Kafka; written with its usage record."""

    __tablename__ = "usage_outbox"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # the usage record's id
    service_id: Mapped[str] = mapped_column(String(36))
    payload: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)


class QuotaCounter(Base):
    """Reserved-then-settled consumption of one subscription in one calendar month (UTC)."""

    __tablename__ = "quota_counters"

    subscription_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    period: Mapped[str] = mapped_column(String(7), primary_key=True)  # "YYYY-MM"
    requests: Mapped[int] = mapped_column(BigInteger, default=0)
    tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    spend: Mapped[Decimal] = mapped_column(default=Decimal(0))
