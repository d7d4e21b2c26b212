"""The ASGI application: the composed graph, each subgraph alone, health, request ids."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, nullcontext

from fastapi import FastAPI
from starlette.requests import HTTPConnection
from strawberry import Schema
from strawberry.fastapi import GraphQLRouter

from graph import health
from graph.context import GatewayContext
from graph.gc_tuning import GcMaintenance
from graph.hardening import install as install_extensions
from graph.http_surface import HardenedGraphQLRouter
from graph.passthrough.router import router as passthrough_router
from graph.passthrough.state import PassthroughState
from graph.request_id import RequestIdMiddleware
from graph.runtime import Runtime
from graph.schema import composed_schema
from graph.security import SecurityState, authenticate, install_http_security
from graph.settings import Settings, get_settings
from graph.shutdown import stop_within
from graph.startup_heap import startup_heap_frozen
from graph.telemetry import setup_telemetry
from persistence.search.indexer import SearchIndexer
from resolvers.db import RequestDB
from resolvers.loaders import Loaders
from resolvers.recheck import run_periodic_recheck
from subgraphs.registry import BY_NAME, SUBGRAPHS


async def _context(connection: HTTPConnection) -> AsyncIterator[GatewayContext]:
    runtime: Runtime = connection.app.state.runtime
    async with runtime.session_factory() as session:
        db = RequestDB(session)
        yield GatewayContext(
            settings=runtime.settings,
            db=db,
            loaders=Loaders.create(db, batching=runtime.settings.dataloader_batching),
            principal=await authenticate(connection),
            request_id=getattr(connection.state, "request_id", None) or str(uuid.uuid4()),
            search=runtime.search,
        )


def _router(schema: Schema, settings: Settings) -> GraphQLRouter[GatewayContext, None]:
    return HardenedGraphQLRouter(
        install_extensions(schema),
        settings=settings,
        context_getter=_context,
        graphql_ide=None if settings.is_production else "graphiql",
    )


def _base_app(settings: Settings, title: str) -> FastAPI:

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = Runtime.create(settings)
        app.state.runtime = runtime
        security = SecurityState.create(settings)
        security.attach(app)
        await runtime.governance.start()
        indexer = SearchIndexer(
            runtime.session_factory,
            runtime.search,
            poll_seconds=settings.search_index_poll_seconds,
            refresh_seconds=settings.search_signals_refresh_seconds,
        )
        indexer.start()
        app.state.passthrough = PassthroughState.start(runtime)
        recheck = asyncio.create_task(run_periodic_recheck(runtime), name="governance-recheck")
        gc_maintenance = GcMaintenance() if settings.gc_tuning else None
        # Last, so every object start-up built is frozen at once (the maintenance freezes too).
        if gc_maintenance is not None:
            gc_maintenance.start()
        startup_heap = startup_heap_frozen() if gc_maintenance is None else nullcontext()
        try:
            with startup_heap:
                yield
        finally:
            if gc_maintenance is not None:
                await gc_maintenance.stop()
            recheck.cancel()
            limit = settings.shutdown_step_seconds
            await stop_within(limit, "search indexer", indexer.stop())
            # Flushes buffered usage before exit.
            await stop_within(limit, "usage metering", app.state.passthrough.stop())
            await stop_within(limit, "security clients", security.close())
            await stop_within(limit, "runtime (event bus, search, database)", runtime.close())

    app = FastAPI(
        title=title,
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None if settings.is_production else "/docs",
    )

    app.add_middleware(RequestIdMiddleware)
    app.include_router(health.router)
    setup_telemetry(app, settings)
    return app


def create_app(settings: Settings | None = None) -> FastAPI:
    """The composed gateway: ``/graphql`` plus every subgraph at ``/subgraphs/{name}/graphql``."""
    settings = settings or get_settings()
    app = _base_app(settings, "LLM Marketplace Gateway")
    install_http_security(
        app, settings, graphql_prefixes=("/graphql",), subgraph_prefixes=("/subgraphs/",)
    )
    app.include_router(_router(composed_schema(), settings), prefix="/graphql")
    app.include_router(passthrough_router)
    for subgraph in SUBGRAPHS:
        app.include_router(
            _router(subgraph.schema, settings), prefix=f"/subgraphs/{subgraph.name}/graphql"
        )
    return app


def create_subgraph_app(name: str, settings: Settings | None = None) -> FastAPI:
    """One subgraph alone, as a Federation v2 router expects it, at ``/graphql``."""
    settings = settings or get_settings()
    app = _base_app(settings, f"LLM Marketplace Gateway: {name} subgraph")
    install_http_security(app, settings, graphql_prefixes=(), subgraph_prefixes=("/graphql",))
    app.include_router(_router(BY_NAME[name].schema, settings), prefix="/graphql")
    return app
