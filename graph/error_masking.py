"""What clients see of errors: stable codes always, internals never in production.

* An error a client is meant to handle carries ``extensions.code`` already (``GatewayError``,
  the operation limits, parse and validation failures) and is passed through.
* Anything else is unexpected (a bug, a database outage): it gets the code
  INTERNAL_SERVER_ERROR and the request id, so an operator can find the logged original; in
  production its message is replaced by a generic one and nothing of the exception leaks.
* In production, "Did you mean …?" suggestions are removed from every message so the schema
  cannot be mapped by probing it while introspection is off.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from typing import Any

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from graph.errors import ErrorCode
from graph.settings import Settings, get_settings

log = logging.getLogger("marketplace.errors")

MASKED_MESSAGE = "Internal server error."
_SUGGESTION = re.compile(r"\s*Did you mean [^?]*\?")


class MaskUnexpectedErrors(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        errors = getattr(result, "errors", None)
        if not errors:
            return
        context = self.execution_context.context
        settings = getattr(context, "settings", None)
        production = (settings if isinstance(settings, Settings) else get_settings()).is_production
        request_id = getattr(context, "request_id", None)
        result.errors = [_client_error(e, production, request_id) for e in errors]  # type: ignore[union-attr]


def _client_error(error: GraphQLError, production: bool, request_id: str | None) -> GraphQLError:
    if (error.extensions or {}).get("code"):
        if production:
            error.message = _SUGGESTION.sub("", error.message)
        return error
    if error.path is None:
        # Raised by graphql-core before any field ran: variable coercion, operation selection.
        error.extensions = {**(error.extensions or {}), "code": ErrorCode.BAD_USER_INPUT.value}
        if production:
            error.message = _SUGGESTION.sub("", error.message)
        return error
    log.error(
        "unexpected error (request %s): %s",
        request_id,
        error.message,
        exc_info=error.original_error,
    )
    extensions: dict[str, Any] = {"code": ErrorCode.INTERNAL_SERVER_ERROR.value}
    if request_id:
        extensions["requestId"] = request_id
    if not production:
        error.extensions = {**(error.extensions or {}), **extensions}
        return error
    return GraphQLError(
        MASKED_MESSAGE,
        nodes=error.nodes,
        path=error.path,
        extensions=extensions,
    )
