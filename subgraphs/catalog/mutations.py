"""Catalog mutations: providers, publishing services and versions, metadata, end of life.

Each runs in one transaction with its audit entry and governance event(s) (resolvers/publishing).
"""

from __future__ import annotations

from decimal import Decimal

import strawberry

from graph.context import GatewayInfo
from graph.permissions import IsProvider
from persistence import models
from resolvers import publishing, upstream_credential
from resolvers.validation import PriceList
from subgraphs.catalog.types import PricingModel, Provider, Service, ServiceVersion
from subgraphs.common.writes import write_context


@strawberry.input(description="A price list. Token prices are per 1,000 tokens.")
class PricingInput:
    model: PricingModel
    currency: str = "USD"
    input_price_per_1k: Decimal | None = None
    output_price_per_1k: Decimal | None = None
    request_price: Decimal | None = None

    def to_domain(self) -> PriceList:
        return PriceList(
            model=models.PricingModel(self.model),
            currency=self.currency,
            input_price_per_1k=self.input_price_per_1k,
            output_price_per_1k=self.output_price_per_1k,
            request_price=self.request_price,
        )


@strawberry.input
class CreateProviderInput:
    slug: str
    name: str
    description: str = ""
    website: str | None = None
    contact_email: str | None = None
    owner_subject: str | None = strawberry.field(
        default=None, description="Admins only: the owner's JWT subject (default: the caller)."
    )


@strawberry.type
class CreateProviderPayload:
    provider: Provider


@strawberry.input
class PublishServiceInput:
    provider_id: strawberry.ID
    slug: str
    name: str
    description: str
    category: str
    version: str
    endpoint_url: str
    pricing: PricingInput
    tags: list[str] = strawberry.field(default_factory=list)
    changelog: str = ""
    data_region: str | None = None
    privacy_policy_url: str | None = None
    terms_url: str | None = None
    pii_handling: str | None = None


@strawberry.type
class PublishServicePayload:
    service: Service
    requires_approval: bool = strawberry.field(
        description="True when the service waits in PENDING_APPROVAL for an approver."
    )
    approval_request_id: strawberry.ID | None


@strawberry.input
class PublishServiceVersionInput:
    service_id: strawberry.ID
    version: str
    changelog: str = ""


@strawberry.type
class PublishServiceVersionPayload:
    service: Service
    version: ServiceVersion


@strawberry.input(description="Metadata to change; omitted fields stay as they are.")
class UpdateServiceInput:
    service_id: strawberry.ID
    name: str | None = None
    description: str | None = None
    tags: list[str] | None = None
    endpoint_url: str | None = None
    data_region: str | None = None
    privacy_policy_url: str | None = None
    terms_url: str | None = None
    pii_handling: str | None = None
    pricing: PricingInput | None = None


@strawberry.type
class UpdateServicePayload:
    service: Service


@strawberry.input
class ServiceLifecycleInput:
    service_id: strawberry.ID
    reason: str | None = None


@strawberry.type
class DeprecateServicePayload:
    service: Service


@strawberry.type
class RetireServicePayload:
    service: Service


@strawberry.input
class SetUpstreamCredentialInput:
    service_id: strawberry.ID
    header: str | None = strawberry.field(
        default=None,
        description='The header the gateway sends upstream, "Name: value" (for example '
        '"Authorization: Bearer sk-..."); null or empty clears it. Never returned.',
    )


@strawberry.type
class SetUpstreamCredentialPayload:
    service: Service


