"""Load the demo content of :mod:`persistence.seed_data` into the database, idempotently.

Rows are looked up by their natural keys (provider slug, service slug, policy name, consumer
subject, plan tier, ``(service_id, version)``, usage record id) and only the missing ones are
inserted, so running the seed again, or after a partial seed, changes nothing that exists.
Rows without a natural key (pricing, compliance checks, approvals, subscriptions) are added
only when their service (or consumer and service) has none yet.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import InstrumentedAttribute

from persistence import seed_data as data
from persistence.models import (
    ApprovalRequest,
    ApprovalStatus,
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
    SubscriptionStatus,
    UsageRecord,
)
from persistence.models.base import new_id

APPROVAL_TTL = timedelta(days=7)


@dataclass
class SeedSummary:
    """How many rows of each kind this run created (zero everywhere on a re-run)."""

    plans: int = 0
    providers: int = 0
    services: int = 0
    versions: int = 0
    pricing: int = 0
    policies: int = 0
    compliance_checks: int = 0
    approval_requests: int = 0
    consumers: int = 0
    subscriptions: int = 0
    usage_records: int = 0

    @property
    def total(self) -> int:
        return sum(getattr(self, f.name) for f in fields(self))


async def ensure_plans(session: AsyncSession) -> int:
    """Create whichever of the four plans is missing; returns how many were created.

    Runs in the caller's transaction and flushes, so the plans can be referenced right away.
    """
    existing = set((await session.scalars(select(Plan.tier))).all())
    created = 0
    for plan in data.PLANS:
        if plan.tier.value in existing:
            continue
        session.add(
            Plan(
                id=new_id(),
                tier=plan.tier,
                requests_per_second=plan.requests_per_second,
                burst=plan.burst,
                monthly_request_quota=plan.monthly_request_quota,
                monthly_token_quota=plan.monthly_token_quota,
                monthly_budget=plan.monthly_budget,
            )
        )
        created += 1
    if created:
        await session.flush()
    return created


async def seed_demo(
    session_factory: async_sessionmaker[AsyncSession], *, now: datetime | None = None
) -> SeedSummary:
    """Load the demo data in one transaction; timestamps are relative to ``now`` (UTC)."""
    if now is None:
        now = datetime.now(UTC)
    elif now.tzinfo is None:
        raise ValueError("naive datetime given; use an aware UTC datetime")
    now = now.astimezone(UTC)
    summary = SeedSummary()
    async with session_factory() as session, session.begin():
        summary.plans = await ensure_plans(session)
        provider_ids = await _seed_providers(session, now, summary)
        service_ids = await _seed_services(session, now, provider_ids, summary)
        await _seed_versions(session, now, service_ids, summary)
        await _seed_pricing(session, now, service_ids, summary)
        await _seed_policies(session, now, summary)
        await _seed_compliance(session, now, service_ids, summary)
        await _seed_approvals(session, now, service_ids, summary)
        consumer_ids = await _seed_consumers(session, now, summary)
        await _seed_subscriptions(session, now, consumer_ids, service_ids, summary)
        await _seed_usage(session, now, consumer_ids, service_ids, summary)
    return summary


# --------------------------------------------------------------------------------------------
# Catalog
# --------------------------------------------------------------------------------------------


def _days_ago(now: datetime, days: int) -> datetime:
    return now - timedelta(days=days)


async def _seed_providers(
    session: AsyncSession, now: datetime, summary: SeedSummary
) -> dict[str, str]:
    slugs = [p.slug for p in data.PROVIDERS]
    rows = await session.execute(select(Provider.slug, Provider.id).where(Provider.slug.in_(slugs)))
    ids: dict[str, str] = {slug: id_ for slug, id_ in rows}
    for provider in data.PROVIDERS:
        if provider.slug in ids:
            continue
        created_at = _days_ago(
            now,
            max(s.created_days_ago for s in data.SERVICES if s.provider_slug == provider.slug) + 7,
        )
        row = Provider(
            id=new_id(),
            slug=provider.slug,
            name=provider.name,
            description=provider.description,
            website=provider.website,
            contact_email=provider.contact_email,
            owner_subject=provider.owner_subject,
            created_at=created_at,
            updated_at=created_at,
        )
        session.add(row)
        ids[provider.slug] = row.id
        summary.providers += 1
    await session.flush()
    return ids


async def _seed_services(
    session: AsyncSession, now: datetime, provider_ids: dict[str, str], summary: SeedSummary
) -> dict[str, str]:
    slugs = [s.slug for s in data.SERVICES]
    rows = await session.execute(select(Service.slug, Service.id).where(Service.slug.in_(slugs)))
    ids: dict[str, str] = {slug: id_ for slug, id_ in rows}
    for service in data.SERVICES:
        if service.slug in ids:
            continue
        created_at = _days_ago(now, service.created_days_ago)
        updated_at = _days_ago(now, min(v.days_ago for v in service.versions))
        row = Service(
            id=new_id(),
            provider_id=provider_ids[service.provider_slug],
            slug=service.slug,
            name=service.name,
            description=service.description,
            category=service.category,
            tags=list(service.tags),
            status=service.status,
            status_reason=service.status_reason,
            current_version=service.current_version,
            endpoint_url=service.endpoint_url,
            data_region=service.data_region,
            privacy_policy_url=service.privacy_policy_url,
            terms_url=service.terms_url,
            pii_handling=service.pii_handling,
            created_at=created_at,
            updated_at=updated_at,
        )
        session.add(row)
        ids[service.slug] = row.id
        summary.services += 1
    await session.flush()
    return ids


async def _seed_versions(
    session: AsyncSession, now: datetime, service_ids: dict[str, str], summary: SeedSummary
) -> None:
    rows = await session.execute(
        select(ServiceVersion.service_id, ServiceVersion.version).where(
            ServiceVersion.service_id.in_(list(service_ids.values()))
        )
    )
    existing = {(service_id, version) for service_id, version in rows}
    for service in data.SERVICES:
        service_id = service_ids[service.slug]
        for version in service.versions:
            if (service_id, version.version) in existing:
                continue
            session.add(
                ServiceVersion(
                    id=new_id(),
                    service_id=service_id,
                    version=version.version,
                    changelog=version.changelog,
                    created_at=_days_ago(now, version.days_ago),
                )
            )
            summary.versions += 1
    await session.flush()


async def _services_having(
    session: AsyncSession, column: InstrumentedAttribute[str], service_ids: dict[str, str]
) -> set[str]:
    """Which of the services already have a row in ``column``'s table."""
    rows = await session.scalars(select(column).where(column.in_(list(service_ids.values()))))
    return set(rows.all())


