"""A provider sets or clears the credential the passthrough sends to its service's upstream.

The credential is one header, ``Name: value`` (``Authorization: Bearer sk-…``,
``X-Api-Key: sk-…``), stored in ``services.upstream_auth_header`` and injected by
``graph/passthrough/forwarding.py``. It is a secret: no field returns it, and neither the audit
entry, the governance event nor any error message carries its value, only whether it was set
or cleared. The passthrough's access cache is time-bounded
(``MARKETPLACE_API_KEY_CACHE_SECONDS``), so every replica forwards the new credential within
that time of the commit.
"""

from __future__ import annotations

import re

from sqlalchemy.ext.asyncio import AsyncSession

from graph.errors import bad_input
from graph.passthrough.forwarding import RESERVED_FOR_GATEWAY
from persistence.models import Service, ServiceStatus
from persistence.models.base import utcnow
from resolvers.events import GovernanceEventType
from resolvers.lifecycle import invalid_transition
from resolvers.publishing import load_owned_service, record_service_change
from resolvers.write_context import WriteContext

FIELD = "header"
MAX_LENGTH = 2000  # the width of services.upstream_auth_header
# RFC 9110 §5.6.2: a field name is a token of tchar.
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# Printable ASCII plus space and tab (RFC 9110 field-vchar without obs-text): no CR, LF, NUL or
# other control characters, so the value cannot split or smuggle a header.
_VALUE = re.compile(r"[\x20-\x7e\t]+")


def check_upstream_header(header: str | None) -> str | None:
    """The normalised ``Name: value`` to store, or None to clear (None or blank input).

    Messages never quote the input: it is a secret.
    """
    if header is None or not header.strip():
        return None
    if "\r" in header or "\n" in header:
        raise bad_input("The header must not contain CR or LF.", field=FIELD)
    if len(header) > MAX_LENGTH:
        raise bad_input(f"The header is at most {MAX_LENGTH} characters.", field=FIELD)
    name, sep, value = header.strip().partition(":")
    if not sep:
        raise bad_input('The header is "Name: value".', field=FIELD)
    if not _TOKEN.fullmatch(name):
        raise bad_input("The header name is not a valid HTTP field name.", field=FIELD)
    if name.lower() in RESERVED_FOR_GATEWAY:
        raise bad_input("The header name is hop-by-hop or set by the gateway itself.", field=FIELD)
    value = value.strip()
    if not value or not _VALUE.fullmatch(value):
        raise bad_input("The header value must be non-empty printable ASCII.", field=FIELD)
    return f"{name}: {value}"


async def set_upstream_credential(
    session: AsyncSession, ctx: WriteContext, service_id: str, header: str | None
) -> Service:
    """Set (or, with None/blank, clear) the credential; owning provider or admin only."""
    service, _ = await load_owned_service(session, ctx, service_id)
    stored = check_upstream_header(header)
    if stored is not None and service.status == ServiceStatus.RETIRED:
        raise invalid_transition("A RETIRED service cannot be given a credential.")
    was_set = service.upstream_auth_header is not None
    if stored is None and not was_set:
        return service  # nothing to clear: nothing to record
    service.upstream_auth_header = stored
    service.updated_at = utcnow()
    await session.flush()
    change = "set" if stored is not None else "cleared"
    await record_service_change(
        session,
        ctx,
        service,
        action="service.set_upstream_credential",
        diff={
            "before": {"upstream_auth": "configured" if was_set else "none"},
            "after": {"upstream_auth": change},
        },
        event=GovernanceEventType.SERVICE_UPDATED,
        payload={"changed": ["upstream_auth"], "upstream_auth": change},
    )
    return service
