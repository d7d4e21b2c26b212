"""Structured logs: one JSON object per line on stderr, secrets redacted, level from settings.

``configure_logging`` installs one handler on the root logger (idempotent, so creating
several apps in one process does not duplicate lines). Uvicorn's own loggers propagate to it;
its access log is replaced by ``marketplace.access``, which ``graph.telemetry.http`` writes
once per request with the request id and the trace id.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

from pythonjsonlogger.json import JsonFormatter

from graph.telemetry.redaction import redact

ACCESS_LOGGER = "marketplace.access"

# Loggers that would otherwise print their own, unredacted, unstructured lines.
_ADOPTED_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "gunicorn.error")


class RedactingJsonFormatter(JsonFormatter):
    """JSON lines with ``time``, ``level``, ``logger``, ``message`` and any ``extra`` fields;
    the finished line goes through ``redact`` so no field can leak a secret."""

    def __init__(self) -> None:
        super().__init__(
            "%(asctime)s %(levelname)s %(name)s %(message)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            datefmt="%Y-%m-%dT%H:%M:%S%z",
        )

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class _GatewayHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The handler this module installs (found again by type, so installed once).

    Without an explicit stream it writes to whatever ``sys.stderr`` is at emit time, as
    ``logging.lastResort`` does, so a replaced stderr (test capture, reloaders) is followed.
    """

    def __init__(self, stream: Any = None) -> None:
        super().__init__(stream)
        self._fixed = stream

    @property  # type: ignore[override]
    def stream(self) -> Any:
        return self._fixed if self._fixed is not None else sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        self._fixed = value


def configure_logging(level: str, stream: Any = None) -> logging.Handler:
    """Send every log record through one redacting JSON handler at ``level``."""
    root = logging.getLogger()
    handler = next((h for h in root.handlers if isinstance(h, _GatewayHandler)), None)
    if handler is None:
        handler = _GatewayHandler(stream)
        handler.setFormatter(RedactingJsonFormatter())
        root.addHandler(handler)
    elif stream is not None:
        handler.setStream(stream)
    root.setLevel(level)
    for name in _ADOPTED_LOGGERS:
        adopted = logging.getLogger(name)
        adopted.handlers.clear()
        adopted.propagate = True
    # One access line per request comes from the gateway's own middleware.
    logging.getLogger("uvicorn.access").disabled = True
    return handler
