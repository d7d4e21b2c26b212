"""Stable GraphQL error codes (``extensions.code``) and helpers to raise them."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from graphql import GraphQLError


class ErrorCode(StrEnum):
    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    BAD_USER_INPUT = "BAD_USER_INPUT"
    NOT_FOUND = "NOT_FOUND"
    INVALID_TRANSITION = "INVALID_TRANSITION"
    CONFLICT = "CONFLICT"
    INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"
    # A live subscription fell too far behind and was ended; resume with `since`.
    SUBSCRIBER_TOO_SLOW = "SUBSCRIBER_TOO_SLOW"
    # Request errors: the operation is refused before any resolver runs.
    GRAPHQL_PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
    GRAPHQL_VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
    MAX_DEPTH_LIMIT = "MAX_DEPTH_LIMIT"
    MAX_ALIASES_LIMIT = "MAX_ALIASES_LIMIT"
    MAX_TOKENS_LIMIT = "MAX_TOKENS_LIMIT"
    MAX_ROOT_FIELDS_LIMIT = "MAX_ROOT_FIELDS_LIMIT"
    COST_ESTIMATED_TOO_EXPENSIVE = "COST_ESTIMATED_TOO_EXPENSIVE"
    PERSISTED_QUERY_NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
    PERSISTED_QUERY_NOT_IN_LIST = "PERSISTED_QUERY_NOT_IN_LIST"
    PERSISTED_QUERY_HASH_MISMATCH = "PERSISTED_QUERY_HASH_MISMATCH"


class GatewayError(GraphQLError):
    """A GraphQL error a client is meant to handle: it always carries a stable code."""

    def __init__(self, message: str, code: ErrorCode, **extensions: Any) -> None:
        super().__init__(message, extensions={"code": code.value, **extensions})
        self.code = code


def bad_input(message: str, *, field: str | None = None, **extensions: Any) -> GatewayError:
    if field is not None:
        extensions["field"] = field
    return GatewayError(message, ErrorCode.BAD_USER_INPUT, **extensions)


def forbidden(message: str = "You are not allowed to do this.") -> GatewayError:
    return GatewayError(message, ErrorCode.FORBIDDEN)


def unauthenticated(message: str = "Authentication required.") -> GatewayError:
    return GatewayError(message, ErrorCode.UNAUTHENTICATED)


def not_found(what: str, ident: str) -> GatewayError:
    return GatewayError(f"{what} {ident!r} not found.", ErrorCode.NOT_FOUND)