async def _seed_pricing(
    session: AsyncSession, now: datetime, service_ids: dict[str, str], summary: SeedSummary
) -> None:
    priced = await _services_having(session, ServicePricing.service_id, service_ids)
    for service in data.SERVICES:
        service_id = service_ids[service.slug]
        if service_id in priced:
            continue
        pricing = service.pricing
        session.add(
            ServicePricing(
                id=new_id(),
                service_id=service_id,
                model=pricing.model,
                currency=pricing.currency,
                input_price_per_1k=pricing.input_price_per_1k,
                output_price_per_1k=pricing.output_price_per_1k,
                request_price=pricing.request_price,
                effective_from=_days_ago(now, service.created_days_ago),
            )
        )
        summary.pricing += 1
    await session.flush()


# --------------------------------------------------------------------------------------------
# Governance
# --------------------------------------------------------------------------------------------


async def _seed_policies(session: AsyncSession, now: datetime, summary: SeedSummary) -> None:
    names = [p.name for p in data.POLICIES]
    existing = set((await session.scalars(select(Policy.name).where(Policy.name.in_(names)))).all())
    created_at = _days_ago(now, 365)
    for policy in data.POLICIES:
        if policy.name in existing:
            continue
        session.add(
            Policy(
                id=new_id(),
                name=policy.name,
                description=policy.description,
                enforcement=policy.enforcement,
                rules=[dict(rule) for rule in policy.rules],
                active=True,
                version=1,
                created_by=data.SEED_ACTOR,
                created_at=created_at,
                updated_at=created_at,
            )
        )
        summary.policies += 1
    await session.flush()


async def _seed_compliance(
    session: AsyncSession, now: datetime, service_ids: dict[str, str], summary: SeedSummary
) -> None:
    checked = await _services_having(session, ComplianceCheck.service_id, service_ids)
    findings = {f.service_slug: f for f in data.COMPLIANCE_FINDINGS}
    for index, service in enumerate(data.SERVICES):
        service_id = service_ids[service.slug]
        if service.status != ServiceStatus.ACTIVE or service_id in checked:
            continue
        finding = findings.get(service.slug)
        session.add(
            ComplianceCheck(
                id=new_id(),
                service_id=service_id,
                # Spread over the last day, as a nightly re-check would leave them.
                checked_at=now - timedelta(hours=1, minutes=7 * index),
                compliant=True,
                score=finding.score if finding else Decimal("1.0000"),
                violations=[dict(v) for v in finding.violations] if finding else [],
            )
        )
        summary.compliance_checks += 1
    await session.flush()


