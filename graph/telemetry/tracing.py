"""OpenTelemetry tracing, configured by the standard ``OTEL_*`` environment variables.

* ``OTEL_TRACES_EXPORTER``: ``otlp``, ``console``, ``none`` or a comma-separated list. Unset
  means ``none`` here (the embedded default needs no collector); setting
  ``OTEL_EXPORTER_OTLP_ENDPOINT`` or ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` alone implies
  ``otlp``. ``OTEL_SDK_DISABLED=true`` turns tracing off whatever else is set.
* ``OTEL_EXPORTER_OTLP_*`` (endpoint, headers, timeout…), ``OTEL_SERVICE_NAME``,
  ``OTEL_RESOURCE_ATTRIBUTES``, ``OTEL_TRACES_SAMPLER`` / ``OTEL_TRACES_SAMPLER_ARG`` and
  ``OTEL_BSP_*`` are read by the SDK and the OTLP exporter themselves.
* ``OTEL_PROPAGATORS`` (default W3C ``tracecontext,baggage``) is read by the API.

What gets spans, all through the maintained instrumentation packages: HTTP requests
(FastAPI/ASGI; the caller's ``traceparent`` is continued), database statements (SQLAlchemy),
Redis commands, Kafka produce/consume (aiokafka) and outgoing HTTP calls (httpx, which also
injects ``traceparent`` into the upstream request). GraphQL operations get one span each from
``graph.telemetry.graphql``.

OpenTelemetry allows one global tracer provider per process. So the provider is installed once
and holds a single ``SwappableSpanProcessor``; configuring again (another app in the same
process, a test) swaps the exporters behind it instead of stacking a second provider.
"""

from __future__ import annotations

import io
import os
import sys
import threading
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import IO, Any, cast

from fastapi import FastAPI
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SimpleSpanProcessor,
    SpanExporter,
)
from sqlalchemy.ext.asyncio import AsyncEngine

from graph.settings import SettingsError

DEFAULT_SERVICE_NAME = "marketplace-gateway"
# Probes and scrapes are frequent and uninteresting as traces.
DEFAULT_EXCLUDED_URLS = "/health,/health/ready,/metrics"

KNOWN_EXPORTERS = frozenset({"otlp", "console", "none"})


class TracingConfigError(SettingsError):
    """An ``OTEL_*`` variable names something this gateway cannot export to."""


@dataclass(frozen=True)
class TracingConfig:
    exporters: tuple[str, ...]

    @property
    def enabled(self) -> bool:
        return bool(self.exporters)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> TracingConfig:
        env = os.environ if environ is None else environ
        if env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
            return cls(exporters=())
        raw = env.get("OTEL_TRACES_EXPORTER", "").strip().lower()
        if not raw:
            endpoint = env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or env.get(
                "OTEL_EXPORTER_OTLP_ENDPOINT"
            )
            return cls(exporters=("otlp",) if endpoint else ())
        names = tuple(dict.fromkeys(n.strip() for n in raw.split(",") if n.strip()))
        unknown = sorted(set(names) - KNOWN_EXPORTERS)
        if unknown:
            raise TracingConfigError(
                f"OTEL_TRACES_EXPORTER: unsupported exporter {', '.join(unknown)} "
                f"(use {', '.join(sorted(KNOWN_EXPORTERS))})"
            )
        return cls(exporters=tuple(n for n in names if n != "none"))


class SwappableSpanProcessor(SpanProcessor):
    """Forwards to the processors currently configured; ``replace`` swaps them atomically."""

    def __init__(self) -> None:
        self._processors: tuple[SpanProcessor, ...] = ()
        self._lock = threading.Lock()

    def replace(self, processors: Sequence[SpanProcessor]) -> None:
        with self._lock:
            old, self._processors = self._processors, tuple(processors)
        for processor in old:
            processor.shutdown()

    def add(self, processor: SpanProcessor) -> None:
        with self._lock:
            self._processors = (*self._processors, processor)

    def on_start(self, span: Span, parent_context: otel_context.Context | None = None) -> None:
        for processor in self._processors:
            processor.on_start(span, parent_context=parent_context)

    def on_end(self, span: ReadableSpan) -> None:
        for processor in self._processors:
            processor.on_end(span)

    def shutdown(self) -> None:
        self.replace(())

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return all(p.force_flush(timeout_millis) for p in self._processors)


