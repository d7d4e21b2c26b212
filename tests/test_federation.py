"""The subgraphs compose with Apollo's own library, and Apollo Gateway agrees with /graphql.

The differential test runs the deployment at scale: the four subgraphs as separate processes
behind Apollo Gateway, and the embedded composed gateway beside them, over one seeded
database. Every query in DIFFERENTIAL_QUERIES must give byte-for-byte equal `data` from both.
To cover a new cross-subgraph field, add a query there.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from graph.auth import issue_token
from graph.settings import load_settings
from tests.federation_support import (
    SUPERGRAPH,
    FederatedStack,
    compose,
    federated_stack,
    post,
    subgraph_sdls_json,
)

SUPERGRAPH_HINT = (
    "deploy/supergraph.graphql is stale: run `make supergraph` "
    "(python deploy/federation/subgraph_sdls.py | node deploy/federation/compose.mjs)"
)


def test_the_four_subgraphs_compose_without_errors():
    result = compose(subgraph_sdls_json())
    assert result.returncode == 0, result.stderr
    assert "join__Graph" in result.stdout
    for name in ("CATALOG", "SEARCH", "USAGE", "GOVERNANCE"):
        assert f'{name} @join__graph(name: "{name.lower()}"' in result.stdout


def test_committed_supergraph_is_current():
    result = compose(subgraph_sdls_json())
    assert result.returncode == 0, result.stderr
    assert SUPERGRAPH.read_text() == result.stdout, SUPERGRAPH_HINT


def test_composition_errors_fail_with_their_codes():
    # Two subgraphs resolving the same non-shareable field is the classic Federation v2 error.
    link = '@link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])'
    sdl = f"extend schema {link}\ntype Query {{ hello: String }}\n"
    broken = {
        "subgraphs": [
            {"name": "one", "url": "http://one/graphql", "sdl": sdl},
            {"name": "two", "url": "http://two/graphql", "sdl": sdl},
        ]
    }
    result = compose(json.dumps(broken))
    assert result.returncode == 1
    assert "INVALID_FIELD_SHARING" in result.stderr
    assert result.stdout == ""


# --- differential: Apollo Gateway over standalone subgraphs vs the embedded gateway ---------


@dataclass(frozen=True)
class Differential:
    query: str
    variables: dict[str, object] = field(default_factory=dict)
    roles: tuple[str, ...] = ()  # signed in with these roles when set


SERVICE_FIELDS_OF_EVERY_SUBGRAPH = """
    id slug name category tags version status createdAt updatedAt
    provider { id slug name }
    versions { version createdAt }
    pricing { model currency inputPricePer1k outputPricePer1k requestPrice }
    similar(first: 3) { id slug name provider { name } }
    usageStats(window: MONTH) { requests errors inputTokens outputTokens cost }
    compliance { compliant score checkedAt violations { __typename } }
    auditTrail(first: 3) { action targetType targetId hash }
"""

DIFFERENTIAL_QUERIES: dict[str, Differential] = {
    "services with fields of all four subgraphs": Differential(
        "query($first: Int) { services(first: $first) { totalCount"
        " pageInfo { hasNextPage endCursor }"
        f" edges {{ cursor node {{ {SERVICE_FIELDS_OF_EVERY_SUBGRAPH} }} }} }} }}",
        {"first": 25},
        roles=("admin",),
    ),
    "provider with its services, nested across subgraphs": Differential(
        """{ providers(first: 5) { edges { node { slug name
             services(first: 10) { totalCount edges { node {
               slug status similar(first: 2) { slug compliance { compliant } }
               compliance { compliant score } } } } } } } }""",
    ),
    "similar of similar, back through catalog": Differential(
        """query($slug: String) { service(slug: $slug) { slug
             similar { slug version provider { slug }
               similar(first: 2) { slug pricing { model } compliance { compliant } } } } }""",
        {"slug": "nimbus-chat-pro"},
    ),
    "one service by slug with usage stats as admin": Differential(
        """query($slug: String) { service(slug: $slug) { name
             usageStats(window: MONTH) { requests inputTokens outputTokens cost }
             weekly: usageStats(window: WEEK) { requests } } }""",
        {"slug": "nimbus-chat-pro"},
        roles=("admin",),
    ),
    "compliance and audit trail from governance": Differential(
        """{ services(first: 10) { edges { node { slug
             compliance { compliant score violations { __typename } }
             auditTrail(first: 5) { action actor targetId prevHash hash } } } } }""",
        roles=("admin",),
    ),
    "search hits resolve their catalog services": Differential(
        """{ searchServices(query: "chat", first: 5) { totalCount
             edges { node { score service { slug name provider { name }
               compliance { compliant } } } } } }""",
    ),
    "trending services with contributed fields": Differential(
        """{ trendingServices(first: 5) { slug name similar(first: 1) { slug }
             compliance { compliant } } }""",
    ),
    "unknown service is null": Differential(
        '{ service(slug: "no-such-service") { id similar { id } compliance { compliant } } }'
    ),
}


@pytest.fixture(scope="module")
def stack() -> Iterator[FederatedStack]:
    with federated_stack() as running:
        yield running


def _headers(stack: FederatedStack, roles: tuple[str, ...]) -> dict[str, str]:
    if not roles:
        return {}
    token = issue_token(load_settings(), subject="federation-differential", roles=roles)
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize("name", sorted(DIFFERENTIAL_QUERIES))
def test_apollo_gateway_answers_exactly_as_the_embedded_gateway(stack: FederatedStack, name: str):
    case = DIFFERENTIAL_QUERIES[name]
    headers = _headers(stack, case.roles)
    embedded = post(stack.composed_url, case.query, case.variables, **headers)
    apollo = post(stack.apollo_url, case.query, case.variables, **headers)
    assert "errors" not in embedded, embedded["errors"]
    assert "errors" not in apollo, apollo["errors"]
    assert embedded["data"], "the query must select something"
    # `data` only: the embedded gateway adds `extensions.cost`, a router reports its own.
    assert json.dumps(apollo["data"], sort_keys=False) == json.dumps(
        embedded["data"], sort_keys=False
    )


def test_differential_lists_carry_fields_of_every_subgraph(stack: FederatedStack):
    case = DIFFERENTIAL_QUERIES["services with fields of all four subgraphs"]
    body = post(stack.apollo_url, case.query, case.variables, **_headers(stack, case.roles))
    nodes = [edge["node"] for edge in body["data"]["services"]["edges"]]
    assert len(nodes) == 25
    assert all(n["provider"] and n["similar"] and n["usageStats"] for n in nodes)
    assert any(n["compliance"] for n in nodes)
    assert any(n["usageStats"]["requests"] > 0 for n in nodes)


def test_the_callers_authorization_reaches_the_subgraphs(stack: FederatedStack):
    query = '{ service(slug: "nimbus-chat-pro") { usageStats { requests } } }'
    anonymous = post(stack.apollo_url, query)
    assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    admin = post(stack.apollo_url, query, **_headers(stack, ("admin",)))
    assert "errors" not in admin
    assert admin["data"]["service"]["usageStats"]["requests"] >= 0
