"""Plan tiers and their limits: defaults, configured overrides, and the stored Plan rows."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from persistence.models import Plan, PlanTier


@dataclass(frozen=True)
class PlanLimits:
    """``None`` quota or budget means unlimited."""

    requests_per_second: int
    burst: int
    monthly_request_quota: int | None
    monthly_token_quota: int | None = None
    monthly_budget: Decimal | None = None


DEFAULT_LIMITS: dict[PlanTier, PlanLimits] = {
    PlanTier.FREE: PlanLimits(1, 5, 1_000),
    PlanTier.BASIC: PlanLimits(10, 20, 100_000),
    PlanTier.PRO: PlanLimits(100, 200, 1_000_000),
    PlanTier.ENTERPRISE: PlanLimits(1000, 2000, None),
}


def limits_for(tier: PlanTier, overrides: dict[str, dict[str, Any]]) -> PlanLimits:
    """The tier's defaults with the configured overrides (``MARKETPLACE_PLAN_OVERRIDES``)."""
    limits = DEFAULT_LIMITS[tier]
    override = overrides.get(tier.value) or {}
    unknown = set(override) - set(asdict(limits))
    if unknown:
        raise ValueError(f"unknown plan limit(s) for {tier.value}: {', '.join(sorted(unknown))}")
    if "monthly_budget" in override and override["monthly_budget"] is not None:
        override = {**override, "monthly_budget": Decimal(str(override["monthly_budget"]))}
    return replace(limits, **override)


async def plan_for_tier(
    session: AsyncSession, tier: PlanTier, overrides: dict[str, dict[str, Any]]
) -> Plan:
    """The stored plan of a tier, created from the configured limits on first use."""
    plan = await session.scalar(select(Plan).where(Plan.tier == tier))
    if plan is None:
        limits = limits_for(tier, overrides)
        plan = Plan(tier=tier, **asdict(limits))
        session.add(plan)
        await session.flush()
    return plan
