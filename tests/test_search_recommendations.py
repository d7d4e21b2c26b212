"""Recommendations: Service.similar, trendingServices, recommendedServices."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from graph.settings import Settings
from persistence.models import Consumer, Service, ServiceStatus, Subscription, UsageRecord
from tests.conftest import bearer, gql
from tests.search_support import runtime_of, search_settings


@pytest.fixture
def settings(backend: str, database_url: str, tmp_path: Path) -> Settings:
    return search_settings("builtin", database_url, tmp_path)


async def _ids_by_slug(client: httpx.AsyncClient) -> dict[str, Service]:
    async with runtime_of(client).session_factory() as session:
        return {s.slug: s for s in (await session.scalars(select(Service))).all()}


async def test_similar_services_share_the_category(seeded_client: httpx.AsyncClient):
    body = await gql(
        seeded_client,
        '{ service(slug: "lexica-embed-small") { category similar(first: 3) { slug category } } }',
    )
    service = body["data"]["service"]
    similar = service["similar"]
    assert 0 < len(similar) <= 3
    assert {s["category"] for s in similar} == {service["category"]}
    assert "lexica-embed-small" not in {s["slug"] for s in similar}


async def test_similar_ranks_listed_services_by_shared_tags_then_newest(
    seeded_client: httpx.AsyncClient,
):
    services = await _ids_by_slug(seeded_client)
    base = services["nimbus-coder"]
    peers = [s for s in services.values() if s.category == base.category and s is not base]
    # One peer leaves the listing: it must not be recommended any more.
    suspended = peers[0]
    async with runtime_of(seeded_client).session_factory() as session, session.begin():
        row = await session.get(Service, suspended.id)
        assert row is not None
        row.status = ServiceStatus.SUSPENDED
    listed = [p for p in peers[1:] if p.status in (ServiceStatus.ACTIVE, ServiceStatus.DEPRECATED)]
    expected = sorted(
        listed, key=lambda p: (-len(set(p.tags) & set(base.tags)), -p.created_at.timestamp(), p.id)
    )
    assert len(expected) >= 3
    body = await gql(
        seeded_client, '{ service(slug: "nimbus-coder") { similar(first: 50) { slug } } }'
    )
    assert [s["slug"] for s in body["data"]["service"]["similar"]] == [p.slug for p in expected]


async def _calls(
    client: httpx.AsyncClient, service: Service, consumer_id: str, at: datetime, n: int
):
    async with runtime_of(client).session_factory() as session, session.begin():
        for i in range(n):
            session.add(
                UsageRecord(
                    id=f"trend-{service.slug}-{at.timestamp()}-{i}",
                    occurred_at=at - timedelta(minutes=i),
                    consumer_id=consumer_id,
                    service_id=service.id,
                    status_code=200,
                    input_tokens=10,
                    output_tokens=10,
                    cost=Decimal("0.001"),
                    latency_ms=100,
                    bytes_in=10,
                    bytes_out=10,
                    estimated=False,
                )
            )


async def test_trending_ranks_by_growth_in_the_window(seeded_client: httpx.AsyncClient):
    services = await _ids_by_slug(seeded_client)
    now = datetime.now(UTC)
    # A burst of fresh calls makes this ACTIVE service the fastest-growing one today.
    await _calls(seeded_client, services["polyglot-translate"], "trend-consumer", now, 60)
    body = await gql(seeded_client, "{ trendingServices(window: DAY, first: 3) { slug status } }")
    trending = body["data"]["trendingServices"]
    assert trending[0]["slug"] == "polyglot-translate"
    assert {t["status"] for t in trending} == {"ACTIVE"}

    # A suspended service never trends, however much it is called.
    suspended = next(s for s in services.values() if s.status == ServiceStatus.SUSPENDED)
    await _calls(seeded_client, suspended, "trend-consumer", now, 100)
    body = await gql(seeded_client, "{ trendingServices(window: DAY, first: 10) { slug } }")
    assert suspended.slug not in {t["slug"] for t in body["data"]["trendingServices"]}

    too_many = await gql(seeded_client, "{ trendingServices(first: 101) { slug } }")
    assert too_many["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_recommended_uses_co_subscriptions_then_trending(
    seeded_client: httpx.AsyncClient, settings: Settings
):
    runtime = runtime_of(seeded_client)
    async with runtime.session_factory() as session:
        consumer = await session.scalar(select(Consumer).where(Consumer.subject == "consumer:acme"))
        assert consumer is not None
        own = set(
            (
                await session.scalars(
                    select(Subscription.service_id).where(Subscription.consumer_id == consumer.id)
                )
            ).all()
        )
        peers_use = set(
            (
                await session.scalars(
                    select(Subscription.service_id).where(
                        Subscription.consumer_id.in_(
                            select(Subscription.consumer_id).where(
                                Subscription.service_id.in_(own),
                                Subscription.consumer_id != consumer.id,
                            )
                        )
                    )
                )
            ).all()
        )
    expected = peers_use - own
    body = await gql(
        seeded_client,
        "{ recommendedServices(first: 20) { id status } }",
        headers=bearer(settings, "consumer:acme", "consumer"),
    )
    recommended = [r["id"] for r in body["data"]["recommendedServices"]]
    assert recommended, body
    assert not set(recommended) & own
    active = {s.id for s in (await _ids_by_slug(seeded_client)).values() if s.status == "ACTIVE"}
    assert set(recommended) <= active
    co_used = expected & active
    assert co_used  # the demo data has consumers sharing services with Acme
    # Co-used services come first; trending ones only top the list up.
    assert set(recommended[: len(co_used)]) == co_used

    anonymous = await gql(seeded_client, "{ recommendedServices(first: 3) { id } }")
    trending = await gql(seeded_client, "{ trendingServices(window: WEEK, first: 3) { id } }")
    assert anonymous["data"]["recommendedServices"] == trending["data"]["trendingServices"]
