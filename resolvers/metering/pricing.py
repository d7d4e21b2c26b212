"""Exact cost of a call: Decimal prices times token counts, never floats."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

THOUSAND = Decimal(1000)


@dataclass(frozen=True)
class Price:
    """The price list in force for a service (token prices per 1,000 tokens)."""

    input_per_1k: Decimal | None = None
    output_per_1k: Decimal | None = None
    per_request: Decimal | None = None
    currency: str = "USD"  # ISO 4217, as listed with the prices

    def cost(self, input_tokens: int, output_tokens: int) -> Decimal:
        total = Decimal(0)
        if self.input_per_1k is not None:
            total += self.input_per_1k * input_tokens / THOUSAND
        if self.output_per_1k is not None:
            total += self.output_per_1k * output_tokens / THOUSAND
        if self.per_request is not None:
            total += self.per_request
        return total


FREE = Price()
