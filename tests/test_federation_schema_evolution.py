"""Schema evolution: breaking changes against the released baseline fail unless acknowledged."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

SCRIPT = ROOT / "deploy" / "schema_evolution.py"

BASELINE = """
type Query { service(id: ID!): Service }
type Service { id: ID! name: String! legacyNote: String }
"""
WITHOUT_LEGACY_SCORE = """
type Query { service(id: ID!): Service }
type Service { id: ID! name: String! }
"""
REMOVED = "FIELD_REMOVED: Field Service.legacyNote was removed."


def _check(tmp_path: Path, old: str, new: str, ack: str = "") -> subprocess.CompletedProcess[str]:
    (tmp_path / "baseline.graphql").write_text(old)
    (tmp_path / "schema.graphql").write_text(new)
    (tmp_path / "ack.txt").write_text(ack)
    return subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            f"--baseline={tmp_path / 'baseline.graphql'}",
            f"--schema={tmp_path / 'schema.graphql'}",
            f"--ack={tmp_path / 'ack.txt'}",
        ],
        capture_output=True,
        text=True,
    )


def test_committed_schema_has_no_unacknowledged_breaking_changes():
    result = subprocess.run([sys.executable, str(SCRIPT)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_removed_field_fails_the_check(tmp_path: Path):
    result = _check(tmp_path, BASELINE, WITHOUT_LEGACY_SCORE)
    assert result.returncode == 1
    assert f"breaking (NOT acknowledged) {REMOVED}" in result.stdout
    assert "not acknowledged" in result.stderr


def test_an_acknowledged_break_passes(tmp_path: Path):
    result = _check(tmp_path, BASELINE, WITHOUT_LEGACY_SCORE, f"# release 0.2\n{REMOVED}\n")
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"breaking (acknowledged) {REMOVED}" in result.stdout


def test_additions_and_dangerous_changes_do_not_fail(tmp_path: Path):
    added = BASELINE.replace(
        "legacyNote: String", "legacyNote: String\n  tags(first: Int = 5): [String]"
    )
    result = _check(tmp_path, BASELINE, added)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "breaking (" not in result.stdout


def test_a_new_required_argument_is_breaking(tmp_path: Path):
    narrowed = BASELINE.replace("service(id: ID!)", "service(id: ID!, region: String!)")
    result = _check(tmp_path, BASELINE, narrowed)
    assert result.returncode == 1
    assert (
        "REQUIRED_ARG_ADDED: A required argument Query.service(region:) was added." in result.stdout
    )
