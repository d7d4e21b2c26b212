"""Persisted operations: Automatic Persisted Queries and trusted documents.

APQ (Apollo protocol): a client sends ``extensions.persistedQuery.sha256Hash`` alone; an
unknown hash answers ``PersistedQueryNotFound`` (code PERSISTED_QUERY_NOT_FOUND) and the
client retries with hash and query, which is verified and stored; later hash-only requests
run the stored query. The store is Redis when ``MARKETPLACE_REDIS_URL`` is set (shared by all
replicas, entries expire after ``apq_ttl_seconds``), else a bounded in-process LRU; a Redis
outage falls back to the in-process store rather than failing requests.

Trusted documents (``MARKETPLACE_TRUSTED_DOCUMENTS=path``): only operations whose hash is in
the manifest run, whether sent by hash or as text; APQ registration is off. The manifest is
either Apollo's persisted-query manifest (``{"operations": [{"id", "body"}, ...]}``) or a plain
``{"<sha256>": "<document>"}`` object.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import OrderedDict
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

import redis.asyncio as aioredis
from redis.exceptions import RedisError
from strawberry.http import GraphQLRequestData

from graph.errors import ErrorCode

log = logging.getLogger("marketplace.persisted")

REDIS_KEY_PREFIX = "marketplace:apq:"


class PersistedQueryError(Exception):
    """A persisted-operation request that cannot run; answered as a GraphQL error."""

    def __init__(self, message: str, code: ErrorCode) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def sha256_hex(document: str) -> str:
    return hashlib.sha256(document.encode()).hexdigest()


class PersistedQueryStore(Protocol):
    async def get(self, sha256: str) -> str | None: ...

    async def put(self, sha256: str, document: str) -> None: ...


class MemoryPersistedQueryStore:
    """A bounded LRU of documents by hash, for one process."""

    def __init__(self, max_entries: int = 10_000) -> None:
        self.max_entries = max_entries
        self._documents: OrderedDict[str, str] = OrderedDict()

    async def get(self, sha256: str) -> str | None:
        document = self._documents.get(sha256)
        if document is not None:
            self._documents.move_to_end(sha256)
        return document

    async def put(self, sha256: str, document: str) -> None:
        self._documents[sha256] = document
        self._documents.move_to_end(sha256)
        while len(self._documents) > self.max_entries:
            self._documents.popitem(last=False)


class RedisPersistedQueryStore:
    """Documents in Redis under ``prefix + sha256`` with a TTL; memory when Redis fails."""

    def __init__(
        self,
        client: aioredis.Redis,
        *,
        ttl_seconds: int,
        prefix: str = REDIS_KEY_PREFIX,
        fallback: MemoryPersistedQueryStore | None = None,
    ) -> None:
        self.client = client
        self.ttl_seconds = ttl_seconds
        self.prefix = prefix
        self.fallback = fallback or MemoryPersistedQueryStore()

    async def get(self, sha256: str) -> str | None:
        try:
            value = await self.client.get(self.prefix + sha256)
        except RedisError as exc:
            log.warning("APQ store unavailable, using the in-process store: %s", exc)
            return await self.fallback.get(sha256)
        if value is None:
            return await self.fallback.get(sha256)
        return value.decode() if isinstance(value, bytes) else str(value)

    async def put(self, sha256: str, document: str) -> None:
        try:
            await self.client.set(self.prefix + sha256, document, ex=self.ttl_seconds)
        except RedisError as exc:
            log.warning("APQ store unavailable, using the in-process store: %s", exc)
            await self.fallback.put(sha256, document)


@dataclass(frozen=True)
class TrustedDocuments:
    documents: dict[str, str]

    @classmethod
    def load(cls, path: Path) -> TrustedDocuments:
        raw: Any = json.loads(path.read_text())
        if isinstance(raw, dict) and isinstance(raw.get("operations"), list):
            pairs = {str(op["id"]): str(op["body"]) for op in raw["operations"]}
        elif isinstance(raw, dict):
            pairs = {str(k): str(v) for k, v in raw.items()}
        else:
            raise ValueError(f"{path}: expected a JSON object")
        for sha256, body in pairs.items():
            if sha256_hex(body) != sha256:
                raise ValueError(f"{path}: the hash {sha256} does not match its document")
        return cls(pairs)


def _requested_hash(extensions: dict[str, Any] | None) -> str | None:
    persisted = (extensions or {}).get("persistedQuery")
    if not isinstance(persisted, dict):
        return None
    if persisted.get("version", 1) != 1:
        raise PersistedQueryError("Unsupported persisted query version.", ErrorCode.BAD_USER_INPUT)
    sha256 = persisted.get("sha256Hash")
    if not isinstance(sha256, str) or not sha256:
        raise PersistedQueryError("persistedQuery needs a sha256Hash.", ErrorCode.BAD_USER_INPUT)
    return sha256.lower()


async def resolve_document(
    request: GraphQLRequestData,
    store: PersistedQueryStore,
    trusted: TrustedDocuments | None,
) -> GraphQLRequestData:
    """The request with its document filled in from the store or manifest, or an error."""
    sha256 = _requested_hash(request.extensions)
    if trusted is not None:
        key = sha256 or (sha256_hex(request.query) if request.query else None)
        document = trusted.documents.get(key) if key else None
        if document is None:
            raise PersistedQueryError(
                "Only trusted operations may run here.", ErrorCode.PERSISTED_QUERY_NOT_IN_LIST
            )
        return replace(request, query=document)
    if sha256 is None:
        return request
    if request.query is None:
        document = await store.get(sha256)
        if document is None:
            raise PersistedQueryError("PersistedQueryNotFound", ErrorCode.PERSISTED_QUERY_NOT_FOUND)
        return replace(request, query=document)
    if sha256_hex(request.query) != sha256:
        raise PersistedQueryError(
            "provided sha does not match query", ErrorCode.PERSISTED_QUERY_HASH_MISMATCH
        )
    await store.put(sha256, request.query)
    return request
