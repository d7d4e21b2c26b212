"""Authorization in one place: permission classes for fields and object-level rules.

Field-level: ``@strawberry.field(permission_classes=[IsAuthenticated])`` or, with roles,
``extensions=[PermissionExtension(permissions=[HasRole(Role.PROVIDER)])]``. A refused field
raises a ``GatewayError`` whose ``extensions.code`` is UNAUTHENTICATED (no caller) or FORBIDDEN
(wrong caller); a nullable field is then ``null`` with the error, as GraphQL prescribes.

Object-level, two forms. On fields of a ``Service`` the owner can be found from the source
object, so ``IsServiceOwner`` / ``SeesProviderSecrets`` are permission classes like the others
(``endpointUrl`` answers ``null`` plus FORBIDDEN to everyone but the owning provider and
admins). Mutations only learn the object inside their transaction, so resolvers call the
``ensure_*`` helpers once they hold it (a provider edits only its own services, a consumer sees
only its own keys, subscriptions and usage). Admins pass every rule.
"""

from __future__ import annotations

from typing import Any

from strawberry.extensions.field_extension import FieldExtension
from strawberry.permission import BasePermission, PermissionExtension

from graph.auth import Principal, Role, require_principal, require_role, require_scope
from graph.errors import forbidden


def _principal(info: Any) -> Principal | None:
    return getattr(info.context, "principal", None)


def requires(*permissions: BasePermission) -> list[FieldExtension]:
    """``extensions=requires(HasRole(...))``: permissions that take arguments."""
    return [PermissionExtension(permissions=list(permissions))]


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


class IsServiceOwner(BasePermission):
    """On a field of a ``Service`` (``source.id``): admins and the owning provider account.

    ``also`` names roles that pass without owning the service (approvers read audit trails).
    The owner is found through the request's loaders, so a list of services costs one batched
    statement per loader, not one per service. On a nullable field a refusal gives ``null``
    plus the error, and the rest of the service is still returned.
    """

    message = "Only the provider that owns this service (or an admin) may see this."

    def __init__(self, *also: str) -> None:
        self.also = also

    async def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        caller = require_principal(_principal(info))
        if caller.is_admin or (self.also and caller.has_role(*self.also)):
            return True
        if not owns_provider(caller, await service_owner_subject(info, str(source.id))):
            raise forbidden(self.message)
        return True


class SeesProviderSecrets(IsServiceOwner):
    """For ``endpointUrl`` and upstream credentials: the owning provider and admins only."""

    message = "Only the owning provider and admins may see this field."


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


async def service_owner_subject(info: Any, service_id: str) -> str | None:
    """The JWT subject owning ``service_id``'s provider; None for an unknown service."""
    loaders = info.context.loaders
    service = await loaders.service_by_id.load(service_id)
    if service is None:
        return None
    provider = await loaders.provider_by_id.load(service.provider_id)
    return provider.owner_subject if provider is not None else None


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
