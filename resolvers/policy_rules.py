"""The registered kinds of policy rule.

A policy stores its rules declaratively: ``[{"kind": "max_price_per_1k", "params": {...}}]``.
Each kind here validates its params (when a policy is created or updated) and checks a
service's facts, answering findings that name the offending field and say why.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from graph.errors import bad_input
from persistence.models import PricingModel, Service, ServicePricing

# Service fields a ``required_fields`` rule may name.
REQUIRABLE_FIELDS = frozenset(
    {"privacy_policy_url", "terms_url", "data_region", "pii_handling", "description"}
)


@dataclass(frozen=True)
class ServiceFacts:
    """What rules look at: a service's declared properties and the price in force."""

    category: str
    data_region: str | None
    pii_handling: str | None
    fields: Mapping[str, str | None]
    pricing_model: PricingModel | None
    input_price_per_1k: Decimal | None
    output_price_per_1k: Decimal | None

    @classmethod
    def of(cls, service: Service, pricing: ServicePricing | None) -> ServiceFacts:
        return cls(
            category=service.category,
            data_region=service.data_region,
            pii_handling=service.pii_handling,
            fields={name: getattr(service, name) for name in REQUIRABLE_FIELDS},
            pricing_model=PricingModel(pricing.model) if pricing else None,
            input_price_per_1k=pricing.input_price_per_1k if pricing else None,
            output_price_per_1k=pricing.output_price_per_1k if pricing else None,
        )


@dataclass(frozen=True)
class Finding:
    field: str
    message: str


@dataclass(frozen=True)
class RuleKind:
    """A rule kind: how to validate its params, and what it finds wrong with a service.

    ``needs_approval`` kinds never make a service non-compliant; they route publishing
    through the human approval workflow instead.
    """

    name: str
    validate: Callable[[Mapping[str, Any], str], dict[str, Any]]
    check: Callable[[ServiceFacts, Mapping[str, Any]], list[Finding]]
    needs_approval: bool = False


def _string_list(params: Mapping[str, Any], key: str, at: str) -> list[str]:
    value = params.get(key)
    if (
        not isinstance(value, list)
        or not value
        or not all(isinstance(v, str) and v.strip() for v in value)
    ):
        raise bad_input(f"`{key}` must be a non-empty list of strings.", field=f"{at}.{key}")
    return [v.strip() for v in value]


def _norm(value: str) -> str:
    return value.strip().lower()


# --- allowed_regions ------------------------------------------------------------------------


def _validate_regions(params: Mapping[str, Any], at: str) -> dict[str, Any]:
    return {"regions": [_norm(r) for r in _string_list(params, "regions", at)]}


def _check_regions(facts: ServiceFacts, params: Mapping[str, Any]) -> list[Finding]:
    allowed = params["regions"]
    listed = ", ".join(allowed)
    if not facts.data_region:
        return [Finding("dataRegion", f"no data region declared; allowed regions: {listed}")]
    if _norm(facts.data_region) not in allowed:
        return [
            Finding(
                "dataRegion",
                f"data region '{facts.data_region}' is not one of the allowed regions: {listed}",
            )
        ]
    return []


# --- required_fields ------------------------------------------------------------------------


def _validate_required(params: Mapping[str, Any], at: str) -> dict[str, Any]:
    fields = _string_list(params, "fields", at)
    unknown = sorted(set(fields) - REQUIRABLE_FIELDS)
    if unknown:
        raise bad_input(
            f"Unknown field(s) {', '.join(unknown)}; "
            f"one of: {', '.join(sorted(REQUIRABLE_FIELDS))}.",
            field=f"{at}.fields",
        )
    return {"fields": fields}


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _check_required(facts: ServiceFacts, params: Mapping[str, Any]) -> list[Finding]:
    return [
        Finding(_camel(name), f"required field '{name}' is missing")
        for name in params["fields"]
        if not (facts.fields.get(name) or "").strip()
    ]


# --- banned_categories / approval_required_categories ---------------------------------------


