"""Governance root query fields: compliance, approvals, the audit log, event history."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import cast

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.scalars import JSON

from graph.auth import Role
from graph.context import GatewayInfo
from graph.errors import bad_input, not_found
from graph.permissions import HasRole, IsApprover, requires
from persistence import models
from persistence.models.base import utcnow
from resolvers import audit, governance
from resolvers.audit import ChainVerification
from resolvers.pagination import MAX_PAGE_SIZE, encode_cursor, page_args
from subgraphs.common.pagination import PageInfo
from subgraphs.governance.subscriptions import GovernanceEvent, GovernanceEventType
from subgraphs.governance.types import (
    ApprovalRequest,
    ApprovalStatus,
    AuditChainVerification,
    AuditEntry,
    ComplianceReport,
    Policy,
)

# Who may call each query; a provider among them sees only what concerns its own services.
APPROVAL_READERS = (Role.APPROVER, Role.PROVIDER)
AUDIT_READERS = (Role.APPROVER, Role.PROVIDER)
EVENT_READERS = (Role.APPROVER, Role.VIEWER, Role.PROVIDER)


@strawberry.input(description="Narrow the audit log; `from` inclusive, `to` exclusive.")
class AuditLogFilter:
    actor: str | None = None
    action: str | None = None
    target_id: str | None = None
    from_: datetime | None = strawberry.field(default=None, name="from")
    to: datetime | None = None


@strawberry.type
class AuditEntryEdge:
    cursor: str
    node: AuditEntry


@strawberry.type(description="A page of audit entries, newest first (Relay connection).")
class AuditEntryConnection:
    edges: list[AuditEntryEdge]
    page_info: PageInfo


@strawberry.type
class ApprovalRequestEdge:
    cursor: str
    node: ApprovalRequest


@strawberry.type(description="A page of approval requests, newest first (Relay connection).")
class ApprovalRequestConnection:
    edges: list[ApprovalRequestEdge]
    page_info: PageInfo


def _page_info(has_next: bool, has_previous: bool, cursors: list[str]) -> PageInfo:
    return PageInfo(
        has_next_page=has_next,
        has_previous_page=has_previous,
        start_cursor=cursors[0] if cursors else None,
        end_cursor=cursors[-1] if cursors else None,
    )


def _only_own(info: GatewayInfo, *roles: str) -> str | None:
    """None when the caller sees everything; else the provider subject to restrict to.

    The field's ``HasRole(*roles)`` permission has already admitted the caller.
    """
    principal = info.context.require_principal()
    if principal.is_admin or principal.has_role(*(r for r in roles if r != Role.PROVIDER)):
        return None
    return principal.subject


@strawberry.type
class Query:
    @strawberry.field(description="Governance policies, by name.")
    async def policies(self, info: GatewayInfo, active_only: bool = True) -> list[Policy]:
        rows = await governance.list_policies(info.context.db, active_only=active_only)
        return [Policy.from_model(row) for row in rows]

    @strawberry.field(description="A service's latest compliance report; null before any check.")
    async def compliance_report(
        self, info: GatewayInfo, service_id: strawberry.ID
    ) -> ComplianceReport | None:
        loaders = info.context.loaders
        if await loaders.service_by_id.load(str(service_id)) is None:
            raise not_found("Service", str(service_id))
        row = await loaders.compliance_by_service.load(str(service_id))
        return ComplianceReport.from_model(row) if row else None

    @strawberry.field(
        description="Approval requests, newest first (approvers and admins; a provider sees "
        "the requests about its own services).",
        extensions=requires(HasRole(*APPROVAL_READERS)),
    )
    async def approval_requests(
        self,
        info: GatewayInfo,
        status: ApprovalStatus | None = None,
        first: int | None = 20,
        after: str | None = None,
    ) -> ApprovalRequestConnection:
        now = utcnow()
        page = await governance.list_approval_requests(
            info.context.db,
            status=models.ApprovalStatus(status) if status else None,
            page=page_args(first, after),
            now=now,
            owner_subject=_only_own(info, *APPROVAL_READERS),
        )
        edges = [
            ApprovalRequestEdge(
                cursor=encode_cursor(governance.approval_cursor_key(row)),
                node=ApprovalRequest.from_model(row, now),
            )
            for row in page.rows
        ]
        return ApprovalRequestConnection(
            edges=edges,
            page_info=_page_info(page.has_next, page.has_previous, [e.cursor for e in edges]),
        )

    @strawberry.field(
        description="The audit log, newest first (admins and approvers; a provider sees the "
        "entries about its own services).",
        extensions=requires(HasRole(*AUDIT_READERS)),
    )
    async def audit_log(
        self,
        info: GatewayInfo,
        filter: AuditLogFilter | None = None,
        first: int | None = 20,
        after: str | None = None,
    ) -> AuditEntryConnection:
        owner = _only_own(info, *AUDIT_READERS)
        flt = filter or AuditLogFilter()
        page = await governance.audit_log(
            info.context.db,
            governance.AuditFilter(
                actor=flt.actor,
                action=flt.action,
                target_id=flt.target_id,
                start=flt.from_,
                end=flt.to,
                owner_subject=owner,
            ),
            page_args(first, after),
        )
        edges = [
            AuditEntryEdge(cursor=encode_cursor([row.id]), node=AuditEntry.from_model(row))
            for row in page.rows
        ]
        return AuditEntryConnection(
            edges=edges,
            page_info=_page_info(page.has_next, page.has_previous, [e.cursor for e in edges]),
        )

    @strawberry.field(
        description="Re-compute the audit hash chain (admins and approvers).",
        permission_classes=[IsApprover],
    )
    async def verify_audit_chain(self, info: GatewayInfo) -> AuditChainVerification:
        result = await _locked(info, audit.verify_chain)
        return AuditChainVerification(
            valid=result.valid,
            checked_entries=result.checked_entries,
            first_broken_id=strawberry.ID(str(result.first_broken_id))
            if result.first_broken_id is not None
            else None,
        )

    @strawberry.field(
        description="Stored governance events after the cursor `since` (an event id), oldest "
        "first. Providers see only events of their own services.",
        extensions=requires(HasRole(*EVENT_READERS)),
    )
    async def governance_events(
        self,
        info: GatewayInfo,
        since: strawberry.ID | None = None,
        types: list[GovernanceEventType] | None = None,
        first: int = 50,
    ) -> list[GovernanceEvent]:
        owner = _only_own(info, *EVENT_READERS)
        if not 0 <= first <= MAX_PAGE_SIZE:
            raise bad_input(f"`first` must be between 0 and {MAX_PAGE_SIZE}.", field="first")
        try:
            cursor = int(since) if since is not None else None
        except ValueError:
            raise bad_input(
                "`since` must be the id of a governance event.", field="since"
            ) from None
        rows = await governance.event_history(
            info.context.db,
            since=cursor,
            types=[t.value for t in types or ()],
            owner_subject=owner,
            limit=first,
        )
        return [
            GovernanceEvent(
                id=strawberry.ID(str(row.id)),
                type=GovernanceEventType(row.type),
                occurred_at=row.occurred_at,
                service_id=strawberry.ID(row.service_id) if row.service_id else None,
                actor=row.actor,
                payload=cast(JSON, row.payload),
            )
            for row in rows
        ]


async def _locked(
    info: GatewayInfo, fn: Callable[[AsyncSession], Awaitable[ChainVerification]]
) -> ChainVerification:
    """Run ``fn`` on the request's session while no loader uses it."""
    db = info.context.db
    async with db.lock:
        return await fn(db.session)
