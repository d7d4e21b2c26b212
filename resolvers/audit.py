"""The append-only, hash-chained audit log.

Each entry's ``hash`` is SHA-256 over the previous entry's hash followed by the RFC 8785
canonical JSON of the entry's own fields (everything but ``id`` and the hashes), so changing,
removing or reordering any committed entry breaks the chain from that entry on. Database
triggers additionally refuse UPDATE and DELETE on the table (see migration 0001).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from persistence.models import AuditEntry
from persistence.models.base import utcnow
from resolvers.canonical import canonical_json, json_safe
from resolvers.write_lock import lock_governance_writes

GENESIS_HASH = "0" * 64
VERIFY_BATCH_SIZE = 1000


def entry_document(entry: AuditEntry) -> dict[str, Any]:
    """The fields of an entry that its hash covers."""
    return {
        "occurred_at": json_safe(entry.occurred_at),
        "actor": entry.actor,
        "action": entry.action,
        "target_type": entry.target_type,
        "target_id": entry.target_id,
        "diff": entry.diff,
        "request_id": entry.request_id,
    }


def chain_hash(prev_hash: str, document: Mapping[str, Any]) -> str:
    return hashlib.sha256(prev_hash.encode("ascii") + canonical_json(document)).hexdigest()


async def append_audit(
    session: AsyncSession,
    *,
    actor: str,
    action: str,
    target_type: str,
    target_id: str,
    diff: dict[str, Any],
    request_id: str | None,
) -> AuditEntry:
    """Append one entry in the caller's transaction (it commits or rolls back with it)."""
    await lock_governance_writes(session)
    head = await session.scalar(select(AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1))
    prev_hash = head or GENESIS_HASH
    entry = AuditEntry(
        occurred_at=utcnow(),
        actor=actor,
        action=action,
        target_type=target_type,
        target_id=target_id,
        diff=json_safe(diff),
        request_id=request_id,
        prev_hash=prev_hash,
    )
    entry.hash = chain_hash(prev_hash, entry_document(entry))
    session.add(entry)
    await session.flush()
    return entry


@dataclass(frozen=True)
class ChainVerification:
    valid: bool
    checked_entries: int
    first_broken_id: int | None


async def verify_chain(session: AsyncSession) -> ChainVerification:
    """Walk the whole chain in id order; report the first entry whose link or hash is wrong."""
    prev_hash = GENESIS_HASH
    checked = 0
    last_id: int | None = None
    while True:
        stmt = select(AuditEntry).order_by(AuditEntry.id).limit(VERIFY_BATCH_SIZE)
        if last_id is not None:
            stmt = stmt.where(AuditEntry.id > last_id)
        batch = (await session.scalars(stmt)).all()
        if not batch:
            return ChainVerification(valid=True, checked_entries=checked, first_broken_id=None)
        for entry in batch:
            checked += 1
            expected = chain_hash(prev_hash, entry_document(entry))
            if entry.prev_hash != prev_hash or entry.hash != expected:
                return ChainVerification(
                    valid=False, checked_entries=checked, first_broken_id=entry.id
                )
            prev_hash = entry.hash
        last_id = batch[-1].id
        # Entries are immutable: drop them from the identity map as we go.
        for entry in batch:
            session.expunge(entry)


def audit_diff(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> dict[str, Any]:
    """``{"before": {...}, "after": {...}}`` limited to the keys whose values differ."""
    before = dict(before or {})
    after = dict(after or {})
    keys = sorted(set(before) | set(after))
    changed = [k for k in keys if json_safe(before.get(k)) != json_safe(after.get(k))]
    return {
        "before": {k: json_safe(before[k]) for k in changed if k in before},
        "after": {k: json_safe(after[k]) for k in changed if k in after},
    }
