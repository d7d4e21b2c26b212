"""Who is calling: JWT bearer tokens to a ``Principal``, and the role checks fields use."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

import jwt

from graph.errors import forbidden, unauthenticated
from graph.jwks import JWKSCache, JWKSUnavailable
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


# Symmetric tokens are verified with the configured secret, asymmetric ones with a JWKS key.
HMAC_ALGORITHMS = frozenset({"HS256", "HS384", "HS512"})
JWKS_ALGORITHMS = frozenset({"RS256", "ES256"})


def decode_token(token: str, settings: Settings, key: Any = None, algorithm: str = "") -> Principal:
    """Verify ``token`` with ``key`` (default: the configured secret) and build the principal.

    Exactly one algorithm is accepted per call, so ``alg: none`` and algorithm confusion
    (an HS256 token "signed" with an RSA public key) never verify.
    """
    algorithm = algorithm or settings.jwt_algorithm
    options = {"require": ["exp", "sub"], "verify_iat": True, "verify_nbf": True}
    try:
        claims = jwt.decode(
            token,
            settings.jwt_secret if key is None else key,
            algorithms=[algorithm],
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            leeway=settings.jwt_leeway_seconds,
            options=options,  # type: ignore[arg-type]
        )
    except jwt.PyJWTError as exc:
        raise AuthError(f"invalid token: {exc}") from exc
    return principal_from_claims(claims, settings.jwt_roles_claim)


def principal_from_claims(claims: dict[str, Any], roles_claim: str) -> Principal:
    roles = _claim_at_path(claims, roles_claim) or []
    if isinstance(roles, str):
        roles = [roles]
    scope = claims.get("scope") or claims.get("scp") or ""
    scopes = scope.split() if isinstance(scope, str) else list(scope)
    return Principal(
        subject=str(claims["sub"]),
        roles=frozenset(str(r) for r in roles),
        scopes=frozenset(str(s) for s in scopes),
        claims=claims,
    )


class TokenVerifier:
    """Verifies bearer tokens: the dev/shared secret, or the identity provider's JWKS.

    With ``MARKETPLACE_JWKS_URL`` set only RS256/ES256 tokens whose ``kid`` is in the key set
    are accepted; without it only the configured HMAC algorithm with the configured secret.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.jwks = (
            JWKSCache(
                settings.jwks_url,
                cache_seconds=settings.jwks_cache_seconds,
                min_refresh_seconds=settings.jwks_min_refresh_seconds,
                timeout_seconds=settings.jwks_timeout_seconds,
            )
            if settings.jwks_url
            else None
        )

    async def verify(self, token: str) -> Principal:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise AuthError(f"malformed token: {exc}") from exc
        algorithm = str(header.get("alg", ""))
        if self.jwks is None:
            if algorithm != self.settings.jwt_algorithm or algorithm not in HMAC_ALGORITHMS:
                raise AuthError(f"token algorithm {algorithm!r} is not accepted")
            return decode_token(token, self.settings)
        if algorithm not in JWKS_ALGORITHMS:
            raise AuthError(f"token algorithm {algorithm!r} is not accepted")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise AuthError("token has no key id (kid)")
        try:
            jwk = await self.jwks.key(kid)
        except JWKSUnavailable as exc:
            raise AuthError(str(exc)) from exc
        if jwk is None:
            raise AuthError(f"unknown signing key {kid!r}")
        if jwk.algorithm_name != algorithm:
            raise AuthError(f"key {kid!r} is not a {algorithm} key")
        return decode_token(token, self.settings, key=jwk.key, algorithm=algorithm)


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


def require_scope(principal: Principal | None, *scopes: str) -> Principal:
    """The caller must be signed in and hold every one of ``scopes`` (admins always pass)."""
    caller = require_principal(principal)
    missing = set(scopes) - caller.scopes
    if missing and not caller.is_admin:
        raise forbidden(f"This needs the scopes: {', '.join(sorted(missing))}.")
    return caller


def require_role(principal: Principal | None, *roles: str) -> Principal:
    """The caller must be signed in and hold one of ``roles`` (admins always pass)."""
    caller = require_principal(principal)
    if not (caller.is_admin or caller.has_role(*roles)):
        raise forbidden(f"This needs one of the roles: {', '.join(sorted(roles))}.")
    return caller
