"""Catalog: providers, services, their semver versions and pricing."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from persistence.models.base import Base, IdMixin, TimestampMixin, str_enum, utcnow


class ServiceStatus(StrEnum):
    DRAFT = "DRAFT"
    PENDING_APPROVAL = "PENDING_APPROVAL"
    ACTIVE = "ACTIVE"
    SUSPENDED = "SUSPENDED"
    DEPRECATED = "DEPRECATED"
    RETIRED = "RETIRED"


class PricingModel(StrEnum):
    PER_TOKEN = "PER_TOKEN"
    PER_REQUEST = "PER_REQUEST"


class Provider(IdMixin, TimestampMixin, Base):
    __tablename__ = "providers"

    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    website: Mapped[str | None] = mapped_column(String(500))
    contact_email: Mapped[str | None] = mapped_column(String(320))
    # The JWT subject of the provider's owner account: a provider acts on its own services.
    owner_subject: Mapped[str | None] = mapped_column(String(200), index=True)

    services: Mapped[list[Service]] = relationship(back_populates="provider", lazy="raise")


class Service(IdMixin, TimestampMixin, Base):
    __tablename__ = "services"
    __table_args__ = (Index("ix_services_status_name", "status", "name", "id"),)

    provider_id: Mapped[str] = mapped_column(ForeignKey("providers.id"), index=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[str] = mapped_column(String(64), index=True)
    tags: Mapped[list[str]] = mapped_column(default=list)
    status: Mapped[ServiceStatus] = mapped_column(
        str_enum(ServiceStatus), default=ServiceStatus.DRAFT, index=True
    )
    current_version: Mapped[str] = mapped_column(String(64))
    endpoint_url: Mapped[str] = mapped_column(String(2000))
    # Credential the gateway injects upstream (e.g. "Bearer sk-..."); never shown to consumers.
    upstream_auth_header: Mapped[str | None] = mapped_column(String(2000))
    data_region: Mapped[str | None] = mapped_column(String(32))
    privacy_policy_url: Mapped[str | None] = mapped_column(String(2000))
    terms_url: Mapped[str | None] = mapped_column(String(2000))
    pii_handling: Mapped[str | None] = mapped_column(String(32))
    status_reason: Mapped[str | None] = mapped_column(Text)

    provider: Mapped[Provider] = relationship(back_populates="services", lazy="raise")
    versions: Mapped[list[ServiceVersion]] = relationship(back_populates="service", lazy="raise")
    pricing: Mapped[list[ServicePricing]] = relationship(back_populates="service", lazy="raise")


class ServiceVersion(IdMixin, Base):
    __tablename__ = "service_versions"
    __table_args__ = (UniqueConstraint("service_id", "version"),)

    service_id: Mapped[str] = mapped_column(ForeignKey("services.id"), index=True)
    version: Mapped[str] = mapped_column(String(64))
    changelog: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    service: Mapped[Service] = relationship(back_populates="versions", lazy="raise")


class ServicePricing(IdMixin, Base):
    """A service's price list; the newest row (by effective_from) is the one in force."""

    __tablename__ = "service_pricing"

    service_id: Mapped[str] = mapped_column(ForeignKey("services.id"), index=True)
    model: Mapped[PricingModel] = mapped_column(str_enum(PricingModel, 16))
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    input_price_per_1k: Mapped[Decimal | None]
    output_price_per_1k: Mapped[Decimal | None]
    request_price: Mapped[Decimal | None]
    effective_from: Mapped[datetime] = mapped_column(default=utcnow)

    service: Mapped[Service] = relationship(back_populates="pricing", lazy="raise")
