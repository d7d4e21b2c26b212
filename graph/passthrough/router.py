"""``ANY /v1/services/{service_slug}/{path}``: authenticate, limit, forward, stream, meter.

Order of checks: body size → API key → service and subscription → rate limit → quota and
budget reservation → circuit breaker → forward. The answer streams back chunk by chunk as
the upstream sends it; its rate-limit headers go out before the first byte. Whatever way the
call ends (complete, upstream error, client gone), exactly one usage event is recorded.
"""

from __future__ import annotations

import json
import math
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import anyio
import httpx
from fastapi import APIRouter, Request
from starlette.responses import Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from graph.passthrough import forwarding
from graph.passthrough.access import Access
from graph.passthrough.accounting import TokenCount, UsageMeter, estimate_tokens
from graph.passthrough.problems import Problem, problem_response
from graph.passthrough.state import PassthroughState
from graph.telemetry.metrics import (
    QUOTA_REFUSED,
    RATE_LIMITED,
    RELAYED,
    UNKNOWN_SERVICE,
    record_passthrough_call,
)
from persistence.models import ServiceStatus
from resolvers.keys import hash_key, looks_like_key
from resolvers.metering.events import UsageEvent
from resolvers.metering.quota import QuotaExceeded, Reservation, reserve
from resolvers.metering.ratelimit import RateLimiterUnavailable

router = APIRouter(tags=["passthrough"])
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]


class _BodyTooLarge(Exception):
    pass


class MeteredStreamingResponse(StreamingResponse):
    """A streaming response that runs ``on_close`` however the stream ends."""

    def __init__(self, *args: object, on_close: Callable[[], Awaitable[None]], **kw: object):
        super().__init__(*args, **kw)  # type: ignore[arg-type]
        self._on_close = on_close

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            with anyio.CancelScope(shield=True):
                await self._on_close()


def _presented_key(request: Request) -> str | None:
    authorization = request.headers.get("authorization", "")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return request.headers.get("x-api-key") or None


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise _BodyTooLarge
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise _BodyTooLarge
    return bytes(body)


def _ms(since: float) -> int:
    return int((time.perf_counter() - since) * 1000)


def _refuse(
    problem: Problem, detail: str, *, service: str = UNKNOWN_SERVICE, **answer: Any
) -> Response:
    """A call refused before it was admitted: counted in the metrics, not metered as usage."""
    record_passthrough_call(service=service, status=problem.status, code=problem.name)
    return problem_response(problem, detail, **answer)


