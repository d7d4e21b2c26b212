"""A closed-loop HTTP/1.1 load generator that spends as little CPU per request as it can.

``harness.drive`` sends through httpx, which costs ≈ 1 to 1.3 ms of CPU per request on the
benchmark machine: on a 2-core machine shared with the servers under test, that is CPU taken
from them in proportion to their throughput, so the faster front door is held back more. This
client writes one pre-encoded request per keep-alive connection and reads the answer with
asyncio streams (a status line, the headers, a ``Content-Length`` or chunked body), which is
all a JSON POST needs; httpx's generality (redirects, cookies, HTTP/2, pools) is not. Every
answer is still decoded and checked: a non-200 status or a top-level ``errors`` counts as an
error.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from bench.harness import LoadResult


def _request_bytes(url: str, body: dict[str, Any], headers: dict[str, str] | None) -> bytes:
    parts = urlsplit(url)
    payload = json.dumps(body).encode()
    lines = [
        f"POST {parts.path or '/'} HTTP/1.1",
        f"Host: {parts.netloc}",
        "Content-Type: application/json",
        "Accept: application/json",
        f"Content-Length: {len(payload)}",
        *(f"{name}: {value}" for name, value in (headers or {}).items()),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + payload


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    """(status, body, whether the server keeps the connection open)."""
    head = await reader.readuntil(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    status = int(status_line.split(" ", 2)[1])
    fields: dict[str, str] = {}
    for line in header_lines:
        if line:
            name, _, value = line.partition(":")
            fields[name.strip().lower()] = value.strip()
    if "content-length" in fields:
        body = await reader.readexactly(int(fields["content-length"]))
    elif fields.get("transfer-encoding", "").lower() == "chunked":
        chunks = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            chunk = await reader.readexactly(size + 2)  # the chunk and its CRLF
            if size == 0:
                break
            chunks.append(chunk[:-2])
        body = b"".join(chunks)
    else:
        raise ValueError("response without Content-Length or chunked encoding")
    keep_alive = fields.get("connection", "").lower() != "close"
    return status, body, keep_alive


def _failed(status: int, body: bytes) -> bool:
    if status != 200:
        return True
    return "errors" in json.loads(body)


async def drive_lean(
    url: str,
    body: dict[str, Any],
    *,
    concurrency: int,
    seconds: float,
    warmup: float = 1.0,
    headers: dict[str, str] | None = None,
    on_window: Callable[[], None] | None = None,
) -> LoadResult:
    """Closed-loop load like ``harness.drive``: ``concurrency`` connections, each sending the
    next request when the previous one answered, recorded for ``seconds`` after ``warmup``.

    ``on_window`` is called when the recorded window opens and when it closes, so a caller can
    account what the servers spent over exactly the requests counted."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    request = _request_bytes(url, body, headers)
    latencies: list[float] = []
    errors = 0

    async def worker(turn: asyncio.Event, next_turn: asyncio.Event) -> None:
        nonlocal errors
        await turn.wait()
        reader, writer = await asyncio.open_connection(host, port)
        try:
            while (started := time.perf_counter()) < until:
                writer.write(request)
                status, answer, keep_alive = await _read_response(reader)
                next_turn.set()
                elapsed = (time.perf_counter() - started) * 1000
                if started >= warm_until:
                    errors += _failed(status, answer)
                    latencies.append(elapsed)
                if not keep_alive:
                    writer.close()
                    reader, writer = await asyncio.open_connection(host, port)
        finally:
            writer.close()

    # Connections open one after another, each once the previous one has had its first answer
    # (within the warm-up), as clients arrive over time. Opened in one burst, they were all
    # accepted by whichever `serve --workers` process woke first: in three rounds of five, one
    # worker served all eight connections and the other sat idle.
    turns = [asyncio.Event() for _ in range(concurrency + 1)]
    turns[0].set()
    warm_until = time.perf_counter() + warmup
    until = warm_until + seconds
    if on_window is not None:
        loop = asyncio.get_running_loop()
        loop.call_later(warmup, on_window)
        loop.call_later(warmup + seconds, on_window)
    await asyncio.gather(*(worker(turns[i], turns[i + 1]) for i in range(concurrency)))
    return LoadResult.of(latencies, errors, seconds)
