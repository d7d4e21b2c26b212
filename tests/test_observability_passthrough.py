"""Acceptance: one passthrough call is one trace, and the upstream continues it."""

from __future__ import annotations

from pathlib import Path

import pytest

from graph.telemetry.tracing import span_processor
from tests.fake_llm.app import create_app as create_fake_llm
from tests.fake_llm.harness import list_service, onboard, serve
from tests.test_observability_tracing import console_spans
from tests.test_passthrough import passthrough_settings, running_gateway


async def test_passthrough_call_is_one_trace_through_http_database_and_upstream(
    capfd: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    database_url: str,
    tmp_path: Path,
):
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "console")
    settings = passthrough_settings(database_url, tmp_path)
    try:
        async with serve(create_fake_llm()) as upstream, running_gateway(settings) as gateway:
            service_id = await list_service(gateway.sessions, upstream)
            _, secret = await onboard(gateway.http, settings, "obs-alice", service_id)
            capfd.readouterr()
            response = await gateway.http.get(
                "/v1/services/fake-llm/echo", headers={"X-API-Key": secret}
            )
            assert response.status_code == 200, response.text
            await gateway.drain()
    finally:
        span_processor().replace(())
    received = response.json()["headers"]

    spans = console_spans(capfd.readouterr().out)
    server = [
        s
        for s in spans
        if s["kind"] == "SpanKind.SERVER"
        and s["attributes"].get("http.route") == "/v1/services/{service_slug}/{path:path}"
    ]
    assert len(server) == 1, [s["name"] for s in spans]
    trace_id = server[0]["context"]["trace_id"]
    in_trace = [s for s in spans if s["context"]["trace_id"] == trace_id]
    database = [s for s in in_trace if "db.system" in s["attributes"]]
    upstream_calls = [
        s
        for s in in_trace
        if s["kind"] == "SpanKind.CLIENT"
        and upstream in str(s["attributes"].get("url.full") or s["attributes"].get("http.url"))
    ]
    assert database, [s["name"] for s in in_trace]
    assert len(upstream_calls) == 1, [s["name"] for s in in_trace]

    # The upstream received a W3C traceparent of this trace, naming the upstream-call span.
    version, received_trace, parent_span, _flags = received["traceparent"].split("-")
    assert version == "00"
    assert f"0x{received_trace}" == trace_id
    assert f"0x{parent_span}" == upstream_calls[0]["context"]["span_id"]
    # The consumer's API key was not forwarded to the upstream.
    assert secret not in str(received)
