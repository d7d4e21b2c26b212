"""Governance event latency: mutation sent -> event received, with 1,000 live subscribers.

One gateway process (embedded SQLite, in-process bus), 1,000 graphql-transport-ws
subscribers connected from this process, then suspendService / reinstateService
mutations one after another. Latency is measured from sending the mutation (so it includes
the commit, the relay and the fan-out) to each subscriber's receipt of the event.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect

from bench.harness import RESULTS, gateway, seeded_sqlite_env
from graph.auth import issue_token
from graph.settings import load_settings

SUBSCRIBERS = 1000
EVENTS = 20
QUERY = "subscription { governanceEvents(types: [SERVICE_SUSPENDED, SERVICE_REINSTATED]) { id } }"
MUTATION = """mutation($input: ServiceStatusChangeInput!) {
  %s(input: $input) { service { id } }
}"""


async def _subscriber(url: str, token: str, ready: asyncio.Queue[ClientConnection]) -> None:
    ws = await connect(url, subprotocols=["graphql-transport-ws"], max_queue=None)  # type: ignore[list-item]
    await ws.send(json.dumps({"type": "connection_init", "payload": {"Authorization": token}}))
    assert json.loads(await ws.recv())["type"] == "connection_ack"
    await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": QUERY}}))
    await ready.put(ws)


async def _receive(
    ws: ClientConnection, arrivals: list[list[float]], done: list[asyncio.Event]
) -> None:
    index = 0
    while index < EVENTS:
        message = json.loads(await ws.recv())
        if message["type"] == "next":
            arrivals[index].append(time.perf_counter())
            if len(arrivals[index]) == SUBSCRIBERS:
                done[index].set()
            index += 1
        elif message["type"] == "ping":
            await ws.send(json.dumps({"type": "pong"}))


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
        await asyncio.gather(*(_subscriber(ws_url, token, ready) for _ in range(SUBSCRIBERS)))
        sockets = [ready.get_nowait() for _ in range(SUBSCRIBERS)]
        await asyncio.sleep(1.0)  # every subscription registered
        arrivals: list[list[float]] = [[] for _ in range(EVENTS)]
        done = [asyncio.Event() for _ in range(EVENTS)]
        receivers = [asyncio.create_task(_receive(ws, arrivals, done)) for ws in sockets]
        sent: list[float] = []
        for i in range(EVENTS):
            field = "suspendService" if i % 2 == 0 else "reinstateService"
            variables = {"input": {"serviceId": service_id, "reason": "bench"}}
            sent.append(time.perf_counter())
            response = await http.post(
                "/graphql", json={"query": MUTATION % field, "variables": variables}
            )
            assert "errors" not in response.json(), response.text
            await asyncio.wait_for(done[i].wait(), 30)
        await asyncio.wait_for(asyncio.gather(*receivers), 30)
        for ws in sockets:
            await ws.close()
    latencies = sorted((t - sent[i]) * 1000 for i, times in enumerate(arrivals) for t in times)
    return {
        "subscribers": SUBSCRIBERS,
        "events": EVENTS,
        "deliveries": len(latencies),
        "p50_ms": round(statistics.quantiles(latencies, n=100)[49], 1),
        "p99_ms": round(statistics.quantiles(latencies, n=100)[98], 1),
        "max_ms": round(latencies[-1], 1),
    }


def main() -> dict[str, Any]:
    with seeded_sqlite_env() as env, gateway(env) as base:
        result = asyncio.run(_run(base))
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "subscriptions_latency.json").write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))
