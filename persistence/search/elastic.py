"""Elasticsearch backend (async elasticsearch-py 9.x).

Mappings use only what Elasticsearch core ships (the local integ-test distribution has neither
analysis-common nor mapper-extras, so no edge n-grams and no ``search_as_you_type``): the
standard analyzer, ``fuzziness: AUTO`` for the words the index does not know (typos), and
``match_bool_prefix`` on the name for prefix suggestions. Searches go to an alias; a rebuild
fills a fresh index and swaps the alias atomically, so readers never see a gap.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from elastic_transport import ConnectionError as TransportConnectionError
from elastic_transport import ConnectionTimeout, TransportError
from elasticsearch import ApiError, AsyncElasticsearch, NotFoundError
from elasticsearch.helpers import async_bulk

from persistence.search import elastic_ranked as er
from persistence.search import signals
from persistence.search.base import (
    IndexedService,
    Match,
    MatchResult,
    SearchBackendUnavailable,
    SearchFilter,
    tokenize,
)
from persistence.search.ranked import RankedPage, RankedQuery

# ``match`` returns every match (the unranked interface); this caps one answer.
MAX_MATCHES = 10_000
# The query words the index's vocabulary holds (the built-in index's, kept by the same indexer).
KnownWords = Callable[[Sequence[str]], Awaitable[set[str]]]

TEXT_FIELDS = ["name^10", "tags_text^4", "category_text^4", "provider_name^2", "description"]

MAPPINGS: dict[str, Any] = {
    "dynamic": "strict",
    "properties": {
        "service_id": {"type": "keyword"},
        "slug": {"type": "keyword"},
        "name": {"type": "text"},
        "description": {"type": "text"},
        "category": {"type": "keyword"},
        "category_text": {"type": "text"},
        "tags": {"type": "keyword"},
        "tags_text": {"type": "text"},
        "provider_id": {"type": "keyword"},
        "provider_name": {"type": "text"},
        "status": {"type": "keyword"},
        "pricing_model": {"type": "keyword"},
        # Exact decimals as strings for the answer, a double for range filters.
        "price_per_1k": {"type": "keyword", "index": False},
        "price_value": {"type": "double"},
        "created_at": {"type": "date"},
        "usage_count": {"type": "long"},
        "p95_latency_ms": {"type": "integer"},
        "error_rate": {"type": "double"},
        "compliance_score": {"type": "keyword", "index": False},
        "compliance_value": {"type": "double"},
        # The query-independent ranking factors (signals.py), read by function_score.
        "popularity_factor": {"type": "double"},
        "performance_factor": {"type": "double"},
        "compliance_factor": {"type": "double"},
    },
}
SETTINGS: dict[str, Any] = {"number_of_shards": 1, "number_of_replicas": 0}


def ask_for_v8_compatibility(client: AsyncElasticsearch) -> None:
    """Make the 9.x client speak the v8-compatible REST API, which 8.x and 9.x servers both
    accept (the local development server is 8.19). The client fixes ``compatible-with=9`` in
    every request's media types after all options are applied, so the one place to change it
    is the transport call."""
    transport = client.transport
    send = transport.perform_request

    async def perform_request(method: str, target: str, **kwargs: Any) -> Any:
        headers = kwargs.get("headers")
        if headers is not None:
            for name in ("accept", "content-type"):
                if name in headers:
                    headers[name] = headers[name].replace("compatible-with=9", "compatible-with=8")
        return await send(method, target, **kwargs)

    transport.perform_request = perform_request  # type: ignore[method-assign]


def to_source(doc: IndexedService) -> dict[str, Any]:
    return {
        "service_id": doc.service_id,
        "slug": doc.slug,
        "name": doc.name,
        "description": doc.description,
        "category": doc.category,
        "category_text": doc.category,
        "tags": list(doc.tags),
        "tags_text": " ".join(doc.tags),
        "provider_id": doc.provider_id,
        "provider_name": doc.provider_name,
        "status": doc.status,
        "pricing_model": doc.pricing_model,
        "price_per_1k": None if doc.price_per_1k is None else str(doc.price_per_1k),
        "price_value": None if doc.price_per_1k is None else float(doc.price_per_1k),
        "created_at": doc.created_at.isoformat(),
        "usage_count": doc.usage_count,
        "p95_latency_ms": doc.p95_latency_ms,
        "error_rate": doc.error_rate,
        "compliance_score": None if doc.compliance_score is None else str(doc.compliance_score),
        "compliance_value": None if doc.compliance_score is None else float(doc.compliance_score),
        "popularity_factor": signals.popularity(doc),
        "performance_factor": signals.performance(doc),
        "compliance_factor": signals.compliance(doc),
    }


def from_source(src: dict[str, Any]) -> IndexedService:
    created = datetime.fromisoformat(src["created_at"])
    return IndexedService(
        service_id=src["service_id"],
        slug=src["slug"],
        name=src["name"],
        description=src["description"],
        category=src["category"],
        tags=tuple(src["tags"]),
        provider_id=src["provider_id"],
        provider_name=src["provider_name"],
        status=src["status"],
        pricing_model=src["pricing_model"],
        price_per_1k=None if src["price_per_1k"] is None else Decimal(src["price_per_1k"]),
        created_at=created if created.tzinfo else created.replace(tzinfo=UTC),
        usage_count=src["usage_count"],
        p95_latency_ms=src["p95_latency_ms"],
        error_rate=src["error_rate"],
        compliance_score=None
        if src["compliance_score"] is None
        else Decimal(src["compliance_score"]),
    )


def filter_clauses(flt: SearchFilter) -> list[dict[str, Any]]:
    clauses: list[dict[str, Any]] = [{"terms": {"status": list(flt.statuses)}}]
    for field, values in (
        ("category", flt.categories),
        ("tags", flt.tags),
        ("provider_id", flt.provider_ids),
        ("pricing_model", flt.pricing_models),
    ):
        if values:
            clauses.append({"terms": {field: list(values)}})
    if flt.max_price_per_1k is not None:
        clauses.append({"range": {"price_value": {"lte": float(flt.max_price_per_1k)}}})
    if flt.min_compliance is not None:
        clauses.append({"range": {"compliance_value": {"gte": float(flt.min_compliance)}}})
    return clauses


class ElasticsearchIndex:
    name = "elasticsearch"

    def __init__(
        self, url: str, alias: str, known_words: KnownWords, *, request_timeout: float = 2.0
    ) -> None:
        # No retries: an unreachable cluster must fail fast so search can fall back.
        self.client = AsyncElasticsearch(
            url,
            request_timeout=request_timeout,
            max_retries=0,
            retry_on_timeout=False,
        )
        ask_for_v8_compatibility(self.client)
        self.alias = alias
        self.known_words = known_words
        self._mapping_current = False

    async def _call(self, coro: Any) -> Any:
        try:
            return await coro
        except (TransportConnectionError, ConnectionTimeout) as exc:
            raise SearchBackendUnavailable(f"Elasticsearch unreachable: {exc}") from exc
        except (TransportError, ApiError) as exc:
            # Also a missing alias (never built): the built-in index answers meanwhile.
            raise SearchBackendUnavailable(f"Elasticsearch failed: {exc}") from exc

    async def _text(self, words: Sequence[str]) -> dict[str, Any] | None:
        """The text query for ``words``: exact for the words the index knows, fuzzy
        (``fuzziness: AUTO``) for the others. Fuzzy matching every word made a broad query
        twice as slow (≈ 17 against ≈ 8 ms for its two requests at 10,000 services) and
        matched correctly spelled words' neighbours too (``code`` also found ``node``); the
        built-in engines likewise correct only the words their vocabulary lacks.

        ``prefix_length: 1``: a fuzzy word keeps its first letter, as SQLite's near-miss search
        assumes (the first letter is rarely the mistyped one). Without it, every field's whole
        term dictionary was walked for each unknown word: the typo shape's first-time p95
        through GraphQL was 32 to 35 ms, a third above the other shapes'."""
        if not words:
            return None
        known = await self.known_words(words)
        clauses = [
            {"multi_match": {"query": " ".join(group), "fields": TEXT_FIELDS, **extra}}
            for group, extra in (
                ([w for w in words if w in known], {"operator": "or"}),
                (
                    [w for w in words if w not in known],
                    {"operator": "or", "fuzziness": "AUTO", "prefix_length": 1},
                ),
            )
            if group
        ]
        return clauses[0] if len(clauses) == 1 else {"bool": {"should": clauses}}

    async def match(self, query: str, flt: SearchFilter) -> MatchResult:
        words = tokenize(query)
        body: dict[str, Any] = {"filter": filter_clauses(flt)}
        text = await self._text(words)
        if text is not None:
            body["must"] = [text]
        highlight: dict[str, Any] = {
            "pre_tags": ["<em>"],
            "post_tags": ["</em>"],
            "fields": {"name": {}, "tags_text": {}, "category_text": {}, "description": {}},
            "number_of_fragments": 1,
            "fragment_size": 150,
        }
        response = await self._call(
            self.client.search(
                index=self.alias,
                query={"bool": body},
                size=MAX_MATCHES,
                track_total_hits=True,
                highlight=highlight if words else None,
            )
        )
        matches = []
        for hit in response["hits"]["hits"]:
            fragments = [
                f for field in highlight["fields"] for f in hit.get("highlight", {}).get(field, [])
            ]
            matches.append(
                Match(
                    from_source(hit["_source"]), float(hit["_score"] or 0.0), tuple(fragments[:3])
                )
            )
        return MatchResult(matches, tuple(words))

    async def ranked_search(self, query: str, flt: SearchFilter, ask: RankedQuery) -> RankedPage:
        """One ranked page, the total and the facets, computed by the engine (see
        elastic_ranked.py): with words, the counts and best text score, then the page;
        without, one request. The same whatever the number of hits."""
        words = tokenize(query)
        filters = filter_clauses(flt)
        text = await self._text(words)
        if text is None:
            # Browse mode: relevance is 0, so one request ranks, pages and counts.
            response = await self._search_page(er.text_query(None, filters, 0.0), ask, True)
            return er.page_of(response, response, ask, words, from_source)
        # The counts and the best text score in one size-0 request (a ``top_hits`` of one
        # carries ``max_score``): size-0 answers are kept by the shard request cache, so a
        # repeated query pays only for its page until the index next refreshes.
        counts = await self._call(
            self.client.search(
                index=self.alias,
                query=er.text_query(text, filters, 1.0),
                size=0,
                track_total_hits=True,
                aggregations={**er.facet_aggregations(), **er.BEST_SCORE},
            )
        )
        best_score = counts["aggregations"][er.BEST]["hits"]["max_score"]
        if not best_score:
            return er.empty_page()
        boost = ask.weights.relevance / float(best_score)
        response = await self._search_page(er.text_query(text, filters, boost), ask, False)
        return er.page_of(response, counts, ask, words, from_source)

    async def _search_page(self, query: dict[str, Any], ask: RankedQuery, counts: bool) -> Any:
        return await self._call(
            self.client.search(
                index=self.alias,
                query=er.scored_query(query, ask),
                sort=er.sort_of(ask),
                from_=ask.offset,
                size=ask.limit,
                track_scores=True,
                track_total_hits=counts,
                aggregations=er.facet_aggregations() if counts else None,
            )
        )

    async def suggest(self, prefix: str, statuses: Sequence[str], limit: int) -> list[str]:
        words = tokenize(prefix)
        if not words or limit == 0:
            return []
        response = await self._call(
            self.client.search(
                index=self.alias,
                query={
                    "bool": {
                        "must": [
                            {
                                "match_bool_prefix": {
                                    "name": {"query": " ".join(words), "operator": "and"}
                                }
                            }
                        ],
                        "filter": [{"terms": {"status": list(statuses)}}],
                    }
                },
                sort=[{"usage_count": "desc"}, {"service_id": "asc"}],
                size=limit,
                source=False,
            )
        )
        return [hit["_id"] for hit in response["hits"]["hits"]]

    # --- writes --------------------------------------------------------------------------

    async def ensure_index(self) -> None:
        """Create the first index behind the alias if there is none yet."""
        if not await self._call(self.client.indices.exists_alias(name=self.alias)):
            index = self._new_index_name()
            await self._call(
                self.client.indices.create(
                    index=index, settings=SETTINGS, mappings=MAPPINGS, aliases={self.alias: {}}
                )
            )
        elif not self._mapping_current:
            # An index built before a field was added (the ranking factors) refuses documents
            # that carry it (strict mapping): add the new fields once per process. Existing
            # documents get them on the next signals refresh.
            await self._call(
                self.client.indices.put_mapping(index=self.alias, properties=MAPPINGS["properties"])
            )
        self._mapping_current = True

    async def upsert(self, docs: Sequence[IndexedService]) -> None:
        if not docs:
            return
        await self.ensure_index()
        actions = (
            {"_index": self.alias, "_id": d.service_id, "_source": to_source(d)} for d in docs
        )
        # Catalog changes are rare and must be searchable within a second: refresh now rather
        # than wait for the next scheduled refresh ("wait_for" can take the whole interval).
        await self._call(async_bulk(self.client, actions, refresh=True))

    async def delete(self, service_ids: Sequence[str]) -> None:
        if not service_ids:
            return
        await self.ensure_index()
        actions = ({"_op_type": "delete", "_index": self.alias, "_id": i} for i in service_ids)
        await self._call(async_bulk(self.client, actions, refresh=True, raise_on_error=False))

    def _new_index_name(self) -> str:
        return f"{self.alias}-{datetime.now(UTC).strftime('%Y%m%d%H%M%S%f')}"

    async def rebuild(self, batches: AsyncIterator[Sequence[IndexedService]]) -> int:
        """Fill a new index from ``batches``, then point the alias at it and drop the old."""
        index = self._new_index_name()
        await self._call(
            self.client.indices.create(index=index, settings=SETTINGS, mappings=MAPPINGS)
        )
        total = 0
        async for batch in batches:
            actions = (
                {"_index": index, "_id": d.service_id, "_source": to_source(d)} for d in batch
            )
            await self._call(async_bulk(self.client, actions))
            total += len(batch)
        await self._call(self.client.indices.refresh(index=index))
        try:
            old = list(await self.client.indices.get_alias(name=self.alias))
        except NotFoundError:
            old = []
        swap: list[dict[str, Any]] = [{"add": {"index": index, "alias": self.alias}}]
        swap += [{"remove": {"index": name, "alias": self.alias}} for name in old]
        await self._call(self.client.indices.update_aliases(actions=swap))
        for name in old:
            await self._call(self.client.options(ignore_status=404).indices.delete(index=name))
        return total

    async def drop(self) -> None:
        """Delete the alias and every index behind it (tests and teardown)."""
        try:
            names = list(await self.client.indices.get_alias(name=self.alias))
        except NotFoundError:
            return
        for name in names:
            await self.client.options(ignore_status=404).indices.delete(index=name)

    async def ping(self) -> bool:
        try:
            return bool(await self.client.ping())
        except TransportError:
            return False

    async def close(self) -> None:
        await self.client.close()
