"""The approval workflow: approvers decide PENDING requests; stale ones expire.

A decision is one conditional ``UPDATE ... WHERE status = 'PENDING'``, the first statement of
its transaction: of two approvers deciding at once, exactly one changes the row (rowcount 1),
the other sees rowcount 0 and is told the request is already decided. No lock is needed and
the same holds on PostgreSQL and SQLite.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession

from graph.errors import bad_input, forbidden, not_found
from persistence.models import ApprovalRequest, ApprovalStatus, Service, ServiceStatus
from persistence.models.base import new_id, utcnow
from resolvers.compliance import active_policies, current_pricing, evaluate, record_check
from resolvers.events import GovernanceEventType, emit_event
from resolvers.lifecycle import invalid_transition
from resolvers.policy_rules import ServiceFacts
from resolvers.publishing import change_status, load_owned_service, load_service, refuse_blocking
from resolvers.write_context import WriteContext

SYSTEM_ACTOR = "system:governance"
COMMENT_MAX = 5000


async def _claim(
    session: AsyncSession, request_id: str, decider: str, status: ApprovalStatus, comment: str
) -> bool:
    now = utcnow()
    result = await session.execute(
        update(ApprovalRequest)
        .where(
            ApprovalRequest.id == request_id,
            ApprovalRequest.status == ApprovalStatus.PENDING.value,
            ApprovalRequest.expires_at > now,
            ApprovalRequest.requested_by != decider,
        )
        .values(status=status.value, decided_by=decider, decided_at=now, decision_comment=comment)
        .execution_options(synchronize_session=False)
    )
    assert isinstance(result, CursorResult)
    return result.rowcount == 1


async def _why_not(session: AsyncSession, request_id: str, decider: str) -> Exception:
    request = await session.get(ApprovalRequest, request_id)
    if request is None:
        return not_found("ApprovalRequest", request_id)
    if request.status != ApprovalStatus.PENDING:
        return invalid_transition(
            f"The request was already decided: {request.status}.",
            fromStatus=str(request.status),
        )
    if request.expires_at <= utcnow():
        return invalid_transition("The request has expired.", fromStatus="EXPIRED")
    if request.requested_by == decider:
        return forbidden("Nobody may decide their own approval request.")
    return invalid_transition("The request cannot be decided now.")


async def decide(
    session: AsyncSession,
    ctx: WriteContext,
    request_id: str,
    *,
    approve: bool,
    comment: str | None,
) -> tuple[ApprovalRequest, Service]:
    comment = (comment or "").strip()
    if not approve and not comment:
        raise bad_input("A rejection needs a comment.", field="comment")
    if len(comment) > COMMENT_MAX:
        raise bad_input(f"A comment has at most {COMMENT_MAX} characters.", field="comment")
    status = ApprovalStatus.APPROVED if approve else ApprovalStatus.REJECTED
    if not await _claim(session, request_id, ctx.actor, status, comment):
        raise await _why_not(session, request_id, ctx.actor)

    request = await session.get(ApprovalRequest, request_id, populate_existing=True)
    assert request is not None
    service = await load_service(session, request.service_id)
    if service.status != ServiceStatus.PENDING_APPROVAL:
        raise invalid_transition(
            f"The service is {service.status}, not waiting for approval.",
            fromStatus=str(service.status),
        )
    decision = {"approvalRequestId": request.id, "decision": status.value, "comment": comment}
    if approve:
        pricing = (await current_pricing(session, [service.id])).get(service.id)
        evaluation = evaluate(ServiceFacts.of(service, pricing), await active_policies(session))
        record_check(session, service.id, evaluation)
        if not evaluation.compliant:
            first = evaluation.blocking[0]
            raise invalid_transition(
                f"The service now breaks the BLOCKING policy '{first.policy}': "
                f"{first.message}. Reject it instead.",
                policy=first.policy,
            )
        await change_status(
            session,
            ctx,
            service,
            ServiceStatus.ACTIVE,
            action="approval.approve",
            event=GovernanceEventType.APPROVAL_DECIDED,
            reason=None,
            extra=decision,
        )
        await emit_event(
            session,
            type=GovernanceEventType.SERVICE_PUBLISHED,
            actor=ctx.actor,
            service_id=service.id,
            payload={
                "slug": service.slug,
                "name": service.name,
                "category": service.category,
                "version": service.current_version,
            },
        )
    else:
        await change_status(
            session,
            ctx,
            service,
            ServiceStatus.DRAFT,
            action="approval.reject",
            event=GovernanceEventType.APPROVAL_DECIDED,
            reason=f"Rejected: {comment}",
            extra=decision,
        )
    return request, service


async def resubmit(
    session: AsyncSession, ctx: WriteContext, service_id: str, comment: str | None
) -> tuple[ApprovalRequest, Service]:
    """A DRAFT (rejected or expired) service goes back to PENDING_APPROVAL with a new request.

    Only its provider (or an admin) may resubmit. The BLOCKING policies are checked again, so
    a service that now breaks one is refused here rather than handed to an approver. The
    provider's comment (its answer to the rejection) becomes part of the request's reason.
    """
    comment = (comment or "").strip()
    if len(comment) > COMMENT_MAX:
        raise bad_input(f"A comment has at most {COMMENT_MAX} characters.", field="comment")
    service, _ = await load_owned_service(session, ctx, service_id)
    if service.status != ServiceStatus.DRAFT:
        raise invalid_transition(
            f"Only a DRAFT (rejected or expired) service can be resubmitted; it is "
            f"{service.status}.",
            fromStatus=str(service.status),
        )
    pricing = (await current_pricing(session, [service.id])).get(service.id)
    evaluation = evaluate(ServiceFacts.of(service, pricing), await active_policies(session))
    record_check(session, service.id, evaluation)
    refuse_blocking(evaluation)

    now = utcnow()
    reasons = [*evaluation.approval_reasons, *([f"Resubmitted: {comment}"] if comment else [])]
    request = ApprovalRequest(
        id=new_id(),
        service_id=service.id,
        requested_by=ctx.actor,
        reason="; ".join(reasons) or "Resubmitted for approval",
        created_at=now,
        expires_at=now + timedelta(hours=ctx.settings.approval_expiry_hours),
    )
    session.add(request)
    await session.flush()
    await change_status(
        session,
        ctx,
        service,
        ServiceStatus.PENDING_APPROVAL,
        action="approval.resubmit",
        event=GovernanceEventType.APPROVAL_REQUESTED,
        reason="awaiting approval",
        extra={
            "approvalRequestId": request.id,
            "slug": service.slug,
            "category": service.category,
            "approvalReason": request.reason,
            "comment": comment,
            "expiresAt": request.expires_at,
        },
    )
    return request, service


async def expire_stale_requests(
    session: AsyncSession, ctx: WriteContext, *, now: datetime | None = None
) -> list[str]:
    """Mark PENDING requests past their expiry EXPIRED; their services go back to DRAFT."""
    now = now or utcnow()
    stale = list(
        (
            await session.scalars(
                select(ApprovalRequest).where(
                    ApprovalRequest.status == ApprovalStatus.PENDING.value,
                    ApprovalRequest.expires_at <= now,
                )
            )
        ).all()
    )
    expired: list[str] = []
    for request in stale:
        result = await session.execute(
            update(ApprovalRequest)
            .where(
                ApprovalRequest.id == request.id,
                ApprovalRequest.status == ApprovalStatus.PENDING.value,
            )
            .values(status=ApprovalStatus.EXPIRED.value, decided_at=now)
            .execution_options(synchronize_session=False)
        )
        assert isinstance(result, CursorResult)
        if result.rowcount != 1:
            continue  # decided meanwhile
        expired.append(request.id)
        service = await load_service(session, request.service_id)
        if service.status == ServiceStatus.PENDING_APPROVAL:
            await change_status(
                session,
                ctx,
                service,
                ServiceStatus.DRAFT,
                action="approval.expire",
                event=GovernanceEventType.APPROVAL_DECIDED,
                reason="Approval request expired",
                extra={"approvalRequestId": request.id, "decision": "EXPIRED"},
            )
    return expired
