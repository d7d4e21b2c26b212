"""JWT verification as an attacker would probe it: HS256 secret and RS256/ES256 via JWKS."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from graph.auth import AuthError, TokenVerifier, issue_token
from graph.settings import Settings, load_settings
from tests.conftest import bearer, gql

ISSUER = "https://idp.test/"
AUDIENCE = "marketplace-gateway"


class JWKSServer:
    """A real HTTP JWKS endpoint on 127.0.0.1 whose key set can be rotated."""

    def __init__(self) -> None:
        self.keys: list[dict[str, Any]] = []
        self.requests = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests += 1
                body = json.dumps({"keys": server.keys}).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/.well-known/jwks.json"

    def publish(self, *keys: tuple[str, Any]) -> None:
        published = []
        for kid, private_key in keys:
            public = private_key.public_key()
            algorithm = RSAAlgorithm if isinstance(public, rsa.RSAPublicKey) else ECAlgorithm
            jwk = json.loads(algorithm.to_jwk(public))
            jwk.update(kid=kid, use="sig")
            published.append(jwk)
        self.keys = published


@pytest.fixture(scope="module")
def jwks_server() -> Iterator[JWKSServer]:
    server = JWKSServer()
    server.thread.start()
    yield server
    server.httpd.shutdown()


def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def claims(**overrides: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    base: dict[str, Any] = {
        "sub": "user-1",
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": now,
        "nbf": now,
        "exp": now + timedelta(minutes=5),
        "realm_access": {"roles": ["provider"]},
        "scope": "catalog:read catalog:write",
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def jwks_settings(url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "jwks_url": url,
        "jwt_issuer": ISSUER,
        "jwt_audience": AUDIENCE,
        "jwt_roles_claim": "realm_access.roles",
        "jwks_min_refresh_seconds": 0,
    }
    return load_settings(**{**values, **overrides})


def sign(private_key: Any, kid: str, algorithm: str = "RS256", **overrides: Any) -> str:
    return jwt.encode(claims(**overrides), private_key, algorithm=algorithm, headers={"kid": kid})


async def test_rs256_token_from_jwks_gives_roles_from_claim_path_and_scopes(jwks_server):
    key = rsa_key()
    jwks_server.publish(("k1", key))
    principal = await TokenVerifier(jwks_settings(jwks_server.url)).verify(sign(key, "k1"))
    assert principal.subject == "user-1"
    assert principal.roles == {"provider"}
    assert principal.scopes == {"catalog:read", "catalog:write"}


async def test_es256_token_from_jwks_is_accepted(jwks_server):
    key = ec.generate_private_key(ec.SECP256R1())
    jwks_server.publish(("ec1", key))
    token = sign(key, "ec1", algorithm="ES256")
    assert (await TokenVerifier(jwks_settings(jwks_server.url)).verify(token)).subject == "user-1"


def _forged_none(key_id: str) -> str:
    header = jwt.utils.base64url_encode(json.dumps({"alg": "none", "kid": key_id}).encode())
    payload = jwt.utils.base64url_encode(
        json.dumps({**claims(), "iat": 0, "nbf": 0, "exp": 4102444800}).encode()
    )
    return f"{header.decode()}.{payload.decode()}."


def _attacks(key: rsa.RSAPrivateKey) -> dict[str, str]:
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    valid = sign(key, "k1")
    head, body, signature = valid.split(".")
    tampered_body = jwt.utils.base64url_encode(
        json.dumps(
            {**jwt.decode(valid, options={"verify_signature": False}), "sub": "admin"}
        ).encode()
    ).decode()
    # HS/RS confusion: an HS256 token whose "secret" is the published RSA public key.
    confused = jwt.api_jws.PyJWS()
    confused._algorithms["HS256"].prepare_key = lambda k: k  # type: ignore[attr-defined]
    hs_with_public_key = confused.encode(
        json.dumps({**claims(), "iat": 0, "nbf": 0, "exp": 4102444800}, default=str).encode(),
        public_pem,
        algorithm="HS256",
        headers={"kid": "k1"},
    )
    return {
        "alg none": _forged_none("k1"),
        "expired": sign(key, "k1", exp=datetime.now(UTC) - timedelta(hours=1)),
        "not yet valid": sign(key, "k1", nbf=datetime.now(UTC) + timedelta(hours=1)),
        "wrong audience": sign(key, "k1", aud="someone-else"),
        "wrong issuer": sign(key, "k1", iss="https://evil.test/"),
        "no subject": sign(key, "k1", sub=None),
        "tampered payload": f"{head}.{tampered_body}.{signature}",
        "tampered signature": f"{head}.{body}.{signature[:-4]}AAAA",
        "hs256 signed with the rsa public key": hs_with_public_key,
        "signed by an unknown key": sign(rsa_key(), "k1"),
        "unknown kid": sign(rsa_key(), "k-unknown"),
        "not a jwt": "not.a.jwt",
    }


async def test_every_attack_token_is_refused(jwks_server):
    key = rsa_key()
    jwks_server.publish(("k1", key))
    verifier = TokenVerifier(jwks_settings(jwks_server.url))
    for name, token in _attacks(key).items():
        with pytest.raises(AuthError):
            await verifier.verify(token)
            pytest.fail(f"{name} was accepted")


async def test_leeway_accepts_a_token_just_expired(jwks_server):
    key = rsa_key()
    jwks_server.publish(("k1", key))
    verifier = TokenVerifier(jwks_settings(jwks_server.url, jwt_leeway_seconds=60))
    token = sign(key, "k1", exp=datetime.now(UTC) - timedelta(seconds=20))
    assert (await verifier.verify(token)).subject == "user-1"


async def test_key_rotation_is_picked_up_without_restart(jwks_server):
    old, new = rsa_key(), rsa_key()
    jwks_server.publish(("old", old))
    verifier = TokenVerifier(jwks_settings(jwks_server.url))
    assert (await verifier.verify(sign(old, "old"))).subject == "user-1"
    jwks_server.publish(("new", new))  # the identity provider rotates
    assert (await verifier.verify(sign(new, "new"))).subject == "user-1"
    with pytest.raises(AuthError):  # the retired key no longer verifies once refreshed
        await verifier.verify(sign(old, "old"))


async def test_refresh_on_unknown_kid_is_rate_limited(jwks_server):
    key = rsa_key()
    jwks_server.publish(("k1", key))
    verifier = TokenVerifier(jwks_settings(jwks_server.url, jwks_min_refresh_seconds=3600))
    await verifier.verify(sign(key, "k1"))
    assert verifier.jwks is not None
    fetched = verifier.jwks.fetch_count
    for i in range(20):
        with pytest.raises(AuthError):
            await verifier.verify(sign(rsa_key(), f"random-{i}"))
    assert verifier.jwks.fetch_count == fetched


async def test_hs256_is_refused_when_jwks_is_configured(jwks_server):
    settings = jwks_settings(jwks_server.url)
    token = issue_token(settings, subject="alice", roles=["admin"])
    with pytest.raises(AuthError, match="not accepted"):
        await TokenVerifier(settings).verify(token)


async def test_dev_secret_tokens_only_in_hmac_mode():
    settings = load_settings()
    verifier = TokenVerifier(settings)
    assert (await verifier.verify(issue_token(settings, subject="a", roles=["admin"]))).is_admin
    rs_token = jwt.encode(claims(), rsa_key(), algorithm="RS256")
    with pytest.raises(AuthError, match="not accepted"):
        await verifier.verify(rs_token)


# --- over HTTP: a bad token is UNAUTHENTICATED, never anonymous -----------------------------


@pytest.mark.parametrize("token", ["garbage", "expired"])
async def test_invalid_bearer_token_answers_401_unauthenticated(
    client: httpx.AsyncClient, settings: Settings, token: str
):
    if token == "expired":
        token = issue_token(settings, subject="alice", roles=["admin"], ttl_seconds=-3600)
    response = await client.post(
        "/graphql",
        json={"query": "{ policies { name } }"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_valid_token_and_no_token_both_run(client: httpx.AsyncClient, settings: Settings):
    anonymous = await gql(client, "{ policies { name } }")
    signed_in = await gql(
        client, "{ policies { name } }", headers=bearer(settings, "alice", "viewer")
    )
    assert "errors" not in anonymous and "errors" not in signed_in