async def _seed_approvals(
    session: AsyncSession, now: datetime, service_ids: dict[str, str], summary: SeedSummary
) -> None:
    """A PENDING approval request for every service seeded as PENDING_APPROVAL."""
    requested = await _services_having(session, ApprovalRequest.service_id, service_ids)
    owners = {p.slug: p.owner_subject for p in data.PROVIDERS}
    for service in data.SERVICES:
        service_id = service_ids[service.slug]
        if service.status != ServiceStatus.PENDING_APPROVAL or service_id in requested:
            continue
        created_at = _days_ago(now, min(v.days_ago for v in service.versions))
        session.add(
            ApprovalRequest(
                id=new_id(),
                service_id=service_id,
                requested_by=owners[service.provider_slug],
                status=ApprovalStatus.PENDING,
                reason=f"Publish {service.name} {service.current_version}",
                created_at=created_at,
                expires_at=created_at + APPROVAL_TTL,
            )
        )
        summary.approval_requests += 1
    await session.flush()


# --------------------------------------------------------------------------------------------
# Consumers and usage
# --------------------------------------------------------------------------------------------


async def _seed_consumers(
    session: AsyncSession, now: datetime, summary: SeedSummary
) -> dict[str, str]:
    subjects = [c.subject for c in data.CONSUMERS]
    rows = await session.execute(
        select(Consumer.subject, Consumer.id).where(Consumer.subject.in_(subjects))
    )
    ids: dict[str, str] = {subject: id_ for subject, id_ in rows}
    for consumer in data.CONSUMERS:
        if consumer.subject in ids:
            continue
        created_at = _days_ago(
            now,
            max(s.days_ago for s in data.SUBSCRIPTIONS if s.consumer_subject == consumer.subject)
            + 2,
        )
        row = Consumer(
            id=new_id(),
            subject=consumer.subject,
            name=consumer.name,
            email=consumer.email,
            created_at=created_at,
            updated_at=created_at,
        )
        session.add(row)
        ids[consumer.subject] = row.id
        summary.consumers += 1
    await session.flush()
    return ids


async def _seed_subscriptions(
    session: AsyncSession,
    now: datetime,
    consumer_ids: dict[str, str],
    service_ids: dict[str, str],
    summary: SeedSummary,
) -> None:
    plan_ids = {
        PlanTier(tier): id_ for tier, id_ in await session.execute(select(Plan.tier, Plan.id))
    }
    rows = await session.execute(
        select(Subscription.consumer_id, Subscription.service_id).where(
            Subscription.consumer_id.in_(list(consumer_ids.values()))
        )
    )
    existing = {(consumer_id, service_id) for consumer_id, service_id in rows}
    for sub in data.SUBSCRIPTIONS:
        key = (consumer_ids[sub.consumer_subject], service_ids[sub.service_slug])
        if key in existing:
            continue
        created_at = _days_ago(now, sub.days_ago)
        session.add(
            Subscription(
                id=new_id(),
                consumer_id=key[0],
                service_id=key[1],
                plan_id=plan_ids[sub.plan_tier],
                status=SubscriptionStatus.ACTIVE,
                created_at=created_at,
                updated_at=created_at,
            )
        )
        existing.add(key)
        summary.subscriptions += 1
    await session.flush()


@dataclass(frozen=True)
class UsageSeed:
    """One generated usage record, before consumer and service slugs become ids."""

    id: str
    occurred_at: datetime
    consumer_subject: str
    service_slug: str
    status_code: int
    input_tokens: int
    output_tokens: int
    cost: Decimal
    latency_ms: int
    ttfb_ms: int | None
    bytes_in: int
    bytes_out: int


def usage_cost(pricing: data.PricingSeed, input_tokens: int, output_tokens: int) -> Decimal:
    """The exact price of one successful call under ``pricing``."""
    if pricing.model == PricingModel.PER_REQUEST:
        return pricing.request_price or Decimal(0)
    thousand = Decimal(1000)
    cost = Decimal(input_tokens) / thousand * (pricing.input_price_per_1k or Decimal(0))
    cost += Decimal(output_tokens) / thousand * (pricing.output_price_per_1k or Decimal(0))
    return cost


