"""RFC 9457 ``application/problem+json`` answers with a stable ``code``."""

from __future__ import annotations

from enum import Enum
from typing import Any

from starlette.responses import JSONResponse


class Problem(Enum):
    # code: (status, title)
    INVALID_API_KEY = (401, "Invalid API key")
    NOT_SUBSCRIBED = (403, "Not subscribed")
    SERVICE_SUSPENDED = (403, "Service not available")
    SERVICE_NOT_FOUND = (404, "Service not found")
    PAYLOAD_TOO_LARGE = (413, "Payload too large")
    RATE_LIMITED = (429, "Rate limit exceeded")
    QUOTA_EXCEEDED = (429, "Monthly quota exceeded")
    BUDGET_EXCEEDED = (429, "Monthly budget exceeded")
    UPSTREAM_UNAVAILABLE = (502, "Upstream unavailable")
    UPSTREAM_TIMEOUT = (504, "Upstream timeout")
    RATE_LIMITER_UNAVAILABLE = (503, "Rate limiter unavailable")

    @property
    def status(self) -> int:
        return self.value[0]

    @property
    def title(self) -> str:
        return self.value[1]


def problem_response(
    problem: Problem,
    detail: str,
    *,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body = {
        "type": f"https://marketplace.example/problems/{problem.name.lower().replace('_', '-')}",
        "title": problem.title,
        "status": problem.status,
        "code": problem.name,
        "detail": detail,
        **extra,
    }
    return JSONResponse(
        body, status_code=problem.status, headers=headers, media_type="application/problem+json"
    )
