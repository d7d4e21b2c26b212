"""The nested catalog query, DataLoaders on vs the naive one-query-per-parent baseline.

Both gateways run on the same seeded SQLite data in the same run; rounds alternate A/B so
machine drift affects both, and the ratio is what to quote.
"""

from __future__ import annotations

import asyncio
from typing import Any

from bench.harness import as_dict, drive, gateway, machine, save, seeded_env

QUERY = """
query($n: Int) {
  services(first: $n) { edges { node {
    provider { name services(first: 3) { edges { node { name versions { version } } } } }
    versions { version }
  } } }
}
"""
ROUNDS = 2
SECONDS = 8.0
CONCURRENCY = 8


def main() -> dict[str, Any]:
    body = {"query": QUERY, "variables": {"n": 20}}
    runs: dict[str, list[dict[str, Any]]] = {"loaders": [], "naive": []}
    with seeded_env() as env:
        for _ in range(ROUNDS):
            for label, batching in (("loaders", "true"), ("naive", "false")):
                with gateway({**env, "MARKETPLACE_DATALOADER_BATCHING": batching}) as base:
                    result = asyncio.run(
                        drive(f"{base}/graphql", body, concurrency=CONCURRENCY, seconds=SECONDS)
                    )
                runs[label].append(as_dict(result))
    best = {label: max(results, key=lambda r: r["rps"]) for label, results in runs.items()}
    summary = {
        "scenario": "nested catalog query, services(first: 20) with provider, services, versions",
        "machine": machine(),
        "concurrency": CONCURRENCY,
        "seconds_per_round": SECONDS,
        "runs": runs,
        "best": best,
        "rps_ratio_loaders_over_naive": round(best["loaders"]["rps"] / best["naive"]["rps"], 2),
    }
    save("catalog_loaders", summary)
    return summary


if __name__ == "__main__":
    import json

    print(json.dumps(main(), indent=2))
