"""Shutdown steps are bounded (graph/shutdown.py): a step that stops answering is cancelled,
left behind and logged, and the gateway still shuts down."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from graph.app import create_app
from graph.security import SecurityState
from graph.settings import load_settings
from graph.shutdown import stop_within
from persistence.migrate import upgrade


async def test_a_step_that_never_finishes_is_cancelled_and_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    cancelled = asyncio.Event()

    async def hangs() -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    with caplog.at_level(logging.WARNING, logger="graph.shutdown"):
        await stop_within(0.05, "stuck step", hangs())
    await asyncio.wait_for(cancelled.wait(), 5)
    assert "shutdown: stuck step did not finish within 0 s; left behind" in caplog.text


async def test_a_step_that_ignores_cancellation_does_not_hold_shutdown() -> None:
    finished = asyncio.Event()

    async def stubborn() -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            await asyncio.sleep(0.2)  # ignores the cancellation and carries on a while
        finished.set()

    await stop_within(0.05, "stubborn step", stubborn())
    assert not finished.is_set()  # shutdown went on without it
    await asyncio.wait_for(finished.wait(), 5)


async def test_a_steps_own_error_is_raised() -> None:
    async def fails() -> None:
        raise RuntimeError("could not close")

    with pytest.raises(RuntimeError, match="could not close"):
        await stop_within(5, "failing step", fails())


async def test_the_gateway_shuts_down_when_a_client_stops_answering(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'gateway.db'}"
    await upgrade(url)
    settings = load_settings(
        database_url=url,
        redis_url=None,
        kafka_bootstrap_servers=None,
        elasticsearch_url=None,
        shutdown_step_seconds=0.1,
    )

    async def never_closes(self: SecurityState) -> None:
        await asyncio.Event().wait()

    monkeypatch.setattr(SecurityState, "close", never_closes)
    app = create_app(settings)
    with caplog.at_level(logging.WARNING, logger="graph.shutdown"):
        async with app.router.lifespan_context(app):
            pass
    assert "security clients did not finish" in caplog.text
    # The step after it still ran: the runtime closed its event stream.
    assert app.state.runtime.governance.started is False
