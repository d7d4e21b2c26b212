"""One cross-subgraph query: the embedded composed /graphql vs Apollo Gateway over the four
standalone subgraphs.

Same machine, same seeded SQLite data, same run: both front doors run side by side in one
stack (tests/federation_support.py) and rounds alternate between them, so machine drift
affects both and the ratio is what to quote. Apollo Gateway pays what a router at scale pays:
one HTTP hop per subgraph fetch in the query plan (catalog, then search/governance
`_entities`, then catalog again for the similar services).

Load comes from ``bench.lean_client`` (the same client for both front doors), which takes far
less of the shared CPU per request than httpx. Each round also records the CPU the front door's
processes spent per request (all workers; Node and the four subgraphs on the Apollo side) and
the load generator's own: figures that depend far less than rps on how busy the machine is.
"""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any

from bench.harness import as_dict, machine, save
from bench.lean_client import drive_lean
from bench.process_cpu import cpu_seconds, process_tree
from tests.federation_support import federated_stack

QUERY = """
query($n: Int) {
  services(first: $n) { edges { node {
    slug name provider { name }
    similar(first: 3) { slug name }
    compliance { compliant score }
  } } }
}
"""
ROUNDS = 2
SECONDS = 8.0
CONCURRENCY = 8
# The Apollo side runs five processes (gateway + four subgraphs) that spread over every core;
# the composed gateway gets as many workers as there are cores, so both may use the machine.
COMPOSED_WORKERS = os.cpu_count() or 1


def _per_request_ms(seconds: float, requests: int) -> float | None:
    return round(seconds * 1000 / requests, 2) if requests else None


def _round(url: str, body: dict[str, Any], server_pids: list[int]) -> dict[str, Any]:
    """One timed round against ``url``, with server and client CPU per request, both taken
    over the recorded window only (the warm-up's requests are not counted)."""
    marks: list[tuple[float, float]] = []

    def mark() -> None:
        marks.append((cpu_seconds(server_pids), time.process_time()))

    result = asyncio.run(
        drive_lean(url, body, concurrency=CONCURRENCY, seconds=SECONDS, on_window=mark)
    )
    (server_start, client_start), (server_end, client_end) = marks
    return {
        **as_dict(result),
        "server_cpu_ms_per_request": _per_request_ms(server_end - server_start, result.requests),
        "client_cpu_ms_per_request": _per_request_ms(client_end - client_start, result.requests),
    }


def main() -> dict[str, Any]:
    body = {"query": QUERY, "variables": {"n": 10}}
    runs: dict[str, list[dict[str, Any]]] = {"in_process": [], "apollo_gateway": []}
    with federated_stack(composed_workers=COMPOSED_WORKERS) as stack:
        urls = {"in_process": stack.composed_url, "apollo_gateway": stack.apollo_url}
        pids = {
            "in_process": process_tree([stack.composed_pid]),
            "apollo_gateway": process_tree(stack.apollo_pids),
        }
        for _ in range(ROUNDS):
            for label, url in urls.items():
                runs[label].append(_round(url, body, pids[label]))
    best = {label: max(results, key=lambda r: r["rps"]) for label, results in runs.items()}
    cpu = {
        label: min(
            (r["server_cpu_ms_per_request"] for r in results if r["server_cpu_ms_per_request"]),
            default=None,
        )
        for label, results in runs.items()
    }
    summary = {
        "scenario": "services(first: 10) with provider, similar(first: 3), compliance "
        "(catalog, search, governance)",
        "machine": machine(),
        "concurrency": CONCURRENCY,
        "composed_workers": COMPOSED_WORKERS,
        "seconds_per_round": SECONDS,
        "runs": runs,
        "best": best,
        "load_generator": "bench.lean_client (asyncio streams, HTTP/1.1 keep-alive)",
        "rps_ratio_in_process_over_apollo": round(
            best["in_process"]["rps"] / best["apollo_gateway"]["rps"], 2
        ),
        # Lowest server CPU per request of each side's rounds: Apollo's over the composed one's.
        "server_cpu_ratio_apollo_over_in_process": (
            round(cpu["apollo_gateway"] / cpu["in_process"], 2)
            if cpu["apollo_gateway"] and cpu["in_process"]
            else None
        ),
    }
    save("federation", summary)
    return summary


if __name__ == "__main__":
    import json

    print(json.dumps(main(), indent=2))
