"""The demo seed: consistent data, loaded idempotently into a freshly migrated SQLite file."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import semver
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from persistence import seed_data as data
from persistence.database import create_engine, create_session_factory
from persistence.migrate import upgrade
from persistence.models import (
    ApprovalRequest,
    ComplianceCheck,
    Consumer,
    Plan,
    PlanTier,
    Policy,
    PricingModel,
    Provider,
    Service,
    ServicePricing,
    ServiceStatus,
    ServiceVersion,
    Subscription,
    UsageRecord,
)
from persistence.seed import SeedSummary, generate_usage, seed_demo, usage_cost
from resolvers.catalog import CATEGORIES

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
EIGHT_PLACES = Decimal("0.00000001")


def test_seed_data_is_consistent() -> None:
    provider_slugs = {p.slug for p in data.PROVIDERS}
    assert len(provider_slugs) == len(data.PROVIDERS) >= 6
    service_slugs = [s.slug for s in data.SERVICES]
    assert len(set(service_slugs)) == len(service_slugs) >= 40
    assert len({s.category for s in data.SERVICES}) >= 6
    statuses = Counter(s.status for s in data.SERVICES)
    for status in (
        ServiceStatus.DEPRECATED,
        ServiceStatus.SUSPENDED,
        ServiceStatus.PENDING_APPROVAL,
        ServiceStatus.DRAFT,
    ):
        assert statuses[status] == 1
    assert statuses[ServiceStatus.ACTIVE] >= 36
    embeddings = [s for s in data.SERVICES if s.category == "embeddings"]
    assert len([s for s in embeddings if "embeddings" in s.tags]) >= 3
    for service in data.SERVICES:
        assert service.provider_slug in provider_slugs
        assert service.category in CATEGORIES, service.slug
        assert 2 <= len(service.tags) <= 6, service.slug
        assert all(tag == tag.lower() for tag in service.tags)
        assert service.data_region in {"eu", "us", "apac", "global"}
        assert service.pii_handling in {"none", "redacted", "processed"}
        assert ".example/" in service.endpoint_url
        if service.status in (ServiceStatus.SUSPENDED, ServiceStatus.DEPRECATED):
            assert service.status_reason
        # Versions: valid semver, listed oldest first, the newest released last.
        parsed = [semver.Version.parse(v.version) for v in service.versions]
        assert parsed == sorted(parsed), service.slug
        assert [v.days_ago for v in service.versions] == sorted(
            (v.days_ago for v in service.versions), reverse=True
        )
        assert service.current_version == str(parsed[-1])
        pricing = service.pricing
        assert pricing.currency in {"USD", "EUR"}
        prices = [pricing.input_price_per_1k, pricing.output_price_per_1k, pricing.request_price]
        for price in prices:
            # At most 5 decimals, so token costs stay exact in Numeric(18, 8).
            assert price is None or price.as_tuple().exponent >= -5  # type: ignore[operator]
        if pricing.model == PricingModel.PER_TOKEN:
            assert pricing.input_price_per_1k is not None and pricing.request_price is None
        else:
            assert pricing.request_price is not None and pricing.input_price_per_1k is None
    assert {s.consumer_subject for s in data.SUBSCRIPTIONS} <= {c.subject for c in data.CONSUMERS}
    assert {s.service_slug for s in data.SUBSCRIPTIONS} <= set(service_slugs)
    assert {f.service_slug for f in data.COMPLIANCE_FINDINGS} <= set(service_slugs)


def test_usage_is_deterministic_and_priced_exactly() -> None:
    records = generate_usage(NOW)
    assert records == generate_usage(NOW)
    assert len(records) == 200
    assert len({r.id for r in records}) == 200
    services = {s.slug: s for s in data.SERVICES}
    codes = Counter(r.status_code for r in records)
    assert codes[200] > 150
    assert any(400 <= c < 500 for c in codes) and any(c >= 500 for c in codes)
    for record in records:
        assert NOW - timedelta(days=30) < record.occurred_at < NOW
        assert record.occurred_at.tzinfo is not None
        service = services[record.service_slug]
        assert service.status == ServiceStatus.ACTIVE
        if record.status_code == 200:
            expected = usage_cost(service.pricing, record.input_tokens, record.output_tokens)
            assert record.cost == expected > 0
        else:
            assert record.cost == 0
        assert record.cost == record.cost.quantize(EIGHT_PLACES)


async def _count(session: AsyncSession, model: type) -> int:
    return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_seed_demo_is_idempotent(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/t.db"
    await upgrade(url)
    engine = create_engine(url)
    try:
        session_factory = create_session_factory(engine)
        first = await seed_demo(session_factory, now=NOW)
        assert first.providers >= 6
        assert first.services >= 40
        assert first.policies >= 2
        assert first.consumers >= 3
        assert first.plans == 4
        assert first.usage_records == 200
        active = sum(s.status == ServiceStatus.ACTIVE for s in data.SERVICES)
        assert first.compliance_checks == active
        assert first.approval_requests == 1

        # Again, even with another clock: nothing new.
        second = await seed_demo(session_factory, now=NOW + timedelta(days=3))
        assert second == SeedSummary()
        assert second.total == 0

        async with session_factory() as session:
            counts = {
                model.__name__: await _count(session, model)
                for model in (
                    Provider,
                    Service,
                    ServiceVersion,
                    ServicePricing,
                    Policy,
                    ComplianceCheck,
                    ApprovalRequest,
                    Consumer,
                    Plan,
                    Subscription,
                    UsageRecord,
                )
            }
            assert counts == {
                "Provider": first.providers,
                "Service": first.services,
                "ServiceVersion": first.versions,
                "ServicePricing": first.pricing,
                "Policy": first.policies,
                "ComplianceCheck": first.compliance_checks,
                "ApprovalRequest": first.approval_requests,
                "Consumer": first.consumers,
                "Plan": 4,
                "Subscription": first.subscriptions,
                "UsageRecord": 200,
            }
            categories = set((await session.scalars(select(Service.category).distinct())).all())
            assert len(categories) >= 6 and categories <= set(CATEGORIES)

            chat_pro = await session.scalar(
                select(Service).where(Service.slug == "nimbus-chat-pro")
            )
            assert chat_pro is not None
            assert chat_pro.current_version == "2.0.0"
            assert chat_pro.created_at == NOW - timedelta(days=240)
            assert chat_pro.created_at.tzinfo is not None

            plans = {p.tier: p for p in (await session.scalars(select(Plan))).all()}
            assert plans[PlanTier.FREE].monthly_token_quota == 100_000
            assert plans[PlanTier.ENTERPRISE].monthly_request_quota is None

            flagged = (
                await session.scalars(
                    select(ComplianceCheck).where(ComplianceCheck.score < Decimal("1"))
                )
            ).all()
            assert len(flagged) == 1
            assert flagged[0].violations[0]["severity"] == "ADVISORY"

            # Money survives the round trip exactly.
            stored = {r.id: r.cost for r in (await session.scalars(select(UsageRecord))).all()}
            assert stored == {r.id: r.cost for r in generate_usage(NOW)}
            total = sum(stored.values(), Decimal(0))
            assert total > 0
    finally:
        await engine.dispose()
