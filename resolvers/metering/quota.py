"""Monthly (UTC calendar month) request/token quotas and budgets, exact across replicas.

Before forwarding, a call *reserves* one request plus its estimated tokens and cost with one
conditional UPDATE: the database serialises concurrent reservations on the counter row, so
every replica sees the others' reservations. The usage writer later *settles* the difference
between estimate and actual in the same transaction as the usage record. A call is admitted
while the counters are below the limits, so the overrun is at most one in-flight call's
reservation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import Update, and_, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from persistence.models import QuotaCounter


def period_of(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m")


def period_reset(moment: datetime) -> datetime:
    """The start of the next calendar month (UTC): when the counters start again."""
    moment = moment.astimezone(UTC)
    year, month = (moment.year + 1, 1) if moment.month == 12 else (moment.year, moment.month + 1)
    return datetime(year, month, 1, tzinfo=UTC)


@dataclass(frozen=True)
class QuotaLimits:
    requests: int | None
    tokens: int | None
    budget: Decimal | None

    @property
    def unlimited(self) -> bool:
        return self.requests is None and self.tokens is None and self.budget is None


@dataclass(frozen=True)
class Reservation:
    subscription_id: str
    period: str
    tokens: int
    cost: Decimal


class QuotaExceeded(Exception):
    def __init__(self, code: str, reset_at: datetime) -> None:
        super().__init__(code)
        self.code = code  # QUOTA_EXCEEDED or BUDGET_EXCEEDED
        self.reset_at = reset_at


async def reserve(
    engine: AsyncEngine,
    *,
    subscription_id: str,
    limits: QuotaLimits,
    tokens: int,
    cost: Decimal,
    now: datetime,
) -> Reservation:
    period = period_of(now)
    reservation = Reservation(subscription_id, period, tokens, cost)
    key = and_(QuotaCounter.subscription_id == subscription_id, QuotaCounter.period == period)
    conditions = [key]
    if limits.requests is not None:
        conditions.append(QuotaCounter.requests < limits.requests)
    if limits.tokens is not None:
        conditions.append(QuotaCounter.tokens < limits.tokens)
    if limits.budget is not None:
        conditions.append(QuotaCounter.spend < limits.budget)
    statement = (
        update(QuotaCounter)
        .where(*conditions)
        .values(
            requests=QuotaCounter.requests + 1,
            tokens=QuotaCounter.tokens + tokens,
            spend=QuotaCounter.spend + cost,
        )
    )
    reset_at = period_reset(now)
    for _ in range(5):
        async with engine.begin() as conn:
            if (await conn.execute(statement)).rowcount == 1:
                return reservation
            row = (
                await conn.execute(
                    select(QuotaCounter.requests, QuotaCounter.tokens, QuotaCounter.spend).where(
                        key
                    )
                )
            ).first()
        if row is None:
            await _open_counter(engine, subscription_id, period)
            continue  # first call of the month: reserve on the fresh counter
        if limits.budget is not None and row.spend >= limits.budget:
            raise QuotaExceeded("BUDGET_EXCEEDED", reset_at)
        if (limits.requests is not None and row.requests >= limits.requests) or (
            limits.tokens is not None and row.tokens >= limits.tokens
        ):
            raise QuotaExceeded("QUOTA_EXCEEDED", reset_at)
        # The counter was opened by a concurrent call between our UPDATE and SELECT: retry.
    raise QuotaExceeded("QUOTA_EXCEEDED", reset_at)


async def _open_counter(engine: AsyncEngine, subscription_id: str, period: str) -> None:
    try:
        async with engine.begin() as conn:
            await conn.execute(
                insert(QuotaCounter).values(
                    subscription_id=subscription_id,
                    period=period,
                    requests=0,
                    tokens=0,
                    spend=Decimal(0),
                )
            )
    except IntegrityError:
        pass  # another call opened it first


def settle_statement(reservation: Reservation, tokens: int, cost: Decimal) -> Update:
    """The UPDATE replacing a reservation's estimate with the actual figures."""
    return (
        update(QuotaCounter)
        .where(
            QuotaCounter.subscription_id == reservation.subscription_id,
            QuotaCounter.period == reservation.period,
        )
        .values(
            tokens=QuotaCounter.tokens + (tokens - reservation.tokens),
            spend=QuotaCounter.spend + (cost - reservation.cost),
        )
    )
