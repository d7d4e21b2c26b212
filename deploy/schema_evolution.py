"""Report breaking changes of ``schema.graphql`` against the released baseline.

Usage::

    python deploy/schema_evolution.py                    # exit 1 on unacknowledged breaks
    python deploy/schema_evolution.py --update-baseline  # on release: schema becomes baseline

A breaking change (graphql-core's ``find_breaking_changes``: a removed field, a narrowed type,
a new required argument...) fails the check unless its line, exactly as this script prints it,
is listed in ``deploy/breaking-changes-ack.txt``. Dangerous changes are printed, never fatal.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from graphql import (
    BreakingChange,
    DangerousChange,
    build_schema,
    find_breaking_changes,
    find_dangerous_changes,
)

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT / "schema.graphql"
BASELINE = ROOT / "deploy" / "schema-baseline.graphql"
ACKNOWLEDGED = ROOT / "deploy" / "breaking-changes-ack.txt"


def _describe(change: BreakingChange | DangerousChange) -> str:
    return f"{change.type.name}: {change.description}"


def breaking_changes(old_sdl: str, new_sdl: str) -> list[str]:
    return [
        _describe(c) for c in find_breaking_changes(build_schema(old_sdl), build_schema(new_sdl))
    ]


def dangerous_changes(old_sdl: str, new_sdl: str) -> list[str]:
    return [
        _describe(c) for c in find_dangerous_changes(build_schema(old_sdl), build_schema(new_sdl))
    ]


def acknowledged(text: str) -> set[str]:
    """Lines of the acknowledgement file, without blank lines and ``#`` comments."""
    lines = (line.strip() for line in text.splitlines())
    return {line for line in lines if line and not line.startswith("#")}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--schema", type=Path, default=SCHEMA)
    parser.add_argument("--baseline", type=Path, default=BASELINE)
    parser.add_argument("--ack", type=Path, default=ACKNOWLEDGED)
    parser.add_argument("--update-baseline", action="store_true")
    args = parser.parse_args(argv)

    if args.update_baseline:
        shutil.copyfile(args.schema, args.baseline)
        print(f"{args.baseline.name} now holds {args.schema.name}")
        return 0

    old, new = args.baseline.read_text(), args.schema.read_text()
    for line in dangerous_changes(old, new):
        print(f"dangerous (allowed) {line}")
    allowed = acknowledged(args.ack.read_text()) if args.ack.exists() else set()
    breaking = breaking_changes(old, new)
    for line in breaking:
        print(f"breaking ({'acknowledged' if line in allowed else 'NOT acknowledged'}) {line}")
    missing = [line for line in breaking if line not in allowed]
    if missing:
        print(
            f"{len(missing)} breaking change(s) not acknowledged: keep the old fields, or add "
            f"the lines above to {args.ack.name}",
            file=sys.stderr,
        )
        return 1
    print(f"no unacknowledged breaking changes ({len(breaking)} acknowledged)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
