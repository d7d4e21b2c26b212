"""A fixture for apps built with non-default settings (production mode, limits, APQ)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from graph.app import create_app
from graph.settings import load_settings


@pytest.fixture
async def make_client(database_url: str, tmp_path: Path) -> Any:
    """``await make_client(**settings)``: a client of an app with those settings."""
    clients: list[Any] = []

    async def open_client(**overrides: Any) -> httpx.AsyncClient:
        if overrides.get("env") == "production":  # production refuses the development secrets
            overrides = {"jwt_secret": "p" * 48, "api_key_pepper": "q" * 48, **overrides}
        app = create_app(load_settings(database_url=database_url, data_dir=tmp_path, **overrides))
        lifespan = app.router.lifespan_context(app)
        await lifespan.__aenter__()
        http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw")
        http.app = app  # type: ignore[attr-defined]
        clients.append((lifespan, http))
        return http

    yield open_client
    for lifespan, http in clients:
        await http.aclose()
        await lifespan.__aexit__(None, None, None)
