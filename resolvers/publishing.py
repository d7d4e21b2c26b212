"""The catalog write path: providers, publishing services and versions, metadata, end of life.

Each function runs inside the caller's transaction (one per mutation) and writes the state
change, its audit entry and its outbox event(s) together; any error rolls all of it back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from graph.errors import not_found
from graph.permissions import ensure_owns_provider
from persistence.models import (
    ApprovalRequest,
    Provider,
    Service,
    ServicePricing,
    ServiceStatus,
    ServiceVersion,
)
from persistence.models.base import new_id, utcnow
from resolvers import validation as v
from resolvers.audit import append_audit, audit_diff
from resolvers.compliance import (
    Evaluation,
    active_policies,
    current_pricing,
    evaluate,
    record_check,
)
from resolvers.events import GovernanceEventType, emit_event
from resolvers.lifecycle import invalid_transition, transition
from resolvers.policy_rules import ServiceFacts
from resolvers.validation import PriceList, Stage
from resolvers.write_context import WriteContext

# --- inputs -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProviderDraft:
    slug: str
    name: str
    description: str = ""
    website: str | None = None
    contact_email: str | None = None
    owner_subject: str | None = None


@dataclass(frozen=True)
class ServiceDraft:
    provider_id: str
    slug: str
    name: str
    description: str
    category: str
    version: str
    endpoint_url: str
    pricing: PriceList
    tags: list[str] = field(default_factory=list)
    changelog: str = ""
    data_region: str | None = None
    privacy_policy_url: str | None = None
    terms_url: str | None = None
    pii_handling: str | None = None


@dataclass(frozen=True)
class ServiceChanges:
    """Metadata changes; ``None`` leaves a field as it is. Slug and category are fixed."""

    name: str | None = None
    description: str | None = None
    tags: list[str] | None = None
    endpoint_url: str | None = None
    data_region: str | None = None
    privacy_policy_url: str | None = None
    terms_url: str | None = None
    pii_handling: str | None = None
    pricing: PriceList | None = None


# --- helpers ------------------------------------------------------------------------------

SNAPSHOT_FIELDS = (
    "slug",
    "name",
    "description",
    "category",
    "tags",
    "status",
    "status_reason",
    "current_version",
    "endpoint_url",
    "data_region",
    "privacy_policy_url",
    "terms_url",
    "pii_handling",
)


def service_snapshot(service: Service, pricing: ServicePricing | None = None) -> dict[str, Any]:
    snapshot: dict[str, Any] = {name: getattr(service, name) for name in SNAPSHOT_FIELDS}
    snapshot["tags"] = list(service.tags or [])
    if pricing is not None:
        snapshot["pricing"] = {
            "model": pricing.model,
            "currency": pricing.currency,
            "input_price_per_1k": pricing.input_price_per_1k,
            "output_price_per_1k": pricing.output_price_per_1k,
            "request_price": pricing.request_price,
        }
    return snapshot


def _pricing_row(service_id: str, prices: PriceList) -> ServicePricing:
    return ServicePricing(
        id=new_id(),
        service_id=service_id,
        model=prices.model,
        currency=prices.currency,
        input_price_per_1k=prices.input_price_per_1k,
        output_price_per_1k=prices.output_price_per_1k,
        request_price=prices.request_price,
        effective_from=utcnow(),
    )


async def load_service(session: AsyncSession, service_id: str) -> Service:
    service = await session.get(Service, service_id)
    if service is None:
        raise not_found("Service", service_id)
    return service


async def load_owned_service(
    session: AsyncSession, ctx: WriteContext, service_id: str
) -> tuple[Service, Provider]:
    """The service, once the caller is known to own its provider (or is an admin)."""
    service = await load_service(session, service_id)
    provider = await session.get(Provider, service.provider_id)
    ensure_owns_provider(ctx.principal, provider.owner_subject if provider else None)
    assert provider is not None  # enforced by the foreign key
    return service, provider


def refuse_blocking(evaluation: Evaluation) -> None:
    """Stage 5 of the pipeline: the first BLOCKING violation refuses the write."""
    if evaluation.compliant:
        return
    first = evaluation.blocking[0]
    raise v.bad_input(
        f"Policy '{first.policy}' ({first.rule}): {first.message}.",
        field=first.field,
        stage=Stage.POLICY_COMPLIANCE.value,
        policy=first.policy,
        rule=first.rule,
    )


async def record_service_change(
    session: AsyncSession,
    ctx: WriteContext,
    service: Service,
    *,
    action: str,
    diff: dict[str, Any],
    event: GovernanceEventType,
    payload: dict[str, Any],
) -> None:
    """A service change's audit entry and its governance event, in the writer's transaction."""
    await append_audit(
        session,
        actor=ctx.actor,
        action=action,
        target_type="Service",
        target_id=service.id,
        diff=diff,
        request_id=ctx.request_id,
    )
    await emit_event(session, type=event, actor=ctx.actor, service_id=service.id, payload=payload)


async def _advisory_event(
    session: AsyncSession, ctx: WriteContext, service: Service, evaluation: Evaluation
) -> None:
    if evaluation.violations:
        await emit_event(
            session,
            type=GovernanceEventType.POLICY_VIOLATION,
            actor=ctx.actor,
            service_id=service.id,
            payload={"violations": evaluation.records()},
        )


# --- providers ----------------------------------------------------------------------------


async def create_provider(
    session: AsyncSession, ctx: WriteContext, draft: ProviderDraft
) -> Provider:
    slug = v.check_slug(draft.slug)
    name = v.check_name(draft.name)
    website = v.check_optional_url(draft.website, "website")
    owner = draft.owner_subject if ctx.principal.is_admin else None
    if await session.scalar(select(Provider.id).where(Provider.slug == slug)):
        raise v.failure(Stage.INPUT_SCHEMA, "slug", f"The slug {slug!r} is already taken.")
    provider = Provider(
        id=new_id(),
        slug=slug,
        name=name,
        description=draft.description.strip(),
        website=website,
        contact_email=(draft.contact_email or "").strip() or None,
        owner_subject=owner or ctx.actor,
    )
    session.add(provider)
    await session.flush()
    await append_audit(
        session,
        actor=ctx.actor,
        action="provider.create",
        target_type="Provider",
        target_id=provider.id,
        diff=audit_diff(
            None,
            {
                "slug": slug,
                "name": name,
                "website": website,
                "owner_subject": provider.owner_subject,
            },
        ),
        request_id=ctx.request_id,
    )
    return provider


# --- services -----------------------------------------------------------------------------


@dataclass(frozen=True)
class PublishResult:
    service: Service
    approval_request: ApprovalRequest | None


async def publish_service(
    session: AsyncSession, ctx: WriteContext, draft: ServiceDraft
) -> PublishResult:
    provider = await session.get(Provider, draft.provider_id)
    if provider is None:
        raise not_found("Provider", draft.provider_id)
    ensure_owns_provider(ctx.principal, provider.owner_subject)

    # 1. input schema
    name = v.check_name(draft.name)
    slug = v.check_slug(draft.slug)
    category = v.check_category(draft.category)
    tags = v.check_tags(draft.tags)
    description = v.check_description(draft.description)
    changelog = v.check_changelog(draft.changelog)
    privacy_url = v.check_optional_url(draft.privacy_policy_url, "privacyPolicyUrl")
    terms_url = v.check_optional_url(draft.terms_url, "termsUrl")
    if await session.scalar(select(Service.id).where(Service.slug == slug)):
        raise v.failure(Stage.INPUT_SCHEMA, "slug", f"The slug {slug!r} is already taken.")
    # 2. semver, 3. endpoint URL, 4. pricing
    version = v.check_semver(draft.version)
    endpoint = v.check_endpoint_url(draft.endpoint_url, ctx.settings)
    prices = v.check_pricing(draft.pricing)

    now = utcnow()
    service = Service(
        id=new_id(),
        provider_id=provider.id,
        slug=slug,
        name=name,
        description=description,
        category=category,
        tags=tags,
        status=ServiceStatus.DRAFT,
        current_version=str(version),
        endpoint_url=endpoint,
        data_region=(draft.data_region or "").strip() or None,
        privacy_policy_url=privacy_url,
        terms_url=terms_url,
        pii_handling=(draft.pii_handling or "").strip() or None,
        created_at=now,
        updated_at=now,
    )
    pricing = _pricing_row(service.id, prices)

    # 5. policy compliance
    evaluation = evaluate(ServiceFacts.of(service, pricing), await active_policies(session))
    refuse_blocking(evaluation)

    approval: ApprovalRequest | None = None
    if evaluation.approval_reasons:
        transition(service, ServiceStatus.PENDING_APPROVAL, reason="awaiting approval")
        approval = ApprovalRequest(
            id=new_id(),
            service_id=service.id,
            requested_by=ctx.actor,
            reason="; ".join(evaluation.approval_reasons),
            created_at=now,
            expires_at=now + timedelta(hours=ctx.settings.approval_expiry_hours),
        )
    else:
        transition(service, ServiceStatus.ACTIVE)
    session.add(service)
    await session.flush()
    session.add_all(
        [
            pricing,
            ServiceVersion(
                id=new_id(), service_id=service.id, version=str(version), changelog=changelog
            ),
        ]
    )
    if approval is not None:
        session.add(approval)
    record_check(session, service.id, evaluation)
    await session.flush()

    await append_audit(
        session,
        actor=ctx.actor,
        action="service.publish",
        target_type="Service",
        target_id=service.id,
        diff=audit_diff(None, service_snapshot(service, pricing)),
        request_id=ctx.request_id,
    )
    if approval is not None:
        await emit_event(
            session,
            type=GovernanceEventType.APPROVAL_REQUESTED,
            actor=ctx.actor,
            service_id=service.id,
            payload={
                "approvalRequestId": approval.id,
                "slug": slug,
                "category": category,
                "reason": approval.reason,
                "expiresAt": approval.expires_at,
            },
        )
    else:
        await emit_event(
            session,
            type=GovernanceEventType.SERVICE_PUBLISHED,
            actor=ctx.actor,
            service_id=service.id,
            payload={"slug": slug, "name": name, "category": category, "version": str(version)},
        )
    await _advisory_event(session, ctx, service, evaluation)
    return PublishResult(service=service, approval_request=approval)


async def publish_service_version(
    session: AsyncSession, ctx: WriteContext, service_id: str, version: str, changelog: str
) -> tuple[Service, ServiceVersion]:
    service, _ = await load_owned_service(session, ctx, service_id)
    if service.status == ServiceStatus.RETIRED:
        raise invalid_transition("A RETIRED service takes no new versions.")
    parsed = v.check_semver(version)
    v.check_version_increases(parsed, service.current_version)
    changelog = v.check_changelog(changelog)
    before = service.current_version
    row = ServiceVersion(
        id=new_id(), service_id=service.id, version=str(parsed), changelog=changelog
    )
    session.add(row)
    service.current_version = str(parsed)
    service.updated_at = utcnow()
    await session.flush()
    await record_service_change(
        session,
        ctx,
        service,
        action="service.publish_version",
        diff={
            **audit_diff({"current_version": before}, {"current_version": str(parsed)}),
            "changelog": changelog,
        },
        event=GovernanceEventType.SERVICE_VERSION_PUBLISHED,
        payload={"version": str(parsed), "previousVersion": before, "changelog": changelog},
    )
    return service, row


async def update_service(
    session: AsyncSession, ctx: WriteContext, service_id: str, changes: ServiceChanges
) -> Service:
    service, _ = await load_owned_service(session, ctx, service_id)
    if service.status == ServiceStatus.RETIRED:
        raise invalid_transition("A RETIRED service cannot be changed.")
    pricing = (await current_pricing(session, [service.id])).get(service.id)
    before = service_snapshot(service, pricing)

    if changes.name is not None:
        service.name = v.check_name(changes.name)
    if changes.description is not None:
        service.description = v.check_description(changes.description)
    if changes.tags is not None:
        service.tags = v.check_tags(changes.tags)
    if changes.privacy_policy_url is not None:
        service.privacy_policy_url = v.check_optional_url(
            changes.privacy_policy_url, "privacyPolicyUrl"
        )
    if changes.terms_url is not None:
        service.terms_url = v.check_optional_url(changes.terms_url, "termsUrl")
    if changes.data_region is not None:
        service.data_region = changes.data_region.strip() or None
    if changes.pii_handling is not None:
        service.pii_handling = changes.pii_handling.strip() or None
    if changes.endpoint_url is not None:
        service.endpoint_url = v.check_endpoint_url(changes.endpoint_url, ctx.settings)
    if changes.pricing is not None:
        pricing = _pricing_row(service.id, v.check_pricing(changes.pricing))
        session.add(pricing)

    evaluation = evaluate(ServiceFacts.of(service, pricing), await active_policies(session))
    if service.status in (ServiceStatus.ACTIVE, ServiceStatus.PENDING_APPROVAL):
        refuse_blocking(evaluation)
    after = service_snapshot(service, pricing)
    diff = audit_diff(before, after)
    if not diff["before"] and not diff["after"]:
        return service  # nothing changed: nothing to record
    service.updated_at = utcnow()
    record_check(session, service.id, evaluation)
    await session.flush()
    await record_service_change(
        session,
        ctx,
        service,
        action="service.update",
        diff=diff,
        event=GovernanceEventType.SERVICE_UPDATED,
        payload={"changed": sorted(set(diff["before"]) | set(diff["after"]))},
    )
    await _advisory_event(session, ctx, service, evaluation)
    return service


async def change_status(
    session: AsyncSession,
    ctx: WriteContext,
    service: Service,
    target: ServiceStatus,
    *,
    action: str,
    event: GovernanceEventType,
    reason: str | None,
    extra: dict[str, Any] | None = None,
) -> Service:
    """One lifecycle step with its audit entry and event (the caller checked permissions)."""
    before = {"status": service.status, "status_reason": service.status_reason}
    transition(service, target, reason=reason)
    service.updated_at = utcnow()
    await session.flush()
    await record_service_change(
        session,
        ctx,
        service,
        action=action,
        diff={
            **audit_diff(before, {"status": service.status, "status_reason": reason}),
            **(extra or {}),
        },
        event=event,
        payload={"status": target.value, "reason": reason, **(extra or {})},
    )
    return service


async def deprecate_service(
    session: AsyncSession, ctx: WriteContext, service_id: str, reason: str | None
) -> Service:
    service, _ = await load_owned_service(session, ctx, service_id)
    return await change_status(
        session,
        ctx,
        service,
        ServiceStatus.DEPRECATED,
        action="service.deprecate",
        event=GovernanceEventType.SERVICE_DEPRECATED,
        reason=(reason or "").strip() or None,
    )


async def retire_service(
    session: AsyncSession, ctx: WriteContext, service_id: str, reason: str | None
) -> Service:
    service, _ = await load_owned_service(session, ctx, service_id)
    return await change_status(
        session,
        ctx,
        service,
        ServiceStatus.RETIRED,
        action="service.retire",
        event=GovernanceEventType.SERVICE_RETIRED,
        reason=(reason or "").strip() or None,
    )
