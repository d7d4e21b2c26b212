"""Search reads (foundation): content-based similar services."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import aliased

from persistence.models import Service
from resolvers.catalog import LISTED_STATUSES
from resolvers.db import RequestDB

SimilarKey = tuple[str, int]


def _overlap(a: Sequence[str], b: Sequence[str]) -> int:
    return len(set(a) & set(b))


async def similar_services(db: RequestDB, keys: Sequence[SimilarKey]) -> list[list[str]]:
    """Ids of services like each given one: same category first, then shared tags.

    One statement for all keys: a self-join on category of the listed services.
    """
    ids = {service_id for service_id, _ in keys}
    base = aliased(Service)
    candidate = aliased(Service)
    rows = (
        await db.execute(
            select(base.id, base.tags, candidate.id, candidate.tags, candidate.name)
            .join(candidate, candidate.category == base.category)
            .where(
                base.id.in_(ids),
                candidate.id != base.id,
                candidate.status.in_([s.value for s in LISTED_STATUSES]),
            )
        )
    ).all()
    ranked: dict[str, list[tuple[int, str, str]]] = {}
    for base_id, base_tags, cand_id, cand_tags, cand_name in rows:
        ranked.setdefault(base_id, []).append((-_overlap(base_tags, cand_tags), cand_name, cand_id))
    out: list[list[str]] = []
    for service_id, first in keys:
        candidates = sorted(ranked.get(service_id, []))
        out.append([cand_id for _, _, cand_id in candidates[:first]])
    return out
