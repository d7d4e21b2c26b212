"""Smoke test for the real Elasticsearch node (deploy/local/services.sh up elasticsearch).

Index, refresh and search round trip on a fresh index with AsyncElasticsearch,
the client the app uses, including the features search relies on (full-text
match, highlighting, a terms aggregation for facets).  The index is deleted
afterwards.  Fails (never skips) when Elasticsearch is not configured.
"""

from __future__ import annotations

import os
import uuid

import pytest
from elasticsearch import AsyncElasticsearch

ENV_VAR = "MARKETPLACE_ELASTICSEARCH_URL"


def elasticsearch_url() -> str:
    value = os.environ.get(ENV_VAR, "").strip()
    if not value:
        pytest.fail(
            f"{ENV_VAR} is not set: start Elasticsearch with "
            "`bash deploy/local/services.sh up elasticsearch` and load deploy/local/services.env "
            "(set -a; . deploy/local/services.env; set +a)",
            pytrace=False,
        )
    return value


async def test_index_refresh_search_round_trip() -> None:
    index = f"infra-smoke-{uuid.uuid4().hex}"
    es = AsyncElasticsearch(elasticsearch_url(), request_timeout=30)
    try:
        # The cluster health API is the readiness probe that works here: the
        # local integ-test distribution has no root endpoint, so ping() and
        # info() (HEAD/GET /) do not.
        health = await es.cluster.health(wait_for_status="yellow", timeout="30s")
        assert health["status"] in {"yellow", "green"}
        versions = {node["version"] for node in (await es.nodes.info())["nodes"].values()}
        assert all(v.split(".")[0] == "8" for v in versions), versions  # client 8.x

        await es.indices.create(
            index=index,
            settings={"number_of_shards": 1, "number_of_replicas": 0},
            mappings={
                "properties": {
                    "name": {"type": "text"},
                    "category": {"type": "keyword"},
                }
            },
        )
        docs = {
            "1": {"name": "Fast translation model", "category": "translation"},
            "2": {"name": "Image captioning service", "category": "vision"},
            "3": {"name": "Legal translation assistant", "category": "translation"},
        }
        for doc_id, doc in docs.items():
            await es.index(index=index, id=doc_id, document=doc)
        await es.indices.refresh(index=index)

        resp = await es.search(
            index=index,
            query={"match": {"name": "translation"}},
            highlight={"fields": {"name": {}}},
            aggs={"categories": {"terms": {"field": "category"}}},
        )

        assert resp["hits"]["total"]["value"] == 2
        assert {hit["_id"] for hit in resp["hits"]["hits"]} == {"1", "3"}
        assert all(hit["_score"] > 0 for hit in resp["hits"]["hits"])
        assert all(
            "<em>translation</em>" in hit["highlight"]["name"][0] for hit in resp["hits"]["hits"]
        )
        buckets = resp["aggregations"]["categories"]["buckets"]
        assert buckets == [{"key": "translation", "doc_count": 2}]
        assert (await es.get(index=index, id="2"))["_source"] == docs["2"]
    finally:
        try:
            await es.options(ignore_status=404).indices.delete(index=index)
        finally:
            await es.close()
