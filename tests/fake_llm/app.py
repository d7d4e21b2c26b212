"""The fake upstream. Token counts are deterministic so tests can check what was billed.

* ``POST /v1/chat/completions`` (OpenAI): prompt_tokens = words in the messages,
  completion_tokens = ``max_tokens`` (default 7); ``stream: true`` answers SSE, with a final
  usage chunk only when ``stream_options.include_usage`` is set.
* ``POST /v1/messages`` (Anthropic): same counts as input_tokens / output_tokens; streams
  carry them in ``message_start`` and ``message_delta``.
* ``POST /v1/no-usage/stream``: an SSE stream that never reports usage.
* ``GET /status/{code}``, ``GET /slow?seconds=``, ``GET /echo`` (the headers it received).
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

DEFAULT_COMPLETION = 7


def _counts(body: dict[str, Any]) -> tuple[int, int]:
    words = sum(len(str(m.get("content", "")).split()) for m in body.get("messages", []))
    return max(words, 1), int(body.get("max_tokens") or DEFAULT_COMPLETION)


def _sse(document: dict[str, Any] | str, event: str | None = None) -> bytes:
    data = document if isinstance(document, str) else json.dumps(document)
    prefix = f"event: {event}\n" if event else ""
    return f"{prefix}data: {data}\n\n".encode()


async def _paced(parts: list[bytes], delay: float) -> AsyncIterator[bytes]:
    for part in parts:
        if delay:
            await asyncio.sleep(delay)
        yield part


async def chat_completions(request: Request) -> Response:
    body = await request.json()
    prompt, completion = _counts(body)
    usage = {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }
    delay = float(request.query_params.get("delay", "0"))
    if not body.get("stream"):
        return JSONResponse(
            {
                "id": "chatcmpl-fake",
                "object": "chat.completion",
                "choices": [
                    {"index": 0, "message": {"role": "assistant", "content": "tok " * completion}}
                ],
                "usage": usage,
            },
            headers={"x-upstream-saw-auth": request.headers.get("authorization", "")},
        )
    parts = [
        _sse({"choices": [{"index": 0, "delta": {"content": "tok "}}]}) for _ in range(completion)
    ]
    if (body.get("stream_options") or {}).get("include_usage"):
        parts.append(_sse({"choices": [], "usage": usage}))
    parts.append(_sse("[DONE]"))
    return StreamingResponse(_paced(parts, delay), media_type="text/event-stream")


async def messages(request: Request) -> Response:
    body = await request.json()
    prompt, completion = _counts(body)
    if not body.get("stream"):
        return JSONResponse(
            {
                "type": "message",
                "content": [{"type": "text", "text": "tok " * completion}],
                "usage": {"input_tokens": prompt, "output_tokens": completion},
            }
        )
    parts = [
        _sse(
            {
                "type": "message_start",
                "message": {"usage": {"input_tokens": prompt, "output_tokens": 1}},
            },
            "message_start",
        ),
        *(
            _sse({"type": "content_block_delta", "delta": {"text": "tok "}}, "content_block_delta")
            for _ in range(completion)
        ),
        _sse({"type": "message_delta", "usage": {"output_tokens": completion}}, "message_delta"),
        _sse({"type": "message_stop"}, "message_stop"),
    ]
    return StreamingResponse(_paced(parts, 0), media_type="text/event-stream")


async def no_usage_stream(request: Request) -> Response:
    count = int(request.query_params.get("chunks", "5"))
    delay = float(request.query_params.get("delay", "0"))
    parts = [_sse({"choices": [{"delta": {"content": "abcd"}}]}) for _ in range(count)]
    return StreamingResponse(_paced(parts, delay), media_type="text/event-stream")


async def status(request: Request) -> Response:
    return JSONResponse(
        {"status": int(request.path_params["code"])}, int(request.path_params["code"])
    )


async def slow(request: Request) -> Response:
    await asyncio.sleep(float(request.query_params.get("seconds", "2")))
    return JSONResponse({"slow": True})


async def echo(request: Request) -> Response:
    return JSONResponse({"headers": dict(request.headers), "query": str(request.url.query)})


def create_app() -> Starlette:
    return Starlette(
        routes=[
            Route("/v1/chat/completions", chat_completions, methods=["POST"]),
            Route("/v1/messages", messages, methods=["POST"]),
            Route("/v1/no-usage/stream", no_usage_stream, methods=["POST"]),
            Route("/status/{code:int}", status),
            Route("/slow", slow),
            Route("/echo", echo, methods=["GET", "POST"]),
        ]
    )


if __name__ == "__main__":  # python -m tests.fake_llm.app PORT (benchmarks)
    import uvicorn

    uvicorn.run(create_app(), host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
