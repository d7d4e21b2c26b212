"""The per-request DataLoaders. Every field that loads related data goes through one of these,
so a query's statement count does not grow with the size of the lists it returns."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from strawberry.dataloader import DataLoader

from persistence.models import (
    ApiKey,
    AuditEntry,
    Consumer,
    Plan,
    QuotaCounter,
    ServicePricing,
    ServiceVersion,
    Subscription,
)
from persistence.models.records import ComplianceRecord, ProviderRecord, ServiceRecord
from resolvers import catalog, governance, search, usage
from resolvers.catalog import Page, ProviderServicesKey
from resolvers.db import RequestDB

K = TypeVar("K")
V = TypeVar("V")


def _make_loader(
    db: RequestDB,
    fn: Callable[[RequestDB, Sequence[K]], Awaitable[Sequence[V]]],
    batching: bool = True,
) -> DataLoader[K, V]:
    async def load(keys: list[K]) -> Sequence[V]:
        return await fn(db, keys)

    if batching:
        return DataLoader(load_fn=load)
    # The naive baseline: one statement per parent, nothing cached (benchmarks only).
    return DataLoader(load_fn=load, max_batch_size=1, cache=False)


@dataclass
class Loaders:
    service_by_id: DataLoader[str, ServiceRecord | None]
    service_by_slug: DataLoader[str, ServiceRecord | None]
    provider_by_id: DataLoader[str, ProviderRecord | None]
    provider_by_slug: DataLoader[str, ProviderRecord | None]
    versions_by_service: DataLoader[str, list[ServiceVersion]]
    pricing_by_service: DataLoader[str, ServicePricing | None]
    services_page_by_provider: DataLoader[ProviderServicesKey, Page[ServiceRecord]]
    service_count_by_provider: DataLoader[str, int]
    compliance_by_service: DataLoader[str, ComplianceRecord | None]
    audit_trail_by_service: DataLoader[governance.AuditTrailKey, list[AuditEntry]]
    usage_totals_by_service: DataLoader[usage.UsageStatsKey, usage.UsageTotals]
    similar_services: DataLoader[search.SimilarKey, list[str]]
    consumer_by_id: DataLoader[str, Consumer | None]
    consumer_by_subject: DataLoader[str, Consumer | None]
    api_keys_by_consumer: DataLoader[str, list[ApiKey]]
    subscriptions_by_consumer: DataLoader[str, list[tuple[Subscription, Plan]]]
    quota_counter: DataLoader[tuple[str, str], QuotaCounter | None]

    @classmethod
    def create(cls, db: RequestDB, *, batching: bool = True) -> Loaders:
        def _loader(fn: Any) -> Any:
            return _make_loader(db, fn, batching)

        return cls(
            service_by_id=_loader(catalog.services_by_id),
            service_by_slug=_loader(catalog.services_by_slug),
            provider_by_id=_loader(catalog.providers_by_id),
            provider_by_slug=_loader(catalog.providers_by_slug),
            versions_by_service=_loader(catalog.versions_by_service),
            pricing_by_service=_loader(catalog.pricing_by_service),
            services_page_by_provider=_loader(catalog.services_page_by_provider),
            service_count_by_provider=_loader(catalog.service_counts_by_provider),
            compliance_by_service=_loader(governance.latest_compliance_by_service),
            audit_trail_by_service=_loader(governance.audit_trails_by_service),
            usage_totals_by_service=_loader(usage.usage_totals_by_service),
            similar_services=_loader(search.similar_services),
            consumer_by_id=_loader(usage.consumers_by_id),
            consumer_by_subject=_loader(usage.consumers_by_subject),
            api_keys_by_consumer=_loader(usage.api_keys_by_consumer),
            subscriptions_by_consumer=_loader(usage.subscriptions_by_consumer),
            quota_counter=_loader(usage.quota_counters_by_subscription),
        )
