"""One cross-subgraph query: the embedded composed /graphql vs Apollo Gateway over the four
standalone subgraphs.

Same machine, same seeded SQLite data, same run: both front doors run side by side in one
stack (tests/federation_support.py) and rounds alternate between them, so machine drift
affects both and the ratio is what to quote. Apollo Gateway pays what a router at scale pays:
one HTTP hop per subgraph fetch in the query plan (catalog, then search/governance
`_entities`, then catalog again for the similar services).
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

from bench.harness import as_dict, drive, machine, save
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


def main() -> dict[str, Any]:
    body = {"query": QUERY, "variables": {"n": 10}}
    runs: dict[str, list[dict[str, Any]]] = {"in_process": [], "apollo_gateway": []}
    with federated_stack(composed_workers=COMPOSED_WORKERS) as stack:
        urls = {"in_process": stack.composed_url, "apollo_gateway": stack.apollo_url}
        for _ in range(ROUNDS):
            for label, url in urls.items():
                result = asyncio.run(drive(url, body, concurrency=CONCURRENCY, seconds=SECONDS))
                runs[label].append(as_dict(result))
    best = {label: max(results, key=lambda r: r["rps"]) for label, results in runs.items()}
    summary = {
        "scenario": "services(first: 10) with provider, similar(first: 3), compliance "
        "(catalog, search, governance)",
        "machine": machine(),
        "concurrency": CONCURRENCY,
        "composed_workers": COMPOSED_WORKERS,
        "seconds_per_round": SECONDS,
        "runs": runs,
        "best": best,
        "rps_ratio_in_process_over_apollo": round(
            best["in_process"]["rps"] / best["apollo_gateway"]["rps"], 2
        ),
    }
    save("federation", summary)
    return summary


if __name__ == "__main__":
    import json

    print(json.dumps(main(), indent=2))
