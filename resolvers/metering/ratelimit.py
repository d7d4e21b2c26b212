"""GCRA rate limiting per (API key, service): in-process, or shared by all replicas in Redis.

GCRA (the generic cell rate algorithm) keeps one number per key, the theoretical arrival
time (TAT) of the next request, so a check is one atomic read-modify-write: a Lua script in
Redis (one round trip, no drift between replicas) or a dict update in-process.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from typing import Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    limit: int  # the burst: requests admitted at once from a full bucket
    remaining: int
    reset_seconds: float  # until the bucket is full again
    retry_after_seconds: float  # 0 when allowed
    rate_per_second: int

    def headers(self) -> dict[str, str]:
        reset = max(0, math.ceil(self.reset_seconds))
        headers = {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(reset),
            # draft-ietf-httpapi-ratelimit-headers
            "RateLimit": f"limit={self.limit}, remaining={self.remaining}, reset={reset}",
            "RateLimit-Policy": f"{self.limit};w=1;burst={self.limit};rate={self.rate_per_second}",
        }
        if not self.allowed:
            headers["Retry-After"] = str(max(1, math.ceil(self.retry_after_seconds)))
        return headers


def gcra(tat: float, now: float, rate: int, burst: int) -> tuple[RateDecision, float]:
    """One GCRA step: the decision and the new TAT (unchanged when refused)."""
    interval = 1.0 / rate
    capacity = burst * interval
    new_tat = max(tat, now) + interval
    allow_at = new_tat - capacity
    if now < allow_at:
        remaining = 0
        decision = RateDecision(False, burst, remaining, tat - now, allow_at - now, rate)
        return decision, tat
    remaining = int((now - allow_at) / interval + 1e-9)
    return RateDecision(True, burst, remaining, new_tat - now, 0.0, rate), new_tat


class RateLimiter(Protocol):
    async def check(self, key: str, rate: int, burst: int) -> RateDecision: ...

    async def close(self) -> None: ...


class LocalRateLimiter:
    """Per-process limiter: exact for one replica, the embedded default and Redis fallback."""

    def __init__(self, max_keys: int = 100_000) -> None:
        self._tats: dict[str, float] = {}
        self._max_keys = max_keys

    async def check(self, key: str, rate: int, burst: int) -> RateDecision:
        now = time.monotonic()
        decision, tat = gcra(self._tats.get(key, now), now, rate, burst)
        if len(self._tats) >= self._max_keys and key not in self._tats:
            # Forget keys whose bucket is full again: they carry no state worth keeping.
            self._tats = {k: t for k, t in self._tats.items() if t > now}
        self._tats[key] = tat
        return decision

    async def close(self) -> None:
        return None


# KEYS[1]: the TAT key. ARGV: rate, burst. Time comes from Redis so replicas share one clock.
_GCRA_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local interval = 1 / rate
local capacity = burst * interval
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
local new_tat = math.max(tat, now) + interval
local allow_at = new_tat - capacity
if now < allow_at then
  return {0, 0, tostring(tat - now), tostring(allow_at - now)}
end
redis.call('SET', KEYS[1], tostring(new_tat), 'PX', math.ceil((new_tat - now) * 1000) + 1000)
local remaining = math.floor((now - allow_at) / interval + 1e-9)
return {1, remaining, tostring(new_tat - now), '0'}
"""


class RedisRateLimiter:
    """Limiter shared by every replica; falls back per ``fail_open`` when Redis is down."""

    def __init__(self, redis: Redis, *, prefix: str = "mk:rl:", fail_open: bool = True) -> None:
        self._redis = redis
        self._script = redis.register_script(_GCRA_LUA)
        self._prefix = prefix
        self._fail_open = fail_open
        self._fallback = LocalRateLimiter()

    async def check(self, key: str, rate: int, burst: int) -> RateDecision:
        try:
            allowed, remaining, reset, retry = await self._script(
                keys=[self._prefix + key], args=[rate, burst]
            )
        except (RedisError, OSError) as exc:
            log.warning("rate limiter: Redis unavailable (%s)", exc)
            if self._fail_open:
                return await self._fallback.check(key, rate, burst)
            raise RateLimiterUnavailable from exc
        return RateDecision(bool(allowed), burst, int(remaining), float(reset), float(retry), rate)

    async def close(self) -> None:
        await self._redis.aclose()


class RateLimiterUnavailable(Exception):
    """Redis is unreachable and the limiter is configured to fail closed."""


def create_rate_limiter(
    redis_url: str | None, *, fail_open: bool, prefix: str = "mk:rl:"
) -> RateLimiter:
    if not redis_url:
        return LocalRateLimiter()
    redis = Redis.from_url(redis_url, socket_connect_timeout=0.5, socket_timeout=0.5)
    return RedisRateLimiter(redis, prefix=prefix, fail_open=fail_open)
