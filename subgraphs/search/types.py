"""Search's view of the Service entity: the key plus the fields search contributes."""

from __future__ import annotations

import strawberry

from graph.context import GatewayInfo


@strawberry.federation.type(keys=["id"], description="An LLM service listed in the catalog.")
class Service:
    id: strawberry.ID

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> Service:
        return cls(id=id)

    @strawberry.field(description="Services like this one: same category, most shared tags.")
    async def similar(self, info: GatewayInfo, first: int = 5) -> list[Service]:
        ids = await info.context.loaders.similar_services.load(
            (str(self.id), max(0, min(first, 50)))
        )
        return [Service(id=strawberry.ID(i)) for i in ids]
