"""A small GraphQL-over-WebSocket client (both sub-protocols) and a live test server."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import uvicorn
from fastapi import FastAPI
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

TRANSPORT_WS = "graphql-transport-ws"
LEGACY_WS = "graphql-ws"
PROTOCOLS = (TRANSPORT_WS, LEGACY_WS)

GOVERNANCE_EVENTS = """
subscription Events($types: [GovernanceEventType!], $serviceId: ID, $since: ID) {
  governanceEvents(types: $types, serviceId: $serviceId, since: $since) {
    id type occurredAt serviceId actor payload
  }
}
"""


class Closed(Exception):
    def __init__(self, code: int | None, reason: str) -> None:
        super().__init__(f"closed {code}: {reason}")
        self.code = code
        self.reason = reason


class GraphQLWebSocket:
    """One connection speaking ``graphql-transport-ws`` or the legacy ``graphql-ws``."""

    def __init__(self, ws: ClientConnection, protocol: str) -> None:
        self.ws = ws
        self.protocol = protocol
        self.control: list[dict[str, Any]] = []

    async def send(self, message: dict[str, Any]) -> None:
        await self.ws.send(json.dumps(message))

    async def receive(self, within: float = 5.0) -> dict[str, Any]:
        """The next operation message; answers pings and keeps keep-alives aside."""
        while True:
            try:
                raw = await asyncio.wait_for(self.ws.recv(), within)
            except ConnectionClosed as exc:
                rcvd = exc.rcvd
                raise Closed(rcvd.code if rcvd else None, rcvd.reason if rcvd else "") from None
            message: dict[str, Any] = json.loads(raw)
            if message["type"] == "ping":
                self.control.append(message)
                await self.send({"type": "pong"})
            elif message["type"] in {"ka", "pong"}:
                self.control.append(message)
            else:
                return message

    async def init(self, payload: dict[str, Any] | None) -> dict[str, Any]:
        message: dict[str, Any] = {"type": "connection_init"}
        if payload is not None:
            message["payload"] = payload
        await self.send(message)
        return await self.receive()

    async def subscribe(self, op_id: str, query: str, variables: dict[str, Any]) -> None:
        kind = "subscribe" if self.protocol == TRANSPORT_WS else "start"
        await self.send(
            {"id": op_id, "type": kind, "payload": {"query": query, "variables": variables}}
        )

    async def stop(self, op_id: str) -> None:
        kind = "complete" if self.protocol == TRANSPORT_WS else "stop"
        await self.send({"id": op_id, "type": kind})

    async def next_result(self, op_id: str, within: float = 5.0) -> dict[str, Any]:
        """The next result payload (``data``/``errors``) or terminal message of ``op_id``."""
        message = await self.receive(within)
        assert message.get("id") == op_id, message
        return message

    async def next_event(self, op_id: str, within: float = 5.0) -> dict[str, Any]:
        message = await self.next_result(op_id, within)
        assert message["type"] in {"next", "data"}, message
        payload: dict[str, Any] = message["payload"]
        assert "errors" not in payload, payload
        event: dict[str, Any] = payload["data"]["governanceEvents"]
        return event


@asynccontextmanager
async def ws_connect(url: str, protocol: str) -> AsyncIterator[GraphQLWebSocket]:
    async with connect(url, subprotocols=[protocol], open_timeout=10) as ws:  # type: ignore[list-item]
        assert ws.subprotocol == protocol
        yield GraphQLWebSocket(ws, protocol)


def bearer_payload(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@asynccontextmanager
async def serve(app: FastAPI) -> AsyncIterator[str]:
    """Run ``app`` with uvicorn on a free port inside this event loop; yields its base URL."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.02)
        yield f"127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
