"""Token counts from what the upstream sent: a JSON body's ``usage`` or a stream's usage events.

OpenAI style: ``usage.prompt_tokens`` / ``usage.completion_tokens`` (streams: the final chunk
when ``stream_options.include_usage`` is set). Anthropic style: ``usage.input_tokens`` /
``usage.output_tokens`` (streams: ``message_start`` carries the input, ``message_delta`` the
output). When no usage arrives, the counts are estimated (≈ 4 bytes per token) and flagged.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

MAX_JSON_BYTES = 8 * 1024 * 1024  # larger bodies are streamed through but not parsed
BYTES_PER_TOKEN = 4


@dataclass(frozen=True)
class TokenCount:
    input_tokens: int
    output_tokens: int
    estimated: bool


def estimate_tokens(size_bytes: int) -> int:
    return math.ceil(size_bytes / BYTES_PER_TOKEN)


class UsageMeter:
    """Fed every response chunk as it passes; never holds up the stream."""

    def __init__(self, content_type: str) -> None:
        self._sse = content_type.startswith("text/event-stream")
        self._json = "json" in content_type
        self._buffer = bytearray()
        self._input: int | None = None
        self._output: int | None = None
        self.bytes = 0

    def feed(self, chunk: bytes) -> None:
        self.bytes += len(chunk)
        if self._sse:
            self._buffer += chunk
            *lines, rest = self._buffer.split(b"\n")
            self._buffer = bytearray(rest)
            for line in lines:
                self._sse_line(bytes(line).strip())
        elif self._json and len(self._buffer) + len(chunk) <= MAX_JSON_BYTES:
            self._buffer += chunk

    def _sse_line(self, line: bytes) -> None:
        if not line.startswith(b"data:"):
            return
        data = line[5:].strip()
        if not data.startswith(b"{") or b"usage" not in data:
            return
        try:
            self._take(json.loads(data))
        except ValueError:
            pass

    def _take(self, document: Any) -> None:
        if not isinstance(document, dict):
            return
        usage = document.get("usage")
        message = document.get("message")
        if not isinstance(usage, dict) and isinstance(message, dict):
            usage = message.get("usage")  # Anthropic message_start
        if not isinstance(usage, dict):
            return
        for name in ("prompt_tokens", "input_tokens"):
            if isinstance(usage.get(name), int):
                self._input = max(self._input or 0, usage[name])
        for name in ("completion_tokens", "output_tokens"):
            if isinstance(usage.get(name), int):
                self._output = max(self._output or 0, usage[name])

    def result(self, request_bytes: int, *, complete: bool) -> TokenCount:
        if self._json and not self._sse and self._buffer:
            try:
                self._take(json.loads(self._buffer))
            except ValueError:
                pass
        if self._sse and self._buffer:
            self._sse_line(bytes(self._buffer).strip())
        if complete and self._input is not None and self._output is not None:
            return TokenCount(self._input, self._output, estimated=False)
        return TokenCount(
            self._input if self._input is not None else estimate_tokens(request_bytes),
            self._output if self._output is not None else estimate_tokens(self.bytes),
            estimated=True,
        )
