"""Governance mutations: policies (admins), approval decisions (approvers), resubmission
(the service's provider), suspension (admins).

Each runs in one transaction with its audit entry and governance event(s).
"""

from __future__ import annotations

from typing import Any, cast

import strawberry
from strawberry.scalars import JSON

from graph.context import GatewayInfo
from graph.permissions import IsAdmin, IsApprover, IsProvider
from persistence import models
from persistence.models.base import utcnow
from resolvers import approvals, policies, suspension
from resolvers.compliance import EnforcementResult
from subgraphs.common.writes import write_context
from subgraphs.governance.types import ApprovalRequest, Enforcement, Policy, Service


@strawberry.input
class CreatePolicyInput:
    name: str
    enforcement: Enforcement
    rules: JSON = strawberry.field(
        description='Rules: [{"kind": "max_price_per_1k", "params": {"max": "0.1"}}, ...]'
    )
    description: str = ""


@strawberry.input(description="Changes to a policy; omitted fields stay as they are.")
class UpdatePolicyInput:
    policy_id: strawberry.ID
    name: str | None = None
    description: str | None = None
    enforcement: Enforcement | None = None
    rules: JSON | None = None


@strawberry.input
class DeactivatePolicyInput:
    policy_id: strawberry.ID


@strawberry.type(description="A policy write, and what enforcing it did.")
class PolicyPayload:
    policy: Policy
    checked_services: int = strawberry.field(
        description="ACTIVE services re-evaluated (0 unless the policy is BLOCKING)."
    )
    suspended_services: list[Service]

    @classmethod
    def of(cls, row: models.Policy, result: EnforcementResult | None = None) -> PolicyPayload:
        return cls(
            policy=Policy.from_model(row),
            checked_services=result.checked if result else 0,
            suspended_services=[
                Service(id=strawberry.ID(i)) for i in (result.suspended if result else [])
            ],
        )


@strawberry.input
class DecideApprovalInput:
    request_id: strawberry.ID
    comment: str | None = None


@strawberry.type
class ApprovalDecisionPayload:
    approval_request: ApprovalRequest
    service: Service


@strawberry.input
class ResubmitServiceInput:
    service_id: strawberry.ID
    comment: str | None = strawberry.field(
        default=None, description="What changed since the rejection; shown to the approver."
    )


@strawberry.type
class ResubmitServicePayload:
    approval_request: ApprovalRequest
    service: Service


@strawberry.input
class ServiceStatusChangeInput:
    service_id: strawberry.ID
    reason: str


@strawberry.type
class SuspendServicePayload:
    service: Service


@strawberry.type
class ReinstateServicePayload:
    service: Service


@strawberry.type
class Mutation:
    @strawberry.mutation(
        permission_classes=[IsAdmin],
        description="Create a policy (admins). A BLOCKING one suspends the ACTIVE services "
        "that break it, at once.",
    )
    async def create_policy(self, info: GatewayInfo, input: CreatePolicyInput) -> PolicyPayload:
        ctx = write_context(info)
        draft = policies.PolicyDraft(
            name=input.name,
            enforcement=models.Enforcement(input.enforcement),
            rules=cast(list[Any], input.rules),
            description=input.description,
        )
        async with info.context.db.transaction() as session:
            row, result = await policies.create_policy(session, ctx, draft)
        return PolicyPayload.of(row, result)

    @strawberry.mutation(
        permission_classes=[IsAdmin],
        description="Change a policy (admins); BLOCKING ones are re-enforced.",
    )
    async def update_policy(self, info: GatewayInfo, input: UpdatePolicyInput) -> PolicyPayload:
        ctx = write_context(info)
        changes = policies.PolicyChanges(
            name=input.name,
            description=input.description,
            enforcement=models.Enforcement(input.enforcement) if input.enforcement else None,
            rules=cast(list[Any] | None, input.rules),
        )
        async with info.context.db.transaction() as session:
            row, result = await policies.update_policy(session, ctx, str(input.policy_id), changes)
        return PolicyPayload.of(row, result)

    @strawberry.mutation(
        permission_classes=[IsAdmin], description="Stop enforcing a policy (admins)."
    )
    async def deactivate_policy(
        self, info: GatewayInfo, input: DeactivatePolicyInput
    ) -> PolicyPayload:
        ctx = write_context(info)
        async with info.context.db.transaction() as session:
            row = await policies.deactivate_policy(session, ctx, str(input.policy_id))
        return PolicyPayload.of(row)

    @strawberry.mutation(
        permission_classes=[IsApprover],
        description="Approve a pending request: the service becomes ACTIVE.",
    )
    async def approve_service(
        self, info: GatewayInfo, input: DecideApprovalInput
    ) -> ApprovalDecisionPayload:
        return await _decide(info, input, approve=True)

    @strawberry.mutation(
        permission_classes=[IsApprover],
        description="Reject a pending request (comment required): the service goes to DRAFT.",
    )
    async def reject_service(
        self, info: GatewayInfo, input: DecideApprovalInput
    ) -> ApprovalDecisionPayload:
        return await _decide(info, input, approve=False)

    @strawberry.mutation(
        permission_classes=[IsProvider],
        description="Ask again for approval of a rejected or expired (DRAFT) service: its "
        "provider (or an admin) opens a new request and the service is PENDING_APPROVAL.",
    )
    async def resubmit_service(
        self, info: GatewayInfo, input: ResubmitServiceInput
    ) -> ResubmitServicePayload:
        ctx = write_context(info)
        async with info.context.db.transaction() as session:
            request, service = await approvals.resubmit(
                session, ctx, str(input.service_id), input.comment
            )
        return ResubmitServicePayload(
            approval_request=ApprovalRequest.from_model(request, utcnow()),
            service=Service(id=strawberry.ID(service.id)),
        )

    @strawberry.mutation(
        permission_classes=[IsAdmin],
        description="Suspend an ACTIVE service (admins), with a reason.",
    )
    async def suspend_service(
        self, info: GatewayInfo, input: ServiceStatusChangeInput
    ) -> SuspendServicePayload:
        ctx = write_context(info)
        async with info.context.db.transaction() as session:
            row = await suspension.suspend_service(
                session, ctx, str(input.service_id), input.reason
            )
        return SuspendServicePayload(service=Service(id=strawberry.ID(row.id)))

    @strawberry.mutation(
        permission_classes=[IsAdmin],
        description="Reinstate a SUSPENDED service (admins); refused while it still breaks a "
        "BLOCKING policy.",
    )
    async def reinstate_service(
        self, info: GatewayInfo, input: ServiceStatusChangeInput
    ) -> ReinstateServicePayload:
        ctx = write_context(info)
        async with info.context.db.transaction() as session:
            row = await suspension.reinstate_service(
                session, ctx, str(input.service_id), input.reason
            )
        return ReinstateServicePayload(service=Service(id=strawberry.ID(row.id)))


async def _decide(
    info: GatewayInfo, input: DecideApprovalInput, *, approve: bool
) -> ApprovalDecisionPayload:
    ctx = write_context(info)
    async with info.context.db.transaction() as session:
        request, service = await approvals.decide(
            session, ctx, str(input.request_id), approve=approve, comment=input.comment
        )
    return ApprovalDecisionPayload(
        approval_request=ApprovalRequest.from_model(request, utcnow()),
        service=Service(id=strawberry.ID(service.id)),
    )
