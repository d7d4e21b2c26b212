"""Test plumbing for the passthrough: real servers on loopback ports, a listed service."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any

import httpx
import uvicorn
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from graph.settings import Settings
from persistence.models import (
    PricingModel,
    Provider,
    Service,
    ServicePricing,
    ServiceStatus,
)
from tests.conftest import bearer

INPUT_PER_1K = Decimal("0.0015")
OUTPUT_PER_1K = Decimal("0.002")
REQUEST_PRICE = Decimal("0.0001")


@asynccontextmanager
async def serve(app: Any) -> AsyncIterator[str]:
    """Run an ASGI app with uvicorn on a free loopback port in this event loop."""
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def list_service(
    sessions: async_sessionmaker[AsyncSession],
    upstream_url: str,
    *,
    slug: str = "fake-llm",
    owner: str = "provider-1",
    status: ServiceStatus = ServiceStatus.ACTIVE,
    upstream_auth: str | None = "Bearer sk-provider-secret",
) -> str:
    async with sessions() as session, session.begin():
        provider = Provider(slug=f"{slug}-provider", name="Fake", owner_subject=owner)
        session.add(provider)
        await session.flush()
        service = Service(
            provider_id=provider.id,
            slug=slug,
            name=slug,
            category="chat",
            status=status,
            current_version="1.0.0",
            endpoint_url=upstream_url,
            upstream_auth_header=upstream_auth,
        )
        session.add(service)
        await session.flush()
        session.add(
            ServicePricing(
                service_id=service.id,
                model=PricingModel.PER_TOKEN,
                input_price_per_1k=INPUT_PER_1K,
                output_price_per_1k=OUTPUT_PER_1K,
                request_price=REQUEST_PRICE,
            )
        )
        return service.id


def expected_cost(input_tokens: int, output_tokens: int) -> Decimal:
    return INPUT_PER_1K * input_tokens / 1000 + OUTPUT_PER_1K * output_tokens / 1000 + REQUEST_PRICE


async def graphql(
    http: httpx.AsyncClient,
    settings: Settings,
    subject: str,
    query: str,
    variables: dict[str, Any] | None = None,
    *roles: str,
) -> dict[str, Any]:
    response = await http.post(
        "/graphql",
        json={"query": query, "variables": variables or {}},
        headers=bearer(settings, subject, *(roles or ("consumer",))),
    )
    body: dict[str, Any] = response.json()
    return body


SUBSCRIBE = """mutation($s: ID!, $p: PlanTier!) {
  subscribe(input: {serviceId: $s, plan: $p}) { subscription { id status plan { tier } } }
}"""
CREATE_KEY = """mutation($n: String!) {
  createApiKey(input: {name: $n}) { apiKey { id prefix name createdAt } secret }
}"""


async def onboard(
    http: httpx.AsyncClient,
    settings: Settings,
    subject: str,
    service_id: str,
    plan: str = "PRO",
) -> tuple[str, str]:
    """Subscribe ``subject`` to the service and create a key: (subscription id, secret)."""
    sub = await graphql(http, settings, subject, SUBSCRIBE, {"s": service_id, "p": plan})
    assert "errors" not in sub, sub
    key = await graphql(http, settings, subject, CREATE_KEY, {"n": "test key"})
    assert "errors" not in key, key
    return sub["data"]["subscribe"]["subscription"]["id"], key["data"]["createApiKey"]["secret"]
