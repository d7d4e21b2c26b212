"""One metered call, as recorded in ``usage_records`` and published to Kafka."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from resolvers.metering.quota import Reservation


@dataclass(frozen=True)
class UsageEvent:
    id: str  # the request id: inserts and consumers deduplicate on it
    occurred_at: datetime
    consumer_id: str
    service_id: str
    api_key_id: str | None
    status_code: int
    input_tokens: int
    output_tokens: int
    cost: Decimal
    latency_ms: int
    ttfb_ms: int | None
    bytes_in: int
    bytes_out: int
    estimated: bool
    reservation: Reservation | None = None

    def record(self) -> dict[str, Any]:
        """Column values of the usage record."""
        return {
            "id": self.id,
            "occurred_at": self.occurred_at,
            "consumer_id": self.consumer_id,
            "service_id": self.service_id,
            "api_key_id": self.api_key_id,
            "status_code": self.status_code,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cost": self.cost,
            "latency_ms": self.latency_ms,
            "ttfb_ms": self.ttfb_ms,
            "bytes_in": self.bytes_in,
            "bytes_out": self.bytes_out,
            "estimated": self.estimated,
        }

    def payload(self) -> dict[str, Any]:
        """The Kafka message body (JSON): money as a decimal string, times in ISO 8601."""
        record = self.record()
        record["occurred_at"] = self.occurred_at.isoformat()
        record["cost"] = str(self.cost)
        return record
