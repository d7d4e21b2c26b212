"""Authorization in one place: permission classes for fields and object-level rules.

Field-level: ``@strawberry.field(permission_classes=[IsAuthenticated])`` or, with roles,
``extensions=[PermissionExtension(permissions=[HasRole(Role.PROVIDER)])]``. A refused field
raises a ``GatewayError`` whose ``extensions.code`` is UNAUTHENTICATED (no caller) or FORBIDDEN
(wrong caller); a nullable field is then ``null`` with the error, as GraphQL prescribes.

Object-level: resolvers call the ``ensure_*`` helpers once they hold the object, because only
then is the owner known (a provider edits only its own services, a consumer sees only its own
keys, subscriptions and usage; endpoints and upstream credentials only for the owning provider
and admins). Admins pass every rule.
"""

from __future__ import annotations

from typing import Any

from strawberry.permission import BasePermission

from graph.auth import Principal, Role, require_principal, require_role, require_scope
from graph.errors import forbidden


def _principal(info: Any) -> Principal | None:
    return getattr(info.context, "principal", None)


class IsAuthenticated(BasePermission):
    """Any signed-in caller."""

    message = "Authentication required."

    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        require_principal(_principal(info))
        return True


class HasRole(BasePermission):
    """A signed-in caller holding one of ``roles`` (admins always pass)."""

    message = "You are not allowed to do this."

    def __init__(self, *roles: str) -> None:
        self.roles = roles

    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        require_role(_principal(info), *self.roles)
        return True


class HasScope(BasePermission):
    """A signed-in caller whose token carries every one of ``scopes`` (admins always pass)."""

    message = "You are not allowed to do this."

    def __init__(self, *scopes: str) -> None:
        self.scopes = scopes

    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        require_scope(_principal(info), *self.scopes)
        return True


class IsAdmin(HasRole):
    def __init__(self) -> None:
        super().__init__(Role.ADMIN, Role.SUPER_ADMIN)


class IsProvider(HasRole):
    def __init__(self) -> None:
        super().__init__(Role.PROVIDER)


class IsConsumer(HasRole):
    def __init__(self) -> None:
        super().__init__(Role.CONSUMER)


class IsApprover(HasRole):
    def __init__(self) -> None:
        super().__init__(Role.APPROVER)


# --- object-level rules ------------------------------------------------------------------


def owns_provider(principal: Principal | None, owner_subject: str | None) -> bool:
    """The caller is an admin, or the provider account that owns this provider."""
    if principal is None:
        return False
    if principal.is_admin:
        return True
    return (
        principal.has_role(Role.PROVIDER)
        and owner_subject is not None
        and owner_subject == principal.subject
    )


def ensure_owns_provider(principal: Principal | None, owner_subject: str | None) -> Principal:
    """For writes to a provider's services: admins, or the owning provider account."""
    caller = require_principal(principal)
    if not owns_provider(caller, owner_subject):
        raise forbidden("Only the provider that owns this service (or an admin) may do this.")
    return caller


def owns_consumer(principal: Principal | None, consumer_subject: str | None) -> bool:
    """The caller is an admin, or the consumer account itself."""
    if principal is None:
        return False
    return principal.is_admin or (
        consumer_subject is not None and consumer_subject == principal.subject
    )


def ensure_owns_consumer(principal: Principal | None, consumer_subject: str | None) -> Principal:
    """For a consumer's keys, subscriptions and usage: admins, or that consumer."""
    caller = require_principal(principal)
    if not owns_consumer(caller, consumer_subject):
        raise forbidden("Only this consumer (or an admin) may see or change this.")
    return caller


def ensure_sees_provider_secrets(
    principal: Principal | None, owner_subject: str | None
) -> Principal:
    """For ``endpointUrl`` and upstream credentials: the owning provider and admins only.

    Raised from a nullable field, the field answers ``null`` with a FORBIDDEN error while the
    rest of the object is still returned.
    """
    caller = require_principal(principal)
    if not owns_provider(caller, owner_subject):
        raise forbidden("Only the owning provider and admins may see this field.")
    return caller
