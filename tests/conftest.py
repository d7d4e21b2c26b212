"""Shared fixtures: real databases (SQLite and PostgreSQL), the app, seeded data.

The URLs of the local services come from ``deploy/local/services.env`` (written by
``deploy/local/services.sh up``, which ``make test`` runs first). A missing service fails the
tests that need it; nothing is skipped silently.
"""

from __future__ import annotations

import contextvars
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from graph.app import create_app
from graph.auth import issue_token
from graph.runtime import Runtime
from graph.settings import Settings, load_settings
from graph.shutdown import stop_within
from persistence.database import create_engine
from persistence.migrate import upgrade
from persistence.models import Base

ROOT = Path(__file__).resolve().parents[1]
SERVICES_ENV = ROOT / "deploy" / "local" / "services.env"
BACKENDS = ("sqlite", "postgres")


def _load_services_env() -> None:
    if not SERVICES_ENV.exists():
        return
    for line in SERVICES_ENV.read_text().splitlines():
        key, sep, value = line.strip().partition("=")
        if sep and not key.startswith("#"):
            os.environ.setdefault(key, value)


_load_services_env()


def service_url(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        pytest.fail(
            f"{name} is not set: start the local services with `make services` "
            f"(it writes {SERVICES_ENV.relative_to(ROOT)})"
        )
    return value


_prepared: dict[str, Any] = {}


async def _sqlite_template(root: Path) -> Path:
    """A migrated SQLite file; each test gets its own copy (faster than migrating again)."""
    if "sqlite" not in _prepared:
        path = root / "template.db"
        await upgrade(f"sqlite+aiosqlite:///{path}")
        _prepared["sqlite"] = path
    return Path(_prepared["sqlite"])


async def _postgres_migrated() -> str:
    """The test PostgreSQL database, emptied and migrated once per run."""
    if "postgres" not in _prepared:
        url = service_url("MARKETPLACE_TEST_DATABASE_URL")
        await _empty_public_schema(url)
        await upgrade(url)
        _prepared["postgres"] = url
    return str(_prepared["postgres"])


async def empty_postgres_database(suffix: str) -> str:
    """A PostgreSQL database of its own beside the test database (``<test db>_<suffix>``),
    created if missing and emptied, for tests that need more than the shared one."""
    test_url = make_url(service_url("MARKETPLACE_TEST_DATABASE_URL"))
    name = f"{test_url.database}_{suffix}"
    admin = create_engine(test_url.set(database="postgres").render_as_string(False))
    async with admin.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        exists = await conn.scalar(
            text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
        )
        if not exists:
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
    await admin.dispose()
    url = test_url.set(database=name).render_as_string(False)
    await _empty_public_schema(url)
    return url


async def _empty_public_schema(url: str) -> None:
    engine = create_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))
    await engine.dispose()


async def _truncate_postgres(url: str) -> None:
    engine = create_engine(url)
    tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
    async with engine.begin() as conn:
        await conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    await engine.dispose()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def database_url(
    backend: str, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> str:
    """A fresh, migrated, empty database of the test's backend."""
    if backend == "sqlite":
        template = await _sqlite_template(tmp_path_factory.getbasetemp())
        path = tmp_path / "marketplace.db"
        shutil.copy(template, path)
        return f"sqlite+aiosqlite:///{path}"
    url = await _postgres_migrated()
    await _truncate_postgres(url)
    return url


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return load_settings(database_url=database_url, data_dir=tmp_path)


@pytest.fixture
async def runtime(settings: Settings) -> AsyncIterator[Runtime]:
    runtime = Runtime.create(settings)
    yield runtime
    await stop_within(settings.shutdown_step_seconds, "test runtime", runtime.close())


@pytest.fixture
async def seeded(runtime: Runtime) -> Runtime:
    from persistence.seed import seed_demo

    await seed_demo(runtime.session_factory)
    return runtime


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as http:
            http.app = app  # type: ignore[attr-defined]
            yield http


@pytest.fixture
async def seeded_client(client: httpx.AsyncClient) -> httpx.AsyncClient:
    from persistence.seed import seed_demo

    await seed_demo(client.app.state.runtime.session_factory)  # type: ignore[attr-defined]
    return client


_counting: contextvars.ContextVar[StatementCounter | None] = contextvars.ContextVar(
    "statement_counter", default=None
)


class StatementCounter:
    """Counts the statements sent from the test's own task and the tasks it spawns, so the
    gateway's background workers (outbox relay, indexer, usage flusher) do not interfere."""

    def __init__(self) -> None:
        self.statements: list[str] = []

    def __call__(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if _counting.get() is self:
            self.statements.append(statement)

    @property
    def count(self) -> int:
        return len(self.statements)


@pytest.fixture
def count_statements() -> Iterator[Any]:
    """``with count_statements(engine) as counter:`` counts SQL sent through the engine."""

    @contextmanager
    def counting(engine: AsyncEngine) -> Iterator[StatementCounter]:
        counter = StatementCounter()
        token = _counting.set(counter)
        event.listen(engine.sync_engine, "before_cursor_execute", counter)
        try:
            yield counter
        finally:
            event.remove(engine.sync_engine, "before_cursor_execute", counter)
            _counting.reset(token)

    yield counting


def bearer(settings: Settings, subject: str, *roles: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(settings, subject=subject, roles=roles)}"}


async def gql(
    client: httpx.AsyncClient,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    headers: dict[str, str] | None = None,
    path: str = "/graphql",
) -> dict[str, Any]:
    response = await client.post(
        path, json={"query": query, "variables": variables or {}}, headers=headers
    )
    assert response.headers["content-type"].startswith("application/"), response.text
    body: dict[str, Any] = response.json()
    return body
