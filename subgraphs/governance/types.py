"""Governance GraphQL types: compliance reports on Service, policies."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import strawberry
from strawberry.scalars import JSON

from graph.context import GatewayInfo
from persistence import models

Enforcement = strawberry.enum(models.Enforcement, description="What a policy violation does.")


@strawberry.type
class PolicyViolation:
    policy: str
    rule: str
    message: str
    severity: Enforcement


@strawberry.type(description="The latest compliance evaluation of a service.")
class ComplianceReport:
    compliant: bool
    score: Decimal
    violations: list[PolicyViolation]
    checked_at: datetime

    @classmethod
    def from_model(cls, row: models.ComplianceCheck) -> ComplianceReport:
        return cls(
            compliant=row.compliant,
            score=row.score,
            violations=[
                PolicyViolation(
                    policy=v["policy"],
                    rule=v["rule"],
                    message=v["message"],
                    severity=models.Enforcement(v["severity"]),
                )
                for v in row.violations
            ],
            checked_at=row.checked_at,
        )


@strawberry.type(description="A declarative governance policy.")
class Policy:
    id: strawberry.ID
    name: str
    description: str
    enforcement: Enforcement
    rules: JSON
    active: bool
    version: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_model(cls, row: models.Policy) -> Policy:
        return cls(
            id=strawberry.ID(row.id),
            name=row.name,
            description=row.description,
            enforcement=row.enforcement,
            rules=row.rules,
            active=row.active,
            version=row.version,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )


@strawberry.federation.type(keys=["id"], description="An LLM service listed in the catalog.")
class Service:
    id: strawberry.ID

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> Service:
        return cls(id=id)

    @strawberry.field(description="The latest compliance report; null before the first check.")
    async def compliance(self, info: GatewayInfo) -> ComplianceReport | None:
        row = await info.context.loaders.compliance_by_service.load(str(self.id))
        return ComplianceReport.from_model(row) if row else None
