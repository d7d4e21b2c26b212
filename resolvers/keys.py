"""API keys: generation, keyed hashing, creation, revocation and rotation.

A key is ``mk_`` + 32 random bytes (base64url). Only HMAC-SHA256(pepper, key) is stored: the
key is high-entropy, so a fast keyed hash is as strong as a slow password hash against
guessing, and it is checked on every passthrough call, where bcrypt/argon2 would cost
milliseconds of CPU each time. The pepper keeps a stolen table useless without the server
secret (docs/usage.md).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from persistence.models import ApiKey
from persistence.models.base import utcnow

KEY_PREFIX = "mk_"
SECRET_BYTES = 32
DISPLAY_PREFIX_LENGTH = 10  # "mk_" + 7 characters: enough to tell keys apart in a list


def generate_secret() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(SECRET_BYTES)


def hash_key(secret: str, pepper: str) -> str:
    return hmac.new(pepper.encode(), secret.encode(), hashlib.sha256).hexdigest()


def looks_like_key(secret: str) -> bool:
    return secret.startswith(KEY_PREFIX) and 20 <= len(secret) <= 128


@dataclass(frozen=True)
class IssuedKey:
    row: ApiKey
    secret: str  # shown once, never stored


async def create_key(
    session: AsyncSession,
    *,
    consumer_id: str,
    name: str,
    expires_at: datetime | None,
    pepper: str,
) -> IssuedKey:
    secret = generate_secret()
    row = ApiKey(
        consumer_id=consumer_id,
        name=name,
        prefix=secret[:DISPLAY_PREFIX_LENGTH],
        key_hash=hash_key(secret, pepper),
        expires_at=expires_at,
    )
    session.add(row)
    await session.flush()
    return IssuedKey(row, secret)


async def key_of_consumer(session: AsyncSession, key_id: str, consumer_id: str) -> ApiKey | None:
    return await session.scalar(
        select(ApiKey).where(ApiKey.id == key_id, ApiKey.consumer_id == consumer_id)
    )


async def key_by_id(session: AsyncSession, key_id: str) -> ApiKey | None:
    """Any consumer's key: for admins only (callers check)."""
    return await session.get(ApiKey, key_id)


def revoke(row: ApiKey) -> None:
    if row.revoked_at is None:
        row.revoked_at = utcnow()
