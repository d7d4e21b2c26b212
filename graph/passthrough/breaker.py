"""A circuit breaker per upstream origin: open after consecutive failures, then one probe.

Closed: calls pass. After ``threshold`` consecutive failures it opens and refuses calls for
``reset_seconds``; then it is half-open and lets exactly one probe through: success closes
it, failure opens it again.
"""

from __future__ import annotations

import time
from dataclasses import dataclass


@dataclass
class _Circuit:
    failures: int = 0
    opened_at: float | None = None
    probing: bool = False


class CircuitBreakers:
    def __init__(self, threshold: int, reset_seconds: float) -> None:
        self._threshold = threshold
        self._reset = reset_seconds
        self._circuits: dict[str, _Circuit] = {}

    def allow(self, origin: str) -> bool:
        circuit = self._circuits.get(origin)
        if circuit is None or circuit.opened_at is None:
            return True
        if time.monotonic() - circuit.opened_at < self._reset or circuit.probing:
            return False
        circuit.probing = True  # half-open: this call is the probe
        return True

    def success(self, origin: str) -> None:
        self._circuits.pop(origin, None)

    def failure(self, origin: str) -> None:
        circuit = self._circuits.setdefault(origin, _Circuit())
        circuit.failures += 1
        circuit.probing = False
        if circuit.opened_at is not None or circuit.failures >= self._threshold:
            circuit.opened_at = time.monotonic()

    def is_open(self, origin: str) -> bool:
        circuit = self._circuits.get(origin)
        return circuit is not None and circuit.opened_at is not None