_lock = threading.Lock()
_processor: SwappableSpanProcessor | None = None
_libraries_instrumented = False
_traced_engines: weakref.WeakSet[AsyncEngine] = weakref.WeakSet()


class _CurrentStdout(io.TextIOBase):
    """Writes to whatever ``sys.stdout`` is at export time (the console exporter would keep
    the one it was created with, which a test capture or a reloader may have closed)."""

    def write(self, text: str) -> int:
        return sys.stdout.write(text)

    def flush(self) -> None:
        sys.stdout.flush()


def _exporter_processor(name: str) -> SpanProcessor:
    if name == "console":
        # Immediate, one JSON document per span: for development and for reading traces
        # in a terminal or a test, not for production volume.
        return SimpleSpanProcessor(ConsoleSpanExporter(out=cast(IO[str], _CurrentStdout())))
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    exporter: SpanExporter = OTLPSpanExporter()
    return BatchSpanProcessor(exporter)


def _resource() -> Resource:
    attributes: dict[str, str] = {}
    if not os.environ.get("OTEL_SERVICE_NAME") and "service.name=" not in os.environ.get(
        "OTEL_RESOURCE_ATTRIBUTES", ""
    ):
        attributes[SERVICE_NAME] = DEFAULT_SERVICE_NAME
    return Resource.create(attributes)


def span_processor() -> SwappableSpanProcessor:
    """The process's span processor, installing the SDK tracer provider on first use."""
    global _processor
    with _lock:
        if _processor is None:
            provider = TracerProvider(resource=_resource())  # sampler from OTEL_TRACES_SAMPLER
            processor = SwappableSpanProcessor()
            provider.add_span_processor(processor)
            trace.set_tracer_provider(provider)
            _processor = processor
        return _processor


def configure_tracing(config: TracingConfig) -> bool:
    """Install the tracer provider with ``config``'s exporters; False when tracing is off."""
    if not config.enabled:
        if _processor is not None:
            # A later configuration without tracing (a test, another app in the process)
            # stops exporting and takes the client-library patches off again.
            _processor.replace(())
            _uninstrument_libraries()
        return False
    span_processor().replace([_exporter_processor(name) for name in config.exporters])
    _instrument_libraries()
    return True


def _library_instrumentors() -> list[Any]:
    from opentelemetry.instrumentation.aiokafka import AIOKafkaInstrumentor
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
    from opentelemetry.instrumentation.redis import RedisInstrumentor

    return [HTTPXClientInstrumentor(), RedisInstrumentor(), AIOKafkaInstrumentor()]


def _instrument_libraries() -> None:
    """Client libraries are patched process-wide, once."""
    global _libraries_instrumented
    with _lock:
        if not _libraries_instrumented:
            for instrumentor in _library_instrumentors():
                instrumentor.instrument()
            _libraries_instrumented = True


def _uninstrument_libraries() -> None:
    global _libraries_instrumented
    with _lock:
        if _libraries_instrumented:
            for instrumentor in _library_instrumentors():
                instrumentor.uninstrument()
            _libraries_instrumented = False


def instrument_app(app: FastAPI) -> None:
    """Server spans for ``app``'s HTTP requests, continuing the caller's ``traceparent``."""
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    excluded = os.environ.get("OTEL_PYTHON_FASTAPI_EXCLUDED_URLS") or os.environ.get(
        "OTEL_PYTHON_EXCLUDED_URLS", DEFAULT_EXCLUDED_URLS
    )
    # The per-message "receive"/"send" child spans say nothing the server span does not.
    FastAPIInstrumentor.instrument_app(
        app, excluded_urls=excluded, exclude_spans=["receive", "send"]
    )


def instrument_engine(engine: AsyncEngine) -> None:
    """Spans for every statement sent through ``engine``.

    ``SQLAlchemyInstrumentor().instrument(engine=…)`` works for the first engine of a process
    only (an instrumentor instruments once), and a process here holds several over its life
    (tests, subgraph apps), so the instrumentation's own ``EngineTracer`` is attached per
    engine, which is what that call does.
    """
    if engine in _traced_engines:
        return
    from opentelemetry.instrumentation.sqlalchemy import __version__
    from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer
    from opentelemetry.metrics import get_meter

    tracer = trace.get_tracer("opentelemetry.instrumentation.sqlalchemy", __version__)
    connections_usage = get_meter(__name__).create_up_down_counter(
        "db.client.connections.usage", unit="connections"
    )
    EngineTracer(tracer, engine.sync_engine, connections_usage)
    _traced_engines.add(engine)
