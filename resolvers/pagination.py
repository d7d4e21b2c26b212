"""Opaque keyset cursors for Relay connections, and validation of ``first``/``after``."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

from graph.errors import bad_input

MAX_PAGE_SIZE = 100


# One encoder for every cursor: ``json.dumps`` with options builds a new encoder per call,
# and a page of nested connections encodes dozens of cursors.
_CURSOR_JSON = json.JSONEncoder(separators=(",", ":"), default=str)


def encode_cursor(key: list[Any]) -> str:
    raw = _CURSOR_JSON.encode(key).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        key = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise bad_input("Invalid cursor.", field="after") from None
    if not isinstance(key, list) or not key:
        raise bad_input("Invalid cursor.", field="after")
    return key


@dataclass(frozen=True)
class PageArgs:
    first: int
    after: tuple[Any, ...] | None


def page_args(first: int | None, after: str | None, *, default: int = 20) -> PageArgs:
    size = default if first is None else first
    if size < 0 or size > MAX_PAGE_SIZE:
        raise bad_input(f"`first` must be between 0 and {MAX_PAGE_SIZE}.", field="first")
    return PageArgs(first=size, after=tuple(decode_cursor(after)) if after else None)
