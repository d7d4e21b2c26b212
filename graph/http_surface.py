"""The GraphQL-over-HTTP surface: the gateway's router with the HTTP rules.

``graph.websocket.GatewayGraphQLRouter`` handles the WebSocket side; on top of it, after the
GraphQL over HTTP spec and Apollo's CSRF prevention:

* ``application/graphql-response+json`` is served when the client accepts it; a request
  error (parse, validation, variable coercion, operation limits: ``data`` absent) is then
  answered with 400, while ``application/json`` keeps the legacy 200;
* GET runs queries only: a mutation over GET answers 405 with ``Allow: POST``;
* CSRF: a POST must be ``application/json`` (``text/plain``, form and multipart bodies are
  what a cross-site form can send without a preflight); a GET must carry a JSON ``Accept`` or
  a preflight header (``GraphQL-Require-Preflight``, ``Apollo-Require-Preflight``,
  ``X-Requested-With``); GraphiQL pages (``Accept: text/html``) are exempt;
* batching is off, or capped at ``graphql_max_batch`` operations;
* persisted operations (APQ, trusted documents) are resolved before execution.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from cross_web import HTTPException
from fastapi import Request, Response
from fastapi.responses import JSONResponse
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.http.parse_content_type import parse_content_type
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET

from graph.errors import ErrorCode
from graph.persisted import PersistedQueryError, resolve_document
from graph.settings import Settings
from graph.websocket import GatewayGraphQLRouter

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
PREFLIGHT_HEADERS = ("graphql-require-preflight", "apollo-require-preflight", "x-requested-with")
JSON_ACCEPTS = ("application/json", GRAPHQL_RESPONSE_JSON)

# Per request, for the hooks strawberry calls without the request (contextvars are per task).
_media_type: ContextVar[str] = ContextVar("graphql_media_type", default="application/json")
_app_state: ContextVar[Any] = ContextVar("graphql_app_state")


class MethodNotAllowed(Exception):
    """A mutation or subscription sent over GET."""


def negotiate_media_type(accept: str) -> str:
    return GRAPHQL_RESPONSE_JSON if GRAPHQL_RESPONSE_JSON in accept else "application/json"


def csrf_refusal(request: Request) -> str | None:
    """Why this request may be a cross-site forgery, or None when it is safe to run."""
    headers = request.headers
    if any(h in headers for h in PREFLIGHT_HEADERS):
        return None
    if request.method == "POST":
        content_type, _ = parse_content_type(headers.get("content-type", ""))
        if content_type in ("application/json", GRAPHQL_RESPONSE_JSON):
            return None
        return "A POST to /graphql must have Content-Type: application/json."
    if request.method == "GET":
        accept = headers.get("accept", "")
        if any(media in accept for media in JSON_ACCEPTS):
            return None
        return (
            "A GET to /graphql must accept application/json or send a "
            "GraphQL-Require-Preflight header."
        )
    return None


def _is_request_error(response: GraphQLHTTPResponse) -> bool:
    """No field ran: the errors are about the request itself (none has a path)."""
    errors: list[Any] = list(response.get("errors") or [])
    return response.get("data") is None and bool(errors) and all(not e.get("path") for e in errors)


def graphql_error_response(
    message: str, code: ErrorCode | str, status_code: int, **headers: str
) -> JSONResponse:
    body = {"errors": [{"message": message, "extensions": {"code": str(code)}}]}
    media_type = _media_type.get()
    return JSONResponse(body, status_code=status_code, media_type=media_type, headers=headers)


class HardenedGraphQLRouter(GatewayGraphQLRouter):
    def __init__(self, schema: Any, settings: Settings, **kwargs: Any) -> None:
        kwargs.setdefault("graphql_ide", None if settings.is_production else "graphiql")
        super().__init__(
            schema,
            settings=settings,
            allow_queries_via_get=True,
            multipart_uploads_enabled=False,
            **kwargs,
        )

    async def run(self, request: Any, context: Any = UNSET, root_value: Any = UNSET) -> Any:
        if not isinstance(request, Request):  # a WebSocket
            return await super().run(request, context=context, root_value=root_value)
        _media_type.set(negotiate_media_type(request.headers.get("accept", "")))
        _app_state.set(request.app.state)
        wants_ide = (
            request.method == "GET"
            and "query" not in request.query_params
            and "text/html" in request.headers.get("accept", "")
        )
        if not wants_ide and (reason := csrf_refusal(request)):
            return graphql_error_response(reason, ErrorCode.BAD_USER_INPUT, 400)
        try:
            return await super().run(request, context=context, root_value=root_value)
        except MethodNotAllowed:
            return graphql_error_response(
                "Only queries may be sent with GET; send mutations with POST.",
                ErrorCode.BAD_USER_INPUT,
                405,
                Allow="POST",
            )
        except PersistedQueryError as exc:
            # PersistedQueryNotFound is part of the APQ handshake: 200, the client retries.
            status = 200 if exc.code is ErrorCode.PERSISTED_QUERY_NOT_FOUND else 400
            if _media_type.get() != GRAPHQL_RESPONSE_JSON:
                status = 200
            return graphql_error_response(exc.message, exc.code, status)

    def _validate_batch_request(self, request_data: list[Any], protocol: Any = "http") -> None:
        limit = self.settings.graphql_max_batch
        if limit == 0:
            raise HTTPException(400, "Batching is not enabled.")
        if len(request_data) > limit:
            raise HTTPException(400, f"A batch may hold at most {limit} operations.")

    async def parse_http_body(self, request: Any) -> GraphQLRequestData | list[GraphQLRequestData]:
        data = await super().parse_http_body(request)
        state = _app_state.get()
        store, trusted = state.apq_store, state.trusted_documents
        if isinstance(data, list):
            return [await resolve_document(item, store, trusted) for item in data]
        return await resolve_document(data, store, trusted)

    async def execute_single(self, *args: Any, **kwargs: Any) -> ExecutionResult:
        try:
            return await super().execute_single(*args, **kwargs)
        except HTTPException as exc:
            if isinstance(exc.__cause__, InvalidOperationTypeError):
                request_adapter = kwargs.get("request_adapter") or args[1]
                if request_adapter.method == "GET":
                    raise MethodNotAllowed from exc
            raise

    def create_response(
        self,
        response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse],
        sub_response: Response,
    ) -> Response:
        media_type = _media_type.get()
        status_code = sub_response.status_code or 200
        if (
            media_type == GRAPHQL_RESPONSE_JSON
            and isinstance(response_data, dict)
            and _is_request_error(response_data)
        ):
            response_data = {k: v for k, v in response_data.items() if k != "data"}  # type: ignore[assignment]
            status_code = 400
        response = Response(
            self.encode_json(response_data), media_type=media_type, status_code=status_code
        )
        response.headers.raw.extend(sub_response.headers.raw)
        return response