def _validate_categories(params: Mapping[str, Any], at: str) -> dict[str, Any]:
    return {"categories": [_norm(c) for c in _string_list(params, "categories", at)]}


def _check_banned(facts: ServiceFacts, params: Mapping[str, Any]) -> list[Finding]:
    if _norm(facts.category) in params["categories"]:
        return [Finding("category", f"category '{facts.category}' is banned from the catalog")]
    return []


def _check_needs_approval(facts: ServiceFacts, params: Mapping[str, Any]) -> list[Finding]:
    if _norm(facts.category) in params["categories"]:
        return [Finding("category", f"services in category '{facts.category}' need human approval")]
    return []


# --- max_price_per_1k -----------------------------------------------------------------------


def _validate_max_price(params: Mapping[str, Any], at: str) -> dict[str, Any]:
    raw = params.get("max")
    try:
        value = Decimal(str(raw)) if isinstance(raw, str | int) else None
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite() or value < 0:
        raise bad_input("`max` must be a non-negative decimal (as a string).", field=f"{at}.max")
    return {"max": str(value)}


def _check_max_price(facts: ServiceFacts, params: Mapping[str, Any]) -> list[Finding]:
    ceiling = Decimal(params["max"])
    findings = []
    for label, price in (
        ("input", facts.input_price_per_1k),
        ("output", facts.output_price_per_1k),
    ):
        if price is not None and price > ceiling:
            findings.append(
                Finding(
                    "pricing",
                    f"{label} price {price.normalize()} per 1K tokens exceeds the maximum "
                    f"{ceiling.normalize()}",
                )
            )
    return findings


# --- pii_handling_declared ------------------------------------------------------------------


def _validate_pii(params: Mapping[str, Any], at: str) -> dict[str, Any]:
    if "allowed" not in params:
        return {"allowed": []}
    return {"allowed": [_norm(v) for v in _string_list(params, "allowed", at)]}


def _check_pii(facts: ServiceFacts, params: Mapping[str, Any]) -> list[Finding]:
    if not facts.pii_handling:
        return [Finding("piiHandling", "PII handling is not declared")]
    allowed = params["allowed"]
    if allowed and _norm(facts.pii_handling) not in allowed:
        return [
            Finding(
                "piiHandling",
                f"PII handling '{facts.pii_handling}' is not one of: {', '.join(allowed)}",
            )
        ]
    return []


RULE_KINDS: dict[str, RuleKind] = {
    kind.name: kind
    for kind in (
        RuleKind("allowed_regions", _validate_regions, _check_regions),
        RuleKind("required_fields", _validate_required, _check_required),
        RuleKind("banned_categories", _validate_categories, _check_banned),
        RuleKind("max_price_per_1k", _validate_max_price, _check_max_price),
        RuleKind("pii_handling_declared", _validate_pii, _check_pii),
        RuleKind(
            "approval_required_categories",
            _validate_categories,
            _check_needs_approval,
            needs_approval=True,
        ),
    )
}


def validate_rules(rules: Sequence[Any]) -> list[dict[str, Any]]:
    """Normalised rules, or BAD_USER_INPUT naming the first bad one (``rules[i]...``)."""
    if not isinstance(rules, list | tuple) or not rules:
        raise bad_input("A policy needs at least one rule.", field="rules")
    normalised = []
    for index, rule in enumerate(rules):
        at = f"rules[{index}]"
        if not isinstance(rule, Mapping):
            raise bad_input("A rule is an object {kind, params}.", field=at)
        kind = RULE_KINDS.get(str(rule.get("kind")))
        if kind is None:
            raise bad_input(
                f"Unknown rule kind {rule.get('kind')!r}; one of: {', '.join(sorted(RULE_KINDS))}.",
                field=f"{at}.kind",
            )
        params = rule.get("params") or {}
        if not isinstance(params, Mapping):
            raise bad_input("`params` must be an object.", field=f"{at}.params")
        normalised.append({"kind": kind.name, "params": kind.validate(params, f"{at}.params")})
    return normalised
