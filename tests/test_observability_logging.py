"""Structured logs: one JSON line per request, level from settings, secrets never logged."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from graph.auth import issue_token
from graph.settings import Settings
from graph.telemetry.logging import configure_logging
from graph.telemetry.redaction import redact
from tests.conftest import bearer, gql
from tests.publishing_helpers import service_input

API_KEY = "mk_Zk9vYmFyLXNlY3JldC1rZXktdmFsdWUtMTIzNDU2Nzg"
UPSTREAM_KEY = "sk-upstreamSECRETvalue0123456789"


@pytest.fixture
def log_stream(settings: Settings) -> Iterator[io.StringIO]:
    """What the gateway's log handler writes, for the length of the test."""
    stream = io.StringIO()
    handler = configure_logging(settings.log_level, stream=stream)
    yield stream
    handler.setStream(None)  # type: ignore[arg-type]  # back to the process's stderr


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


async def test_one_json_line_per_request_with_request_id(
    client: httpx.AsyncClient, log_stream: io.StringIO
):
    await client.get("/health", headers={"X-Request-ID": "req-obs-1"})
    access = [r for r in lines(log_stream) if r["logger"] == "marketplace.access"]
    assert len(access) == 1
    record = access[0]
    assert record["request_id"] == "req-obs-1"
    assert record["method"] == "GET" and record["path"] == "/health"
    assert record["status"] == 200 and record["route"] == "/health"
    assert record["level"] == "INFO" and isinstance(record["duration_ms"], float)
    assert "trace_id" in record  # null while tracing is off


async def test_api_keys_jwts_and_upstream_credentials_never_reach_the_logs(
    client: httpx.AsyncClient, log_stream: io.StringIO, settings: Settings
):
    jwt = issue_token(settings, subject="alice", roles=["admin"])
    headers = {"Authorization": f"Bearer {jwt}", "X-API-Key": API_KEY}
    await gql(client, "{ services(first: 1) { totalCount } }", headers=headers)
    await client.get(f"/v1/services/some-service/chat?api_key={API_KEY}", headers=headers)
    await client.get(f"/no-such-route?token={jwt}&key={API_KEY}")
    # Whatever a component logs, deliberately or through a traceback, is redacted too.
    log = logging.getLogger("marketplace.test")
    log.warning("request headers %s", headers)
    log.warning("upstream call", extra={"upstream_headers": {"Authorization": UPSTREAM_KEY}})
    log.warning("connecting to postgresql://gateway:s3cr3t-pw@db:5432/marketplace")
    try:
        raise RuntimeError(f"upstream refused key {UPSTREAM_KEY} for {API_KEY}")
    except RuntimeError:
        log.exception("upstream failed")

    output = log_stream.getvalue()
    assert output.count("\n") >= 7
    secret_parts = [API_KEY, API_KEY[3:], jwt, *jwt.split("."), UPSTREAM_KEY, "s3cr3t-pw"]
    for secret in secret_parts:
        assert secret not in output
    assert "[REDACTED]" in output
    lines(log_stream)  # still one valid JSON object per line after redaction


async def test_an_upstream_credential_set_through_the_api_never_reaches_the_logs(
    client: httpx.AsyncClient, log_stream: io.StringIO, settings: Settings
):
    # An opaque value that no redaction pattern recognises: it must not be logged at all.
    opaque = "opaqueCredentialValue0987654321"
    admin = bearer(settings, "admin:root", "admin")
    created = await gql(
        client,
        'mutation { createProvider(input: {slug: "logged", name: "Logged"}) { provider { id } } }',
        headers=admin,
    )
    provider_id = created["data"]["createProvider"]["provider"]["id"]
    published = await gql(
        client,
        "mutation($input: PublishServiceInput!) { publishService(input: $input) "
        "{ service { id } } }",
        {"input": service_input(provider_id)},
        headers=admin,
    )
    service_id = published["data"]["publishService"]["service"]["id"]
    mutation = (
        "mutation($id: ID!, $h: String) { setUpstreamCredential("
        "input: {serviceId: $id, header: $h}) { service { upstreamAuthConfigured } } }"
    )
    for header in (f"X-Upstream-Key: {opaque}", f"Host: {opaque}", f"X-Key: {opaque}\r\nX: y"):
        await gql(client, mutation, {"id": service_id, "h": header}, headers=admin)
    output = log_stream.getvalue()
    assert "/graphql" in output
    assert opaque not in output


async def test_log_level_comes_from_settings(client: httpx.AsyncClient, settings: Settings):
    stream = io.StringIO()
    handler = configure_logging("WARNING", stream=stream)
    try:
        await client.get("/health")
        logging.getLogger("marketplace.test").warning("kept")
    finally:
        configure_logging(settings.log_level)
        handler.setStream(None)  # type: ignore[arg-type]
    messages = [r["message"] for r in lines(stream)]
    assert messages == ["kept"]


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        (f"key={API_KEY}", "key="),
        ('{"authorization": "Basic dXNlcjpwYXNz"}', "authorization"),
        ("redis://:hunter2hunter2@cache:6379/0", "redis://"),
        ("X-API-Key: abcdef123456", "X-API-Key"),
        ("password=hunter2", "password="),
    ],
)
def test_redaction_removes_the_secret_and_keeps_the_context(text: str, kept: str):
    redacted = redact(text)
    assert kept in redacted and "[REDACTED]" in redacted
    for secret in (API_KEY, "dXNlcjpwYXNz", "hunter2", "abcdef123456"):
        assert secret not in redacted


def test_redaction_leaves_ordinary_text_alone():
    text = "GET /graphql 200 service=mk-demo-chat tokens=120 duration_ms=12.5"
    assert redact(text) == text
