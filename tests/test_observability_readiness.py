"""``/health/ready``: each configured backend with its state; 503 when one is down."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator

import httpx
import pytest

from graph.app import create_app
from graph.settings import Settings, load_settings
from tests.conftest import service_url


def closed_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def ready(settings: Settings) -> httpx.Response:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as http:
            return await http.get("/health/ready")


@pytest.fixture
def backend_settings(database_url: str, tmp_path) -> AsyncIterator[object]:
    def make(**overrides: object) -> Settings:
        return load_settings(database_url=database_url, data_dir=tmp_path, **overrides)

    return make  # type: ignore[return-value]


@pytest.mark.parametrize(
    ("backend_name", "setting", "url"),
    [
        ("redis", "redis_url", "redis://127.0.0.1:{port}/0"),
        ("elasticsearch", "elasticsearch_url", "http://127.0.0.1:{port}"),
    ],
)
async def test_a_required_backend_down_answers_503(
    backend_settings, backend_name: str, setting: str, url: str
):
    response = await ready(backend_settings(**{setting: url.format(port=closed_port())}))
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["backends"][backend_name]["status"] == "down"
    assert body["backends"][backend_name]["error"]
    assert body["backends"]["database"]["status"] == "up"


async def test_kafka_down_answers_503_while_the_gateway_runs(backend_settings):
    # The governance stream reconnects in the background, so the gateway starts and serves
    # with Kafka down; readiness says so. (tests/test_observability_recorded.py drives the
    # passthrough, search and the outboxes through the same outage.)
    settings = backend_settings(kafka_bootstrap_servers=f"127.0.0.1:{closed_port()}")
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as http:
            response = await http.get("/health/ready")
            assert (await http.get("/health")).json() == {"status": "ok"}
            query = await http.post("/graphql", json={"query": "{ services { totalCount } }"})
    assert response.status_code == 503
    assert response.json()["backends"]["kafka"]["status"] == "down"
    assert response.json()["backends"]["database"]["status"] == "up"
    assert query.json()["data"] == {"services": {"totalCount": 0}}


async def test_all_configured_backends_up_answers_200(backend_settings):
    response = await ready(
        backend_settings(
            redis_url=service_url("MARKETPLACE_REDIS_URL"),
            kafka_bootstrap_servers=service_url("MARKETPLACE_KAFKA_BOOTSTRAP_SERVERS"),
            elasticsearch_url=service_url("MARKETPLACE_ELASTICSEARCH_URL"),
        )
    )
    assert response.status_code == 200, response.text
    backends = response.json()["backends"]
    assert set(backends) == {"database", "redis", "kafka", "elasticsearch"}
    assert all(b["status"] == "up" for b in backends.values())


async def test_liveness_checks_no_backend(backend_settings):
    settings = backend_settings(redis_url=f"redis://127.0.0.1:{closed_port()}/0")
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as http:
            assert (await http.get("/health")).json() == {"status": "ok"}
