"""Governance event latency: mutation sent -> event received, with 1,000 live subscribers.

One gateway process (embedded SQLite, in-process bus), 1,000 graphql-transport-ws
subscribers connected from this process, then suspendService / reinstateService
mutations one after another. Latency is measured from sending the mutation (so it includes
the commit, the relay and the fan-out) to each subscriber's receipt of the event; the
"commit" figures start at the event's ``occurredAt`` instead (stamped in the committing
transaction, so an upper bound of commit -> receipt). One untimed warm-up event goes first:
the first mutation of a fresh process pays one-off costs that are not fan-out latency.

The gateway runs as ``marketplace-gateway serve`` does (without permessage-deflate), with
``MARKETPLACE_GC_TUNING`` on, as a replica serving many subscribers should run
(docs/subscriptions.md, "Known limits"). The benchmark process freezes its own connected
clients out of its garbage collector before the timed events: it is the measuring instrument,
and a collection walking its 1,000 sockets would delay the receipt timestamps, not the events.
``BENCH_DATABASE_URL`` (an empty PostgreSQL database, e.g.
``postgresql+asyncpg://…/bench``) runs it on that database instead of SQLite; it is migrated
and seeded first, and the figures go to ``subscriptions_latency_postgres.json``.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import statistics
import time
from datetime import datetime
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect

from bench.harness import RESULTS, gateway, seeded_env
from graph.auth import issue_token
from graph.settings import load_settings

SUBSCRIBERS = 1000
EVENTS = 20
WARMUP_EVENTS = 1
QUERY = (
    "subscription { governanceEvents(types: [SERVICE_SUSPENDED, SERVICE_REINSTATED]) "
    "{ id occurredAt } }"
)
MUTATION = """mutation($input: ServiceStatusChangeInput!) {
  %s(input: $input) { service { id } }
}"""


async def _subscriber(
    url: str, token: str, ready: asyncio.Queue[ClientConnection], opening: asyncio.Semaphore
) -> None:
    # A bounded number of handshakes at a time: a thousand at once overrun the open timeout
    # on a loaded machine, and connecting is not what is measured.
    async with opening:
        ws = await connect(
            url,
            subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
            max_queue=None,
            open_timeout=60,
        )
        await ws.send(json.dumps({"type": "connection_init", "payload": {"Authorization": token}}))
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": QUERY}}))
    await ready.put(ws)


async def _receive(
    ws: ClientConnection,
    arrivals: list[list[float]],
    committed: list[list[float]],
    done: list[asyncio.Event],
) -> None:
    index = 0
    while index < len(arrivals):
        message = json.loads(await ws.recv())
        if message["type"] == "next":
            arrivals[index].append(time.perf_counter())
            event = message["payload"]["data"]["governanceEvents"]
            occurred = datetime.fromisoformat(event["occurredAt"]).timestamp()
            committed[index].append(time.time() - occurred)
            if len(arrivals[index]) == SUBSCRIBERS:
                done[index].set()
            index += 1
        elif message["type"] == "ping":
            await ws.send(json.dumps({"type": "pong"}))


async def _server_cpu_seconds(http: httpx.AsyncClient) -> float:
    """The gateway's own CPU time (Prometheus process collector): unlike latency, the CPU
    an event costs does not depend on how busy the rest of the machine is."""
    metrics = (await http.get("/metrics")).text
    line = next(x for x in metrics.splitlines() if x.startswith("process_cpu_seconds_total "))
    return float(line.split()[1])


async def _run(base: str) -> dict[str, Any]:
    settings = load_settings()
    token = "Bearer " + issue_token(settings, subject="admin:bench", roles=["admin"])
    headers = {"Authorization": token}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as http:
        found = await http.post(
            "/graphql", json={"query": "{ services(first: 50) { edges { node { id status } } } }"}
        )
        edges = found.json()["data"]["services"]["edges"]
        service_id = next(e["node"]["id"] for e in edges if e["node"]["status"] == "ACTIVE")
        ws_url = base.replace("http://", "ws://") + "/graphql"
        ready: asyncio.Queue[ClientConnection] = asyncio.Queue()
        opening = asyncio.Semaphore(50)
        await asyncio.gather(
            *(_subscriber(ws_url, token, ready, opening) for _ in range(SUBSCRIBERS))
        )
        sockets = [ready.get_nowait() for _ in range(SUBSCRIBERS)]
        await asyncio.sleep(2.0)  # every subscription registered
        # The clients live until the end: keep this process's collector off them (it would
        # otherwise walk ≈ 1,000 connections' objects in the middle of a receipt).
        gc.collect()
        gc.freeze()
        total = WARMUP_EVENTS + EVENTS
        arrivals: list[list[float]] = [[] for _ in range(total)]
        committed: list[list[float]] = [[] for _ in range(total)]
        done = [asyncio.Event() for _ in range(total)]
        receivers = [asyncio.create_task(_receive(ws, arrivals, committed, done)) for ws in sockets]
        sent: list[float] = []
        load_before = os.getloadavg()[0]
        for i in range(total):
            if i == WARMUP_EVENTS:
                server_cpu = await _server_cpu_seconds(http)
                client_cpu = time.process_time()
            field = "suspendService" if i % 2 == 0 else "reinstateService"
            variables = {"input": {"serviceId": service_id, "reason": "bench"}}
            sent.append(time.perf_counter())
            response = await http.post(
                "/graphql", json={"query": MUTATION % field, "variables": variables}
            )
            assert "errors" not in response.json(), response.text
            await asyncio.wait_for(done[i].wait(), 30)
        await asyncio.wait_for(asyncio.gather(*receivers), 30)
        server_cpu = await _server_cpu_seconds(http) - server_cpu
        client_cpu = time.process_time() - client_cpu
        for ws in sockets:
            await ws.close()
        gc.unfreeze()
    timed = range(WARMUP_EVENTS, total)
    latencies = sorted((t - sent[i]) * 1000 for i in timed for t in arrivals[i])
    from_commit = sorted(s * 1000 for i in timed for s in committed[i])
    # first -> last receipt of one event: the time the fan-out of one event takes
    spreads = sorted((max(arrivals[i]) - min(arrivals[i])) * 1000 for i in timed)
    warmup = [(t - sent[i]) * 1000 for i in range(WARMUP_EVENTS) for t in arrivals[i]]
    return {
        "subscribers": SUBSCRIBERS,
        "events": EVENTS,
        "deliveries": len(latencies),
        "p50_ms": _q(latencies, 50),
        "p99_ms": _q(latencies, 99),
        "max_ms": round(latencies[-1], 1),
        "commit_p50_ms": _q(from_commit, 50),
        "commit_p99_ms": _q(from_commit, 99),
        "fanout_spread_p50_ms": _q(spreads, 50),
        # CPU per timed event (1,000 deliveries), the gateway's mutation + relay included
        "server_cpu_ms_per_event": round(server_cpu * 1000 / EVENTS, 1),
        "client_cpu_ms_per_event": round(client_cpu * 1000 / EVENTS, 1),
        "warmup_event_max_ms": round(max(warmup), 1) if warmup else None,
        "load_average_1m": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "cpus": os.cpu_count(),
    }


def _q(values: list[float], percent: int) -> float:
    return round(statistics.quantiles(values, n=100)[percent - 1], 1)


def main() -> dict[str, Any]:
    url = os.environ.get("BENCH_DATABASE_URL")
    # As ``marketplace-gateway serve`` runs uvicorn (see graph/cli.py), with the collector
    # tuning a subscription replica runs with, on either database.
    extra = {"UVICORN_WS_PER_MESSAGE_DEFLATE": "false", "MARKETPLACE_GC_TUNING": "true"}
    with seeded_env(url, **extra) as env, gateway(env) as base:
        result = asyncio.run(_run(base))
    result["database"] = "postgresql" if url else "sqlite"
    result["server_gc_tuning"] = extra["MARKETPLACE_GC_TUNING"] == "true"
    RESULTS.mkdir(parents=True, exist_ok=True)
    name = "subscriptions_latency_postgres.json" if url else "subscriptions_latency.json"
    (RESULTS / name).write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))
