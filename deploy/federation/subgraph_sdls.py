"""Print each subgraph's federation SDL, as its ``_service { sdl }`` answers, for compose.mjs.

Usage: ``python deploy/federation/subgraph_sdls.py [--url NAME=URL ...]`` prints
``{"subgraphs": [{"name", "url", "sdl"}, ...]}``. The URLs default to the ports in
``deploy/supergraph.yaml`` (catalog 4001, search 4002, usage 4003, governance 4004).
"""

from __future__ import annotations

import argparse
import json
import sys

from subgraphs.registry import SUBGRAPHS

DEFAULT_PORTS = {"catalog": 4001, "search": 4002, "usage": 4003, "governance": 4004}


def default_url(name: str) -> str:
    return f"http://localhost:{DEFAULT_PORTS[name]}/graphql"


def subgraph_sdls(urls: dict[str, str] | None = None) -> list[dict[str, str]]:
    urls = urls or {}
    listed = []
    for subgraph in SUBGRAPHS:
        result = subgraph.schema.execute_sync("{ _service { sdl } }")
        if result.errors or result.data is None:
            raise SystemExit(f"{subgraph.name}: _service failed: {result.errors}")
        listed.append(
            {
                "name": subgraph.name,
                "url": urls.get(subgraph.name, default_url(subgraph.name)),
                "sdl": result.data["_service"]["sdl"],
            }
        )
    return listed


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", action="append", default=[], metavar="NAME=URL")
    args = parser.parse_args(argv)
    urls = dict(item.split("=", 1) for item in args.url)
    json.dump({"subgraphs": subgraph_sdls(urls)}, sys.stdout)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
