"""JSON-safe values and RFC 8785 canonical JSON, for what governance stores and hashes.

Audit diffs and event payloads are stored in JSON columns and hashed; both need the same
plain-JSON form on every backend: Decimal as its string (exact), datetimes as ISO 8601 UTC,
enums as their value.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

import rfc8785


def json_safe(value: Any) -> Any:
    """``value`` with every leaf turned into a JSON-native type (recursively)."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, Enum):
        return json_safe(value.value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, float):
        return value
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat() if value.tzinfo else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, set | frozenset):
        return sorted(json_safe(v) for v in value)
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    return str(value)


def canonical_json(value: Any) -> bytes:
    """RFC 8785 (JSON Canonicalization Scheme) bytes of ``value``."""
    return rfc8785.dumps(json_safe(value))