def generate_usage(now: datetime) -> list[UsageSeed]:
    """The demo usage records: deterministic for a given ``now`` (fixed random seed).

    Calls spread over the last 30 days across the subscriptions to ACTIVE services, weighted
    toward working hours. Failed calls (4xx/5xx) carry no tokens and cost nothing.
    """
    rng = random.Random(data.USAGE_RANDOM_SEED)
    services = {s.slug: s for s in data.SERVICES}
    subscriptions = [
        s for s in data.SUBSCRIPTIONS if services[s.service_slug].status == ServiceStatus.ACTIVE
    ]
    error_codes = [code for code, _ in data.USAGE_ERROR_CODES]
    error_weights = [weight for _, weight in data.USAGE_ERROR_CODES]
    window_start = now - timedelta(days=data.USAGE_WINDOW_DAYS)
    window = data.USAGE_WINDOW_DAYS * 24 * 3600
    records: list[UsageSeed] = []
    for n in range(1, data.USAGE_RECORD_COUNT + 1):
        sub = rng.choice(subscriptions)
        service = services[sub.service_slug]
        occurred_at = (now - timedelta(seconds=rng.randrange(60, window))).replace(microsecond=0)
        if rng.random() < 0.6:  # most traffic in (UTC) business hours
            occurred_at = occurred_at.replace(hour=rng.randrange(8, 18))
            if occurred_at >= now:
                occurred_at -= timedelta(days=1)
            if occurred_at <= window_start:
                occurred_at += timedelta(days=1)
        failed = rng.random() < data.USAGE_ERROR_RATE
        status_code = rng.choices(error_codes, error_weights)[0] if failed else 200
        input_tokens = output_tokens = 0
        profile = data.USAGE_TOKEN_PROFILE.get(service.category)
        if not failed and profile and service.pricing.model == PricingModel.PER_TOKEN:
            (in_lo, in_hi), (out_lo, out_hi) = profile
            input_tokens = rng.randint(in_lo, in_hi)
            output_tokens = rng.randint(out_lo, out_hi)
        lat_lo, lat_hi = data.USAGE_LATENCY_MS.get(service.category, (100, 2_000))
        if failed:
            latency_ms = rng.randint(5, 60) if status_code < 500 else rng.randint(1_000, 30_000)
            ttfb_ms: int | None = None
        else:
            latency_ms = rng.randint(lat_lo, lat_hi)
            ttfb_ms = max(10, int(latency_ms * rng.uniform(0.05, 0.3)))
        records.append(
            UsageSeed(
                id=f"seed-{n:05d}",
                occurred_at=occurred_at,
                consumer_subject=sub.consumer_subject,
                service_slug=sub.service_slug,
                status_code=status_code,
                input_tokens=input_tokens,
                output_tokens=output_tokens,
                cost=Decimal(0)
                if failed
                else usage_cost(service.pricing, input_tokens, output_tokens),
                latency_ms=latency_ms,
                ttfb_ms=ttfb_ms,
                bytes_in=input_tokens * 4 + rng.randint(200, 900),
                bytes_out=(output_tokens * 4 + rng.randint(150, 600)) if not failed else 120,
            )
        )
    return records


async def _seed_usage(
    session: AsyncSession,
    now: datetime,
    consumer_ids: dict[str, str],
    service_ids: dict[str, str],
    summary: SeedSummary,
) -> None:
    records = generate_usage(now)
    existing = set(
        (
            await session.scalars(
                select(UsageRecord.id).where(UsageRecord.id.in_([r.id for r in records]))
            )
        ).all()
    )
    for record in records:
        if record.id in existing:
            continue
        session.add(
            UsageRecord(
                id=record.id,
                occurred_at=record.occurred_at,
                consumer_id=consumer_ids[record.consumer_subject],
                service_id=service_ids[record.service_slug],
                api_key_id=None,
                status_code=record.status_code,
                input_tokens=record.input_tokens,
                output_tokens=record.output_tokens,
                cost=record.cost,
                latency_ms=record.latency_ms,
                ttfb_ms=record.ttfb_ms,
                bytes_in=record.bytes_in,
                bytes_out=record.bytes_out,
                estimated=False,
            )
        )
        summary.usage_records += 1
    await session.flush()
