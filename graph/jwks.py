"""The identity provider's signing keys (JWKS), fetched over HTTP and cached.

PyJWT's ``PyJWKClient`` fetches with blocking ``urllib`` and refetches on every unknown
``kid`` without a floor, which lets a caller sending random ``kid`` values hammer the identity
provider. This cache fetches with httpx (async), keeps the key set for ``cache_seconds``,
refreshes early when a token names an unknown ``kid`` (key rotation), and refreshes at most
once per ``min_refresh_seconds`` however many unknown ``kid`` values arrive.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import httpx
import jwt


class JWKSUnavailable(Exception):
    """The key set could not be fetched or parsed."""


class JWKSCache:
    def __init__(
        self,
        url: str,
        *,
        cache_seconds: float,
        min_refresh_seconds: float,
        timeout_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url = url
        self.cache_seconds = cache_seconds
        self.min_refresh_seconds = min_refresh_seconds
        self.timeout_seconds = timeout_seconds
        self._clock = clock
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at: float | None = None
        self._lock = asyncio.Lock()
        self.fetch_count = 0

    async def key(self, kid: str) -> jwt.PyJWK | None:
        """The key with this ``kid``, refreshing the set when it is stale or lacks the kid."""
        if self._is_stale():
            await self._refresh(force=True)
        found = self._keys.get(kid)
        if found is None and self._may_refresh():
            await self._refresh(force=False)
            found = self._keys.get(kid)
        return found

    def _is_stale(self) -> bool:
        return self._fetched_at is None or (self._clock() - self._fetched_at >= self.cache_seconds)

    def _may_refresh(self) -> bool:
        return self._fetched_at is None or (
            self._clock() - self._fetched_at >= self.min_refresh_seconds
        )

    async def _refresh(self, *, force: bool) -> None:
        async with self._lock:
            # Another request may have refreshed while this one waited for the lock.
            if not force and not self._may_refresh():
                return
            if force and not self._is_stale():
                return
            self._fetched_at = self._clock()  # also rate-limits retries after a failure
            self.fetch_count += 1
            try:
                async with httpx.AsyncClient(timeout=self.timeout_seconds) as http:
                    response = await http.get(self.url)
                    response.raise_for_status()
                    key_set = jwt.PyJWKSet.from_dict(response.json())
            except (httpx.HTTPError, ValueError, jwt.PyJWTError) as exc:
                if not self._keys:
                    raise JWKSUnavailable(f"cannot load JWKS from {self.url}: {exc}") from exc
                return  # keep serving the last good key set
            self._keys = {k.key_id: k for k in key_set.keys if k.key_id}
