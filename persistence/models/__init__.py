"""All models, imported together so the metadata (and Alembic) sees every table."""

from persistence.models.base import Base
from persistence.models.catalog import (
    PricingModel,
    Provider,
    Service,
    ServicePricing,
    ServiceStatus,
    ServiceVersion,
)
from persistence.models.governance import (
    ApprovalRequest,
    ApprovalStatus,
    AuditEntry,
    ComplianceCheck,
    Enforcement,
    GovernanceEvent,
    Policy,
)
from persistence.models.search import SearchDocument, SearchIndexState, SearchTerm
from persistence.models.usage import (
    ApiKey,
    Consumer,
    Plan,
    PlanTier,
    QuotaCounter,
    Subscription,
    SubscriptionStatus,
    UsageOutbox,
    UsageRecord,
)

__all__ = [
    "ApiKey",
    "ApprovalRequest",
    "ApprovalStatus",
    "AuditEntry",
    "Base",
    "ComplianceCheck",
    "Consumer",
    "Enforcement",
    "GovernanceEvent",
    "Plan",
    "PlanTier",
    "Policy",
    "PricingModel",
    "Provider",
    "QuotaCounter",
    "SearchDocument",
    "SearchIndexState",
    "SearchTerm",
    "Service",
    "ServicePricing",
    "ServiceStatus",
    "ServiceVersion",
    "Subscription",
    "SubscriptionStatus",
    "UsageOutbox",
    "UsageRecord",
]
