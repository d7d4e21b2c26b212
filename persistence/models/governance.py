"""Governance: policies, compliance checks, approvals, the audit chain, the event outbox."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Integer, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from persistence.models.base import Base, IdMixin, TimestampMixin, str_enum, utcnow

# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL gets a BIGINT identity.
AutoId = BigInteger().with_variant(Integer(), "sqlite")


class Enforcement(StrEnum):
    BLOCKING = "BLOCKING"
    ADVISORY = "ADVISORY"


class ApprovalStatus(StrEnum):
    PENDING = "PENDING"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    EXPIRED = "EXPIRED"


class Policy(IdMixin, TimestampMixin, Base):
    __tablename__ = "policies"

    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    enforcement: Mapped[Enforcement] = mapped_column(str_enum(Enforcement, 16))
    # Declarative rules: [{"kind": "max_price_per_1k", "params": {...}}, ...]
    rules: Mapped[list[dict[str, Any]]] = mapped_column(default=list)
    active: Mapped[bool] = mapped_column(default=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_by: Mapped[str] = mapped_column(String(200))


class ComplianceCheck(IdMixin, Base):
    __tablename__ = "compliance_checks"

    service_id: Mapped[str] = mapped_column(ForeignKey("services.id"), index=True)
    checked_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    compliant: Mapped[bool]
    score: Mapped[Decimal] = mapped_column(Numeric(5, 4))
    # [{"policy": name, "rule": kind, "message": ..., "severity": BLOCKING|ADVISORY}]
    violations: Mapped[list[dict[str, Any]]] = mapped_column(default=list)


class ApprovalRequest(IdMixin, Base):
    __tablename__ = "approval_requests"

    service_id: Mapped[str] = mapped_column(ForeignKey("services.id"), index=True)
    requested_by: Mapped[str] = mapped_column(String(200))
    status: Mapped[ApprovalStatus] = mapped_column(
        str_enum(ApprovalStatus, 16), default=ApprovalStatus.PENDING, index=True
    )
    reason: Mapped[str] = mapped_column(Text, default="")
    decided_by: Mapped[str | None] = mapped_column(String(200))
    decision_comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None]
    expires_at: Mapped[datetime]


class AuditEntry(Base):
    """Append-only, hash-chained: hash = SHA-256(prev_hash || canonical JSON of the entry)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(AutoId, primary_key=True, autoincrement=True)
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(200), index=True)
    action: Mapped[str] = mapped_column(String(64), index=True)
    target_type: Mapped[str] = mapped_column(String(64))
    target_id: Mapped[str] = mapped_column(String(64), index=True)
    diff: Mapped[dict[str, Any]] = mapped_column(default=dict)
    request_id: Mapped[str | None] = mapped_column(String(64))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class GovernanceEvent(Base):
    """Transactional outbox of governance events; the id is the subscription replay cursor."""

    __tablename__ = "governance_events"

    id: Mapped[int] = mapped_column(AutoId, primary_key=True, autoincrement=True)
    type: Mapped[str] = mapped_column(String(64), index=True)
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    service_id: Mapped[str | None] = mapped_column(String(36), index=True)
    actor: Mapped[str] = mapped_column(String(200))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    published_at: Mapped[datetime | None] = mapped_column(index=True)
