"""The periodic governance re-check: expire stale approval requests and suspend ACTIVE
services that break a BLOCKING policy (policies or facts may have changed since the last
check). Started from the application lifespan; the interval is
``MARKETPLACE_COMPLIANCE_RECHECK_INTERVAL_SECONDS`` (0 = off)."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from graph.auth import Principal, Role
from graph.settings import Settings
from resolvers.approvals import expire_stale_requests
from resolvers.compliance import enforce_blocking_policies
from resolvers.write_context import WriteContext

if TYPE_CHECKING:
    from graph.runtime import Runtime

log = logging.getLogger(__name__)

RECHECK_ACTOR = "system:compliance-recheck"


@dataclass(frozen=True)
class RecheckResult:
    expired_requests: list[str]
    checked_services: int
    suspended_services: list[str]


async def recheck_once(
    session_factory: async_sessionmaker[AsyncSession], settings: Settings
) -> RecheckResult:
    ctx = WriteContext(
        principal=Principal(subject=RECHECK_ACTOR, roles=frozenset({Role.ADMIN})),
        settings=settings,
        request_id=None,
    )
    async with session_factory() as session, session.begin():
        expired = await expire_stale_requests(session, ctx)
        result = await enforce_blocking_policies(
            session, actor=RECHECK_ACTOR, request_id=None, trigger={"action": "periodic-recheck"}
        )
    return RecheckResult(expired, result.checked, result.suspended)


async def run_periodic_recheck(runtime: Runtime) -> None:
    """Run :func:`recheck_once` every interval until cancelled; a failed round is logged."""
    interval = runtime.settings.compliance_recheck_interval_seconds
    if interval <= 0:
        return
    while True:
        await asyncio.sleep(interval)
        try:
            result = await recheck_once(runtime.session_factory, runtime.settings)
        except Exception:
            log.exception("governance re-check failed; retrying next interval")
            continue
        if result.expired_requests or result.suspended_services:
            log.info(
                "governance re-check: %d request(s) expired, %d service(s) suspended",
                len(result.expired_requests),
                len(result.suspended_services),
            )
