"""Run benchmark scenarios: ``python -m bench.run [scenario ...]`` (default: all)."""

from __future__ import annotations

import importlib
import json
import pkgutil
import sys

import bench

SKIP = {"harness", "run", "lean_client", "process_cpu"}


def scenarios() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules(bench.__path__) if m.name not in SKIP)


def main(argv: list[str]) -> int:
    for name in argv or scenarios():
        module = importlib.import_module(f"bench.{name}")
        print(f"== {name}", flush=True)
        print(json.dumps(module.main(), indent=2, default=str), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
