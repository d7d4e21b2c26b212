"""Who is writing, and the request it belongs to: what every governed write needs."""

from __future__ import annotations

from dataclasses import dataclass

from graph.auth import Principal
from graph.settings import Settings


@dataclass(frozen=True)
class WriteContext:
    principal: Principal
    settings: Settings
    request_id: str | None

    @property
    def actor(self) -> str:
        return self.principal.subject
