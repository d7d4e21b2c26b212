"""Wiring of the security pieces into an app: who is calling, per-app state, HTTP guards."""

from __future__ import annotations

from dataclasses import dataclass

import redis.asyncio as aioredis
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import HTTPConnection

from graph.auth import AuthError, Principal, TokenVerifier, bearer_token
from graph.errors import ErrorCode
from graph.http_guards import SUBGRAPH_SECRET_HEADER, GraphQLGuards, SecurityHeaders
from graph.http_surface import PREFLIGHT_HEADERS, negotiate_media_type
from graph.persisted import (
    MemoryPersistedQueryStore,
    PersistedQueryStore,
    RedisPersistedQueryStore,
    TrustedDocuments,
)
from graph.settings import Settings


class InvalidCredentials(Exception):
    """A bearer token was sent but does not verify: the request is answered 401."""


@dataclass
class SecurityState:
    """What the security layer keeps for an app's lifetime (``app.state.security``)."""

    token_verifier: TokenVerifier
    apq_store: PersistedQueryStore
    trusted_documents: TrustedDocuments | None
    redis: aioredis.Redis | None = None

    @classmethod
    def create(cls, settings: Settings) -> SecurityState:
        client = aioredis.from_url(settings.redis_url) if settings.redis_url else None
        store: PersistedQueryStore = (
            RedisPersistedQueryStore(client, ttl_seconds=settings.apq_ttl_seconds)
            if client is not None
            else MemoryPersistedQueryStore()
        )
        trusted = (
            TrustedDocuments.load(settings.trusted_documents)
            if settings.trusted_documents
            else None
        )
        return cls(TokenVerifier(settings), store, trusted, client)

    def attach(self, app: FastAPI) -> None:
        app.state.security = self
        app.state.apq_store = self.apq_store
        app.state.trusted_documents = self.trusted_documents

    async def close(self) -> None:
        if self.redis is not None:
            await self.redis.aclose()


async def authenticate(connection: HTTPConnection) -> Principal | None:
    """The caller of this request; None when no bearer token was sent.

    A token that was sent but does not verify (expired, wrong audience, bad signature,
    unknown key, refused algorithm) is an error, not anonymity: the client must learn that
    its credentials are wrong rather than silently get a public view. HTTP answers 401;
    a WebSocket handshake defers to its ``connection_init`` check.
    """
    token = bearer_token(connection.headers.get("authorization"))
    if token is None:
        return None
    security: SecurityState = connection.app.state.security
    try:
        return await security.token_verifier.verify(token)
    except AuthError as exc:
        if connection.scope["type"] == "websocket":
            return None
        raise InvalidCredentials(str(exc)) from exc


async def _invalid_credentials(request: Request, exc: Exception) -> JSONResponse:
    body = {
        "errors": [
            {
                "message": "The bearer token is invalid or expired.",
                "extensions": {"code": ErrorCode.UNAUTHENTICATED.value},
            }
        ]
    }
    return JSONResponse(
        body,
        status_code=401,
        media_type=negotiate_media_type(request.headers.get("accept", "")),
        headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
    )


def install_http_security(
    app: FastAPI,
    settings: Settings,
    *,
    graphql_prefixes: tuple[str, ...],
    subgraph_prefixes: tuple[str, ...] = (),
) -> None:
    """Guards, CORS and security headers (outermost last) and the 401 answer."""
    app.add_exception_handler(InvalidCredentials, _invalid_credentials)
    app.add_middleware(
        GraphQLGuards,
        settings=settings,
        graphql_prefixes=graphql_prefixes,
        subgraph_prefixes=subgraph_prefixes,
    )
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_allow_origins,
        allow_credentials=True,
        allow_methods=["GET", "POST"],
        allow_headers=[
            "authorization",
            "content-type",
            "x-request-id",
            "x-api-key",
            SUBGRAPH_SECRET_HEADER,
            *PREFLIGHT_HEADERS,
        ],
        expose_headers=["x-request-id"],
        max_age=600,
    )
    app.add_middleware(SecurityHeaders, production=settings.is_production)