@strawberry.type
class Mutation:
    @strawberry.mutation(
        permission_classes=[IsProvider],
        description="Register a provider owned by the caller (admins: anyone).",
    )
    async def create_provider(
        self, info: GatewayInfo, input: CreateProviderInput
    ) -> CreateProviderPayload:
        ctx = write_context(info)
        draft = publishing.ProviderDraft(
            slug=input.slug,
            name=input.name,
            description=input.description,
            website=input.website,
            contact_email=input.contact_email,
            owner_subject=input.owner_subject,
        )
        async with info.context.db.transaction() as session:
            row = await publishing.create_provider(session, ctx, draft)
        return CreateProviderPayload(provider=Provider.from_model(row))

    @strawberry.mutation(
        permission_classes=[IsProvider],
        description="Publish a new service with its first version, through the validation "
        "pipeline; it becomes ACTIVE, or PENDING_APPROVAL when its category needs approval.",
    )
    async def publish_service(
        self, info: GatewayInfo, input: PublishServiceInput
    ) -> PublishServicePayload:
        ctx = write_context(info)
        draft = publishing.ServiceDraft(
            provider_id=str(input.provider_id),
            slug=input.slug,
            name=input.name,
            description=input.description,
            category=input.category,
            version=input.version,
            endpoint_url=input.endpoint_url,
            pricing=input.pricing.to_domain(),
            tags=list(input.tags),
            changelog=input.changelog,
            data_region=input.data_region,
            privacy_policy_url=input.privacy_policy_url,
            terms_url=input.terms_url,
            pii_handling=input.pii_handling,
        )
        async with info.context.db.transaction() as session:
            result = await publishing.publish_service(session, ctx, draft)
        approval = result.approval_request
        return PublishServicePayload(
            service=Service.from_model(result.service),
            requires_approval=approval is not None,
            approval_request_id=strawberry.ID(approval.id) if approval else None,
        )

    @strawberry.mutation(
        permission_classes=[IsProvider],
        description="Publish a version strictly greater than the current one.",
    )
    async def publish_service_version(
        self, info: GatewayInfo, input: PublishServiceVersionInput
    ) -> PublishServiceVersionPayload:
        ctx = write_context(info)
        async with info.context.db.transaction() as session:
            service, version = await publishing.publish_service_version(
                session, ctx, str(input.service_id), input.version, input.changelog
            )
        return PublishServiceVersionPayload(
            service=Service.from_model(service), version=ServiceVersion.from_model(version)
        )

    @strawberry.mutation(
        permission_classes=[IsProvider],
        description="Change a service's metadata, endpoint or prices.",
    )
    async def update_service(
        self, info: GatewayInfo, input: UpdateServiceInput
    ) -> UpdateServicePayload:
        ctx = write_context(info)
        changes = publishing.ServiceChanges(
            name=input.name,
            description=input.description,
            tags=list(input.tags) if input.tags is not None else None,
            endpoint_url=input.endpoint_url,
            data_region=input.data_region,
            privacy_policy_url=input.privacy_policy_url,
            terms_url=input.terms_url,
            pii_handling=input.pii_handling,
            pricing=input.pricing.to_domain() if input.pricing else None,
        )
        async with info.context.db.transaction() as session:
            service = await publishing.update_service(session, ctx, str(input.service_id), changes)
        return UpdateServicePayload(service=Service.from_model(service))

    @strawberry.mutation(
        permission_classes=[IsProvider],
        description="Mark an ACTIVE service DEPRECATED (still listed).",
    )
    async def deprecate_service(
        self, info: GatewayInfo, input: ServiceLifecycleInput
    ) -> DeprecateServicePayload:
        ctx = write_context(info)
        async with info.context.db.transaction() as session:
            service = await publishing.deprecate_service(
                session, ctx, str(input.service_id), input.reason
            )
        return DeprecateServicePayload(service=Service.from_model(service))

    @strawberry.mutation(permission_classes=[IsProvider], description="Retire a service for good.")
    async def retire_service(
        self, info: GatewayInfo, input: ServiceLifecycleInput
    ) -> RetireServicePayload:
        ctx = write_context(info)
        async with info.context.db.transaction() as session:
            service = await publishing.retire_service(
                session, ctx, str(input.service_id), input.reason
            )
        return RetireServicePayload(service=Service.from_model(service))

    @strawberry.mutation(
        permission_classes=[IsProvider],
        description="Set or clear the credential the passthrough sends to the service's "
        "upstream (owning provider or admin). Service.upstreamAuthConfigured shows whether "
        "one is set; the value itself is never returned.",
    )
    async def set_upstream_credential(
        self, info: GatewayInfo, input: SetUpstreamCredentialInput
    ) -> SetUpstreamCredentialPayload:
        ctx = write_context(info)
        async with info.context.db.transaction() as session:
            service = await upstream_credential.set_upstream_credential(
                session, ctx, str(input.service_id), input.header
            )
        return SetUpstreamCredentialPayload(service=Service.from_model(service))
