"""The service lifecycle: every status change goes through :func:`transition`.

* publish: DRAFT -> ACTIVE, or -> PENDING_APPROVAL when the category needs approval;
* approval: PENDING_APPROVAL -> ACTIVE (approved) or -> DRAFT (rejected, expired);
* governance: ACTIVE <-> SUSPENDED (suspended by an admin or a BLOCKING policy, reinstated);
* end of life: ACTIVE -> DEPRECATED -> RETIRED; SUSPENDED -> RETIRED.

DRAFT and PENDING_APPROVAL services may also be retired (withdrawn). RETIRED is final.
"""

from __future__ import annotations

from graph.errors import ErrorCode, GatewayError
from persistence.models import Service, ServiceStatus

S = ServiceStatus

ALLOWED_TRANSITIONS: dict[ServiceStatus, frozenset[ServiceStatus]] = {
    S.DRAFT: frozenset({S.PENDING_APPROVAL, S.ACTIVE, S.RETIRED}),
    S.PENDING_APPROVAL: frozenset({S.ACTIVE, S.DRAFT, S.RETIRED}),
    S.ACTIVE: frozenset({S.SUSPENDED, S.DEPRECATED, S.RETIRED}),
    S.SUSPENDED: frozenset({S.ACTIVE, S.RETIRED}),
    S.DEPRECATED: frozenset({S.RETIRED}),
    S.RETIRED: frozenset(),
}


def invalid_transition(message: str, **extensions: str) -> GatewayError:
    return GatewayError(message, ErrorCode.INVALID_TRANSITION, **extensions)


def can_transition(current: ServiceStatus, target: ServiceStatus) -> bool:
    return target in ALLOWED_TRANSITIONS[ServiceStatus(current)]


def transition(service: Service, target: ServiceStatus, *, reason: str | None = None) -> None:
    """Move ``service`` to ``target`` or refuse with ``INVALID_TRANSITION``.

    ``reason`` is kept as the service's ``status_reason`` (cleared when none is given).
    """
    current = ServiceStatus(service.status)
    if not can_transition(current, target):
        raise invalid_transition(
            f"A {current.value} service cannot become {target.value}.",
            fromStatus=current.value,
            toStatus=target.value,
        )
    service.status = target
    service.status_reason = reason
