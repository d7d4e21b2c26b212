"""Throughput with tracing off, on (100 % sampling), and on with per-field spans.

Each mode is its own gateway process on the same seeded SQLite data; rounds alternate the
modes so machine drift affects all of them. Traces go over OTLP/HTTP to a local sink that
answers 200 to every export, so the figures include span creation, batching, protobuf
encoding and the HTTP export, but no collector.

"on + field spans" adds strawberry's ``OpenTelemetryExtension`` (one span per resolved
field) on top, to decide whether per-field spans pay for themselves.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from fastapi import FastAPI

from bench.harness import as_dict, drive, free_port, gateway, machine, save, seeded_env

QUERY = """
query Catalog($n: Int) {
  services(first: $n) { edges { node {
    id slug name tags provider { name } versions { version }
  } } }
}
"""
ROUNDS = 2
SECONDS = 8.0
CONCURRENCY = 8


class _Sink(BaseHTTPRequestHandler):
    spans_bytes = 0

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length", 0))
        _Sink.spans_bytes += len(self.rfile.read(length))
        self.send_response(200)
        self.send_header("content-type", "application/x-protobuf")
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *_args: Any) -> None:
        pass


@contextmanager
def otlp_sink() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), _Sink)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


def create_app_with_field_spans() -> FastAPI:
    """The gateway plus strawberry's per-field OpenTelemetry extension (bench only)."""
    from strawberry.extensions.tracing import OpenTelemetryExtension

    from graph.app import create_app
    from graph.schema import composed_schema

    schema = composed_schema()
    schema.extensions = (*schema.extensions, OpenTelemetryExtension)
    return create_app()


def main() -> dict[str, Any]:
    body = {"query": QUERY, "variables": {"n": 20}}
    modes = ("off", "on", "on + field spans")
    runs: dict[str, list[dict[str, Any]]] = {mode: [] for mode in modes}
    with seeded_env() as env, otlp_sink() as sink:
        traced = {
            **env,
            "OTEL_TRACES_EXPORTER": "otlp",
            "OTEL_EXPORTER_OTLP_ENDPOINT": sink,
            "OTEL_TRACES_SAMPLER": "always_on",
        }
        configs = {
            "off": (env, "graph.app:create_app"),
            "on": (traced, "graph.app:create_app"),
            "on + field spans": (traced, "bench.tracing:create_app_with_field_spans"),
        }
        for _ in range(ROUNDS):
            for mode in modes:
                mode_env, app = configs[mode]
                with gateway(mode_env, app=app) as base:
                    result = asyncio.run(
                        drive(f"{base}/graphql", body, concurrency=CONCURRENCY, seconds=SECONDS)
                    )
                runs[mode].append(as_dict(result))
    best = {mode: max(results, key=lambda r: r["rps"]) for mode, results in runs.items()}
    summary = {
        "scenario": "services(first: 20) with provider and versions, tracing off vs on",
        "machine": machine(),
        "concurrency": CONCURRENCY,
        "seconds_per_round": SECONDS,
        "sampling": "always_on (100 %)",
        "otlp_bytes_received": _Sink.spans_bytes,
        "runs": runs,
        "best": best,
        "rps_ratio_on_over_off": round(best["on"]["rps"] / best["off"]["rps"], 3),
        "rps_ratio_field_spans_over_off": round(
            best["on + field spans"]["rps"] / best["off"]["rps"], 3
        ),
    }
    save("tracing", summary)
    return summary


if __name__ == "__main__":
    import json

    print(json.dumps(main(), indent=2))