@router.api_route("/v1/services/{service_slug}/{path:path}", methods=METHODS)
async def passthrough(request: Request, service_slug: str, path: str) -> Response:
    state: PassthroughState = request.app.state.passthrough
    settings = state.settings
    started = time.perf_counter()
    # The request id is the usage record's id, so the gateway always mints it: a client
    # repeating its own X-Request-ID must not make two calls count as one.
    request_id = str(uuid.uuid4())
    request.state.request_id = request_id

    try:
        body = await _read_body(request, settings.max_request_body_bytes)
    except _BodyTooLarge:
        return _refuse(
            Problem.PAYLOAD_TOO_LARGE,
            f"The request body exceeds {settings.max_request_body_bytes} bytes.",
        )

    secret = _presented_key(request)
    access = None
    if secret is not None and looks_like_key(secret):
        access = await state.access.resolve(hash_key(secret, settings.api_key_pepper), service_slug)
    now = datetime.now(UTC)
    if (
        access is None
        or access.key_revoked
        or (access.key_expires_at is not None and access.key_expires_at <= now)
    ):
        return _refuse(Problem.INVALID_API_KEY, "Missing, unknown, revoked or expired API key.")
    if access.service_id is None or access.endpoint_url is None:
        return _refuse(Problem.SERVICE_NOT_FOUND, f"No service {service_slug!r}.")
    # From here the slug names a listed service, a bounded label.
    if access.subscription_id is None:
        return _refuse(
            Problem.NOT_SUBSCRIBED,
            f"No active subscription to {service_slug!r}.",
            service=service_slug,
        )
    if access.service_status is not ServiceStatus.ACTIVE:
        return _refuse(
            Problem.SERVICE_SUSPENDED,
            f"Service {service_slug!r} is not active.",
            service=service_slug,
        )

    try:
        decision = await state.limiter.check(
            f"{access.api_key_id}:{access.service_id}", access.rate_per_second, access.burst
        )
    except RateLimiterUnavailable:
        return _refuse(
            Problem.RATE_LIMITER_UNAVAILABLE,
            "The rate limiter is unavailable; try again.",
            service=service_slug,
        )
    limit_headers = decision.headers()
    if not decision.allowed:
        RATE_LIMITED.labels(service=service_slug).inc()
        return _refuse(
            Problem.RATE_LIMITED,
            f"More than {access.rate_per_second} requests/second (burst {access.burst}).",
            service=service_slug,
            headers=limit_headers,
        )

    content_type = request.headers.get("content-type", "")
    document = forwarding.json_document(body, content_type)
    if document is not None:
        rewritten = forwarding.with_stream_usage(document, path)
        if rewritten is not None:
            body = json.dumps(rewritten).encode()
    estimate_in = estimate_tokens(len(body))
    estimate_out = forwarding.max_tokens_of(document)

    reservation: Reservation | None = None
    if not access.limits.unlimited:
        try:
            reservation = await reserve(
                state.runtime.engine,
                subscription_id=access.subscription_id,
                limits=access.limits,
                tokens=estimate_in + estimate_out,
                cost=access.price.cost(estimate_in, estimate_out),
                now=now,
            )
        except QuotaExceeded as exc:
            # Request/token quota and budget alike; the calls counter's code tells them apart.
            QUOTA_REFUSED.labels(service=service_slug).inc()
            retry_after = max(1, math.ceil((exc.reset_at - now).total_seconds()))
            return _refuse(
                Problem[exc.code],
                f"The monthly limit is reached; it resets at {exc.reset_at.isoformat()}.",
                service=service_slug,
                headers={**limit_headers, "Retry-After": str(retry_after)},
                resetAt=exc.reset_at.isoformat(),
            )

    await state.writer.wait_for_room()
    call = _Call(state, access, service_slug, request_id, now, started, len(body), reservation)

    url = forwarding.upstream_url(access.endpoint_url, path, request.url.query)
    origin = forwarding.origin_of(url)
    if forwarding.is_private_host(url) and not settings.allow_private_upstreams:
        return call.fail(Problem.UPSTREAM_UNAVAILABLE, "The upstream address is not allowed.")
    if not state.breakers.allow(origin):
        return call.fail(
            Problem.UPSTREAM_UNAVAILABLE, "The upstream is failing; its circuit is open."
        )
    upstream_request = state.client.build_request(
        request.method,
        url,
        headers=forwarding.upstream_headers(
            request.headers, request_id=request_id, upstream_auth=access.upstream_auth_header
        ),
        content=body,
    )
    call.sent = time.perf_counter()
    try:
        upstream = await state.client.send(upstream_request, stream=True)
    except httpx.TimeoutException:
        state.breakers.failure(origin)
        return call.fail(Problem.UPSTREAM_TIMEOUT, "The upstream did not answer in time.")
    except httpx.HTTPError as exc:
        state.breakers.failure(origin)
        return call.fail(
            Problem.UPSTREAM_UNAVAILABLE,
            f"The upstream could not be reached ({type(exc).__name__}).",
        )
    if upstream.status_code >= 500:
        state.breakers.failure(origin)
    else:
        state.breakers.success(origin)

    meter = UsageMeter(upstream.headers.get("content-type", ""))
    outcome = {"complete": False}

    async def relay_body() -> AsyncIterator[bytes]:
        async for chunk in upstream.aiter_raw():
            if call.ttfb_ms is None:
                call.ttfb_ms = _ms(started)
            meter.feed(chunk)
            yield chunk
        outcome["complete"] = True

    async def finish() -> None:
        if upstream.status_code >= 400 and not outcome["complete"]:
            tokens = TokenCount(0, 0, estimated=False)
        else:
            tokens = meter.result(call.bytes_in, complete=outcome["complete"])
            if upstream.status_code >= 400 and tokens.estimated:
                tokens = TokenCount(0, 0, estimated=False)
        call.record(upstream.status_code, tokens, bytes_out=meter.bytes)
        await upstream.aclose()

    return MeteredStreamingResponse(
        relay_body(),
        status_code=upstream.status_code,
        headers={**forwarding.response_headers(upstream), **limit_headers},
        on_close=finish,
    )


class _Call:
    """One admitted call: everything its usage event needs, recorded exactly once."""

    def __init__(
        self,
        state: PassthroughState,
        access: Access,
        service_slug: str,
        request_id: str,
        at: datetime,
        started: float,
        bytes_in: int,
        reservation: Reservation | None,
    ) -> None:
        self.state = state
        self.access = access
        self.service_slug = service_slug
        self.request_id = request_id
        self.at = at
        self.started = started
        self.bytes_in = bytes_in
        self.reservation = reservation
        self.ttfb_ms: int | None = None
        # When the request went to the upstream (None: it never did).
        self.sent: float | None = None
        self._recorded = False

    def fail(self, problem: Problem, detail: str) -> Response:
        """The gateway answers for a failed upstream: recorded (uncharged), then the problem."""
        self.record(problem.status, None, code=problem.name)
        return problem_response(problem, detail)

    def record(
        self, status: int, tokens: TokenCount | None, *, bytes_out: int = 0, code: str = RELAYED
    ) -> None:
        if self._recorded:
            return
        self._recorded = True
        tokens = tokens or TokenCount(0, 0, estimated=False)
        access = self.access
        # Failed calls are recorded (they count as errors) but not charged.
        cost = (
            access.price.cost(tokens.input_tokens, tokens.output_tokens)
            if status < 400
            else Decimal(0)
        )
        assert access.service_id is not None
        record_passthrough_call(
            service=self.service_slug,
            status=status,
            code=code,
            # Until the last byte (or the failure): the whole answer, streams included.
            upstream_seconds=None if self.sent is None else time.perf_counter() - self.sent,
            input_tokens=tokens.input_tokens,
            output_tokens=tokens.output_tokens,
            cost=cost,
            currency=access.price.currency,
        )
        self.state.writer.submit(
            UsageEvent(
                id=self.request_id,
                occurred_at=self.at,
                consumer_id=access.consumer_id,
                service_id=access.service_id,
                api_key_id=access.api_key_id,
                status_code=status,
                input_tokens=tokens.input_tokens,
                output_tokens=tokens.output_tokens,
                cost=cost,
                latency_ms=_ms(self.started),
                ttfb_ms=self.ttfb_ms,
                bytes_in=self.bytes_in,
                bytes_out=bytes_out,
                estimated=tokens.estimated,
                reservation=self.reservation,
            )
        )
