"""A governance event as it travels on the bus and reaches subscribers."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class GovernanceEventMessage:
    """One committed ``governance_events`` row, plus what authorisation needs.

    ``owner_subject`` is the JWT subject of the owner of the event's service's provider,
    resolved once by the relay so that every replica can filter without a query.
    """

    id: int
    type: str
    occurred_at: datetime
    service_id: str | None
    actor: str
    payload: dict[str, Any] = field(default_factory=dict)
    owner_subject: str | None = None
    # Not transported: what this process derives from the event once and hands to every
    # local subscriber it reaches (the fan-out shares one rendering per audience).
    derived: dict[object, Any] = field(default_factory=dict, compare=False, repr=False)

    def to_json(self) -> bytes:
        return json.dumps(
            {
                "id": self.id,
                "type": self.type,
                "occurredAt": self.occurred_at.isoformat(),
                "serviceId": self.service_id,
                "actor": self.actor,
                "payload": self.payload,
                "ownerSubject": self.owner_subject,
            },
            separators=(",", ":"),
        ).encode()

    @classmethod
    def from_json(cls, data: bytes | str) -> GovernanceEventMessage:
        raw = json.loads(data)
        return cls(
            id=int(raw["id"]),
            type=str(raw["type"]),
            occurred_at=datetime.fromisoformat(raw["occurredAt"]),
            service_id=raw.get("serviceId"),
            actor=str(raw["actor"]),
            payload=dict(raw.get("payload") or {}),
            owner_subject=raw.get("ownerSubject"),
        )
