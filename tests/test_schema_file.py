"""schema.graphql is exactly what `marketplace-gateway schema` prints."""

from __future__ import annotations

from graph.schema import composed_sdl
from tests.conftest import ROOT


def test_checked_in_schema_is_current():
    checked_in = (ROOT / "schema.graphql").read_text()
    assert checked_in == composed_sdl(), (
        "schema.graphql is stale: run `.venv/bin/marketplace-gateway schema > schema.graphql`"
    )


def test_composed_schema_has_no_federation_plumbing():
    sdl = composed_sdl()
    for name in ("_entities", "_service", "_Any", "@key", "@link"):
        assert name not in sdl
