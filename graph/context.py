"""The per-request GraphQL context: one DB session, fresh loaders, the caller."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from strawberry.fastapi import BaseContext
from strawberry.types import Info

from graph.auth import Principal, require_principal, require_role
from graph.settings import Settings
from persistence.search.indexes import SearchIndexes
from resolvers.db import RequestDB
from resolvers.loaders import Loaders


@dataclass
class GatewayContext(BaseContext):
    settings: Settings
    db: RequestDB
    loaders: Loaders
    principal: Principal | None
    request_id: str
    extras: dict[str, Any] = field(default_factory=dict)
    # The process's search indexes (``Runtime.search``); None only in contexts without one.
    search: SearchIndexes | None = None

    def __post_init__(self) -> None:
        super().__init__()

    def require_principal(self) -> Principal:
        return require_principal(self.principal)

    def require_role(self, *roles: str) -> Principal:
        return require_role(self.principal, *roles)


GatewayInfo = Info[GatewayContext, Any]
