"""Suspending and reinstating services (admins); reinstating re-checks compliance first."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from graph.errors import bad_input
from persistence.models import Service, ServiceStatus
from resolvers.compliance import active_policies, current_pricing, evaluate, record_check
from resolvers.events import GovernanceEventType
from resolvers.lifecycle import invalid_transition
from resolvers.policy_rules import ServiceFacts
from resolvers.publishing import change_status, load_service
from resolvers.write_context import WriteContext

REASON_MAX = 2000


def _reason(reason: str) -> str:
    reason = reason.strip()
    if not reason or len(reason) > REASON_MAX:
        raise bad_input(f"Give a reason of 1 to {REASON_MAX} characters.", field="reason")
    return reason


async def suspend_service(
    session: AsyncSession, ctx: WriteContext, service_id: str, reason: str
) -> Service:
    reason = _reason(reason)
    service = await load_service(session, service_id)
    return await change_status(
        session,
        ctx,
        service,
        ServiceStatus.SUSPENDED,
        action="service.suspend",
        event=GovernanceEventType.SERVICE_SUSPENDED,
        reason=reason,
    )


async def reinstate_service(
    session: AsyncSession, ctx: WriteContext, service_id: str, reason: str
) -> Service:
    reason = _reason(reason)
    service = await load_service(session, service_id)
    if service.status != ServiceStatus.SUSPENDED:
        raise invalid_transition(
            f"Only a SUSPENDED service can be reinstated; this one is {service.status}.",
            fromStatus=str(service.status),
            toStatus=ServiceStatus.ACTIVE.value,
        )
    pricing = (await current_pricing(session, [service.id])).get(service.id)
    evaluation = evaluate(ServiceFacts.of(service, pricing), await active_policies(session))
    if not evaluation.compliant:
        first = evaluation.blocking[0]
        raise invalid_transition(
            f"The service still breaks the BLOCKING policy '{first.policy}': {first.message}.",
            fromStatus=ServiceStatus.SUSPENDED.value,
            toStatus=ServiceStatus.ACTIVE.value,
            policy=first.policy,
        )
    record_check(session, service.id, evaluation)
    return await change_status(
        session,
        ctx,
        service,
        ServiceStatus.ACTIVE,
        action="service.reinstate",
        event=GovernanceEventType.SERVICE_REINSTATED,
        reason=None,
        extra={"comment": reason},
    )
