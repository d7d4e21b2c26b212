"""The ASGI application: the composed graph, each subgraph alone, health, request ids."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, Response
from starlette.requests import HTTPConnection
from strawberry import Schema
from strawberry.fastapi import GraphQLRouter

from graph import health
from graph.auth import AuthError, Principal, bearer_token, decode_token
from graph.context import GatewayContext
from graph.runtime import Runtime
from graph.schema import composed_schema
from graph.settings import Settings, get_settings
from resolvers.db import RequestDB
from resolvers.loaders import Loaders
from subgraphs.registry import BY_NAME, SUBGRAPHS

REQUEST_ID_HEADER = "X-Request-ID"


def _principal(connection: HTTPConnection, settings: Settings) -> Principal | None:
    token = bearer_token(connection.headers.get("authorization"))
    if token is None:
        return None
    try:
        return decode_token(token, settings)
    except AuthError:
        # An invalid token is treated as anonymous; fields that need a caller then answer
        # UNAUTHENTICATED, which is what the client must fix.
        return None


async def _context(connection: HTTPConnection) -> AsyncIterator[GatewayContext]:
    runtime: Runtime = connection.app.state.runtime
    async with runtime.session_factory() as session:
        db = RequestDB(session)
        yield GatewayContext(
            settings=runtime.settings,
            db=db,
            loaders=Loaders.create(db, batching=runtime.settings.dataloader_batching),
            principal=_principal(connection, runtime.settings),
            request_id=getattr(connection.state, "request_id", None) or str(uuid.uuid4()),
        )


def _router(schema: Schema, settings: Settings) -> GraphQLRouter[GatewayContext, None]:
    return GraphQLRouter(
        schema,
        context_getter=_context,
        graphql_ide=None if settings.is_production else "graphiql",
    )


def _base_app(settings: Settings, title: str) -> FastAPI:

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = Runtime.create(settings)
        app.state.runtime = runtime
        try:
            yield
        finally:
            await runtime.close()

    app = FastAPI(
        title=title,
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None if settings.is_production else "/docs",
    )

    @app.middleware("http")
    async def request_id(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        rid = request.headers.get(REQUEST_ID_HEADER) or str(uuid.uuid4())
        request.state.request_id = rid[:64]
        response = await call_next(request)
        response.headers[REQUEST_ID_HEADER] = request.state.request_id
        return response

    app.include_router(health.router)
    return app


def create_app(settings: Settings | None = None) -> FastAPI:
    """The composed gateway: ``/graphql`` plus every subgraph at ``/subgraphs/{name}/graphql``."""
    settings = settings or get_settings()
    app = _base_app(settings, "LLM Marketplace Gateway")
    app.include_router(_router(composed_schema(), settings), prefix="/graphql")
    for subgraph in SUBGRAPHS:
        app.include_router(
            _router(subgraph.schema, settings), prefix=f"/subgraphs/{subgraph.name}/graphql"
        )
    return app


def create_subgraph_app(name: str, settings: Settings | None = None) -> FastAPI:
    """One subgraph alone, as a Federation v2 router expects it, at ``/graphql``."""
    settings = settings or get_settings()
    app = _base_app(settings, f"LLM Marketplace Gateway: {name} subgraph")
    app.include_router(_router(BY_NAME[name].schema, settings), prefix="/graphql")
    return app
