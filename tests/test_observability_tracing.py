"""Tracing: configuration from OTEL_* variables, and one trace per request end to end."""

from __future__ import annotations

import json
import secrets
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from graph.app import create_app
from graph.settings import Settings
from graph.telemetry.tracing import TracingConfig, TracingConfigError, span_processor
from tests.conftest import gql


@pytest.mark.parametrize(
    ("environ", "exporters"),
    [
        ({}, ()),
        ({"OTEL_TRACES_EXPORTER": "none"}, ()),
        ({"OTEL_TRACES_EXPORTER": "console"}, ("console",)),
        ({"OTEL_TRACES_EXPORTER": "otlp, console"}, ("otlp", "console")),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, ("otlp",)),
        ({"OTEL_TRACES_EXPORTER": "console", "OTEL_SDK_DISABLED": "true"}, ()),
    ],
)
def test_exporters_come_from_the_standard_variables(
    environ: dict[str, str], exporters: tuple[str, ...]
):
    assert TracingConfig.from_env(environ).exporters == exporters


def test_unknown_exporter_is_a_configuration_error():
    with pytest.raises(TracingConfigError, match=r"OTEL_TRACES_EXPORTER.*zipkin"):
        TracingConfig.from_env({"OTEL_TRACES_EXPORTER": "zipkin"})


def console_spans(output: str) -> list[dict[str, Any]]:
    """The JSON documents the console exporter printed (one per span, indented)."""
    decoder = json.JSONDecoder()
    spans, index = [], 0
    while (start := output.find("{", index)) != -1:
        try:
            document, index = decoder.raw_decode(output, start)
        except json.JSONDecodeError:
            index = start + 1
            continue
        if isinstance(document, dict) and "context" in document and "kind" in document:
            spans.append(document)
    return spans


@pytest.fixture
async def traced_client(
    capfd: pytest.CaptureFixture[str], settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[httpx.AsyncClient]:
    """The gateway as ``OTEL_TRACES_EXPORTER=console`` configures it."""
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "console")
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as http:
            yield http
    span_processor().replace(())  # later tests' apps do not export


async def test_graphql_request_is_one_trace_from_http_to_database(
    capfd: pytest.CaptureFixture[str], traced_client: httpx.AsyncClient
):
    capfd.readouterr()
    caller_trace, caller_span = secrets.token_hex(16), secrets.token_hex(8)
    body = await gql(
        traced_client,
        "query Catalog { services(first: 3) { totalCount } }",
        headers={"traceparent": f"00-{caller_trace}-{caller_span}-01"},
    )
    assert "errors" not in body, body

    spans = console_spans(capfd.readouterr().out)
    ours = [s for s in spans if s["context"]["trace_id"] == f"0x{caller_trace}"]
    kinds = {s["kind"] for s in ours}
    names = [s["name"] for s in ours]
    assert "SpanKind.SERVER" in kinds, names  # the HTTP request, continued from the caller
    http_span = next(s for s in ours if s["kind"] == "SpanKind.SERVER")
    assert http_span["parent_id"] == f"0x{caller_span}"
    assert http_span["attributes"].get("http.route") == "/graphql"
    operation = next(s for s in ours if s["name"] == "query Catalog")
    assert operation["attributes"]["graphql.operation.type"] == "query"
    assert operation["attributes"]["graphql.operation.name"] == "Catalog"
    assert operation["attributes"]["graphql.operation.cost"] >= 1
    database = [s for s in ours if "db.system" in s["attributes"]]
    assert database, names
    # Statements run inside the operation span, which runs inside the HTTP span.
    assert {s["parent_id"] for s in database} == {operation["context"]["span_id"]}
    assert operation["parent_id"] == http_span["context"]["span_id"]
    assert http_span["resource"]["attributes"]["service.name"] == "marketplace-gateway"


async def test_graphql_errors_mark_the_operation_span(
    capfd: pytest.CaptureFixture[str], traced_client: httpx.AsyncClient
):
    capfd.readouterr()
    body = await gql(traced_client, "query Broken { noSuchField }")
    assert body["errors"]
    operation = next(
        s for s in console_spans(capfd.readouterr().out) if s["name"] == "query Broken"
    )
    assert operation["status"]["status_code"] == "ERROR"
    assert operation["attributes"]["graphql.error.count"] == 1


async def test_without_otel_variables_nothing_is_exported(
    client: httpx.AsyncClient, capfd: pytest.CaptureFixture[str]
):
    capfd.readouterr()
    await gql(client, "query Catalog { services(first: 1) { totalCount } }")
    assert console_spans(capfd.readouterr().out) == []
