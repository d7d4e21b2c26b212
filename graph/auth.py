"""Who is calling: JWT bearer tokens to a ``Principal``, and the role checks fields use."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

import jwt

from graph.errors import forbidden, unauthenticated
from graph.settings import Settings


class Role(StrEnum):
    PROVIDER = "provider"
    CONSUMER = "consumer"
    APPROVER = "approver"
    ADMIN = "admin"
    SUPER_ADMIN = "super_admin"
    VIEWER = "viewer"
    SERVICE_ACCOUNT = "service_account"


ADMIN_ROLES = frozenset({Role.ADMIN, Role.SUPER_ADMIN})


@dataclass(frozen=True)
class Principal:
    subject: str
    roles: frozenset[str] = field(default_factory=frozenset)
    scopes: frozenset[str] = field(default_factory=frozenset)
    claims: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    @property
    def is_admin(self) -> bool:
        return self.has_role(*ADMIN_ROLES)


class AuthError(Exception):
    """The bearer token was present but is not acceptable."""


def _claim_at_path(claims: dict[str, Any], path: str) -> Any:
    value: Any = claims
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def decode_token(token: str, settings: Settings) -> Principal:
    """Verify an HS256 token signed with the configured secret and build the principal."""
    options = {"require": ["exp", "sub"]}
    try:
        claims = jwt.decode(
            token,
            settings.jwt_secret,
            algorithms=[settings.jwt_algorithm],
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            leeway=settings.jwt_leeway_seconds,
            options=options,  # type: ignore[arg-type]
        )
    except jwt.PyJWTError as exc:
        raise AuthError(f"invalid token: {exc}") from exc
    roles = _claim_at_path(claims, settings.jwt_roles_claim) or []
    if isinstance(roles, str):
        roles = [roles]
    scope = claims.get("scope") or ""
    scopes = scope.split() if isinstance(scope, str) else list(scope)
    return Principal(
        subject=str(claims["sub"]),
        roles=frozenset(str(r) for r in roles),
        scopes=frozenset(scopes),
        claims=claims,
    )


def issue_token(
    settings: Settings, *, subject: str, roles: Iterable[str], ttl_seconds: int = 3600
) -> str:
    """A token signed with the configured (development) secret, as the CLI prints it."""
    now = datetime.now(UTC)
    claims: dict[str, Any] = {
        "sub": subject,
        "roles": sorted(roles),
        "iat": now,
        "nbf": now,
        "exp": now + timedelta(seconds=ttl_seconds),
    }
    if settings.jwt_issuer:
        claims["iss"] = settings.jwt_issuer
    if settings.jwt_audience:
        claims["aud"] = settings.jwt_audience
    return jwt.encode(claims, settings.jwt_secret, algorithm=settings.jwt_algorithm)


def bearer_token(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def require_principal(principal: Principal | None) -> Principal:
    if principal is None:
        raise unauthenticated()
    return principal


def require_role(principal: Principal | None, *roles: str) -> Principal:
    """The caller must be signed in and hold one of ``roles`` (admins always pass)."""
    caller = require_principal(principal)
    if not (caller.is_admin or caller.has_role(*roles)):
        raise forbidden(f"This needs one of the roles: {', '.join(sorted(roles))}.")
    return caller
