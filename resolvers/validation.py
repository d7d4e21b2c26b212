"""The publishing validation pipeline, as named stages run in order.

1. ``input_schema``  name, slug (format; uniqueness is checked against the database by the
                     caller), category from the catalog's list, at most 10 tags, description
                     length;
2. ``semver``        the version is semver 2.0.0 (``1.0`` is not);
3. ``endpoint_url``  http(s) URL, https only in production; loopback, private, link-local and
                     other non-public addresses refused unless private upstreams are allowed
                     (SSRF guard; the passthrough checks resolved addresses again at call time);
4. ``pricing``       Decimal >= 0, ISO 4217 currency, per-token prices per 1K tokens or one
                     per-request price;
5. ``policy_compliance`` (resolvers/compliance.py) BLOCKING policies.

Every failure is BAD_USER_INPUT with ``extensions.field`` (the GraphQL input field) and
``extensions.stage``.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from urllib.parse import urlsplit

import iso4217
import semver

from graph.errors import GatewayError, bad_input
from graph.settings import Settings
from persistence.models import PricingModel
from resolvers.catalog import CATEGORIES


class Stage(StrEnum):
    INPUT_SCHEMA = "input_schema"
    SEMVER = "semver"
    ENDPOINT_URL = "endpoint_url"
    PRICING = "pricing"
    POLICY_COMPLIANCE = "policy_compliance"


SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
TAG_RE = re.compile(r"^[a-z0-9][a-z0-9.+-]*$")
NAME_MAX = 200
SLUG_MAX = 64
DESCRIPTION_MIN = 10
DESCRIPTION_MAX = 5000
TAGS_MAX = 10
TAG_MAX = 40
CHANGELOG_MAX = 10_000
URL_MAX = 2000
# Numeric(18, 8): ten digits before the point, eight after.
PRICE_MAX = Decimal("9999999999.99999999")
PRICE_PLACES = 8
# Host names that always mean "this machine or this network".
LOCAL_HOST_SUFFIXES = (".localhost", ".local", ".internal", ".localdomain")


def failure(stage: Stage, field: str, message: str) -> GatewayError:
    return bad_input(message, field=field, stage=stage.value)


# --- 1. input schema --------------------------------------------------------------------------


def check_name(name: str, *, field: str = "name") -> str:
    name = name.strip()
    if not name or len(name) > NAME_MAX:
        raise failure(Stage.INPUT_SCHEMA, field, f"A name has 1 to {NAME_MAX} characters.")
    return name


def check_slug(slug: str, *, field: str = "slug") -> str:
    if len(slug) > SLUG_MAX or not SLUG_RE.match(slug):
        raise failure(
            Stage.INPUT_SCHEMA,
            field,
            f"A slug is lowercase letters, digits and single hyphens, at most {SLUG_MAX} long.",
        )
    return slug


def check_category(category: str) -> str:
    if category not in CATEGORIES:
        raise failure(
            Stage.INPUT_SCHEMA,
            "category",
            f"Unknown category {category!r}; one of: {', '.join(CATEGORIES)}.",
        )
    return category


def check_tags(tags: list[str]) -> list[str]:
    if len(tags) > TAGS_MAX:
        raise failure(Stage.INPUT_SCHEMA, "tags", f"At most {TAGS_MAX} tags.")
    cleaned: list[str] = []
    for tag in tags:
        tag = tag.strip().lower()
        if len(tag) > TAG_MAX or not TAG_RE.match(tag):
            raise failure(
                Stage.INPUT_SCHEMA,
                "tags",
                f"Tag {tag!r}: lowercase letters, digits, '.', '+' or '-', at most {TAG_MAX}.",
            )
        if tag not in cleaned:
            cleaned.append(tag)
    return cleaned


def check_description(description: str) -> str:
    description = description.strip()
    if not DESCRIPTION_MIN <= len(description) <= DESCRIPTION_MAX:
        raise failure(
            Stage.INPUT_SCHEMA,
            "description",
            f"A description has {DESCRIPTION_MIN} to {DESCRIPTION_MAX} characters.",
        )
    return description


def check_changelog(changelog: str) -> str:
    changelog = changelog.strip()
    if len(changelog) > CHANGELOG_MAX:
        raise failure(
            Stage.INPUT_SCHEMA, "changelog", f"A changelog has at most {CHANGELOG_MAX} characters."
        )
    return changelog


def check_optional_url(url: str | None, field: str) -> str | None:
    if url is None or not url.strip():
        return None
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or len(url) > URL_MAX:
        raise failure(Stage.INPUT_SCHEMA, field, "Give an absolute http(s) URL.")
    return url


# --- 2. semver --------------------------------------------------------------------------------


def check_semver(version: str, *, field: str = "version") -> semver.Version:
    try:
        return semver.Version.parse(version.strip())
    except (ValueError, TypeError):
        raise failure(
            Stage.SEMVER,
            field,
            f"{version!r} is not a semantic version (MAJOR.MINOR.PATCH, e.g. 1.0.0).",
        ) from None


def check_version_increases(new: semver.Version, current: str) -> None:
    if new.compare(current) <= 0:
        raise failure(
            Stage.SEMVER,
            "version",
            f"Version {new} must be greater than the current version {current}.",
        )


# --- 3. endpoint URL (SSRF guard) ---------------------------------------------------------


def _is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return _is_public(address.ipv4_mapped)
    return address.is_global and not address.is_multicast


def check_endpoint_url(url: str, settings: Settings, *, field: str = "endpointUrl") -> str:
    url = url.strip()
    parts = urlsplit(url)
    allowed_schemes = ("https",) if settings.is_production else ("http", "https")
    if parts.scheme not in allowed_schemes:
        raise failure(
            Stage.ENDPOINT_URL,
            field,
            f"The endpoint URL must use {' or '.join(allowed_schemes)}.",
        )
    host = (parts.hostname or "").rstrip(".").lower()
    if not host or len(url) > URL_MAX or parts.username or parts.password:
        raise failure(
            Stage.ENDPOINT_URL, field, "Give an absolute URL with a host and no credentials."
        )
    if settings.allow_private_upstreams:
        return url
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        if host == "localhost" or host.endswith(LOCAL_HOST_SUFFIXES) or "." not in host:
            raise failure(
                Stage.ENDPOINT_URL,
                field,
                f"Host {host!r} is not a public address (private upstreams are not allowed).",
            ) from None
        return url
    if not _is_public(address):
        raise failure(
            Stage.ENDPOINT_URL,
            field,
            f"Address {host} is loopback, private or reserved (private upstreams are not allowed).",
        )
    return url


# --- 4. pricing -------------------------------------------------------------------------------


@dataclass(frozen=True)
class PriceList:
    model: PricingModel
    currency: str
    input_price_per_1k: Decimal | None
    output_price_per_1k: Decimal | None
    request_price: Decimal | None


def _check_amount(value: Decimal | None, field: str) -> Decimal | None:
    if value is None:
        return None
    if not value.is_finite() or value < 0 or value > PRICE_MAX:
        raise failure(Stage.PRICING, field, "A price is a decimal between 0 and 9999999999.")
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -PRICE_PLACES:
        raise failure(
            Stage.PRICING, field, f"A price has at most {PRICE_PLACES} digits after the point."
        )
    return value


def check_pricing(prices: PriceList, *, field: str = "pricing") -> PriceList:
    currency = prices.currency.strip().upper()
    try:
        iso4217.Currency(currency)
    except ValueError:
        raise failure(
            Stage.PRICING, f"{field}.currency", f"{prices.currency!r} is not an ISO 4217 code."
        ) from None
    inp = _check_amount(prices.input_price_per_1k, f"{field}.inputPricePer1k")
    out = _check_amount(prices.output_price_per_1k, f"{field}.outputPricePer1k")
    req = _check_amount(prices.request_price, f"{field}.requestPrice")
    if prices.model is PricingModel.PER_TOKEN:
        if inp is None or out is None or req is not None:
            raise failure(
                Stage.PRICING,
                f"{field}.model",
                "PER_TOKEN pricing takes inputPricePer1k and outputPricePer1k, no requestPrice.",
            )
    elif req is None or inp is not None or out is not None:
        raise failure(
            Stage.PRICING,
            f"{field}.model",
            "PER_REQUEST pricing takes requestPrice only.",
        )
    return PriceList(prices.model, currency, inp, out, req)
