"""How a consumer's request becomes the upstream request, and the answer comes back."""

from __future__ import annotations

import ipaddress
import json
import secrets
from typing import Any
from urllib.parse import urlsplit

from starlette.datastructures import Headers

# RFC 9110 §7.6.1 hop-by-hop headers, never forwarded in either direction.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)
# Set by the gateway (or its HTTP client) on every upstream request.
_SET_BY_GATEWAY = frozenset({"host", "content-length", "accept-encoding", "x-request-id"})
# Not forwarded: the consumer's credentials and what the gateway sets itself.
_NOT_FORWARDED = HOP_BY_HOP | _SET_BY_GATEWAY | {"authorization", "x-api-key"}
_NOT_RETURNED = HOP_BY_HOP | {"date", "server", "x-request-id"}
# What a provider's upstream credential may not name: hop-by-hop headers and those the gateway
# sets on every upstream request itself (a credential would silently override them).
# ``authorization`` and ``x-api-key`` stay allowed: they are the usual credential headers.
RESERVED_FOR_GATEWAY = HOP_BY_HOP | _SET_BY_GATEWAY | {"traceparent", "tracestate"}


def upstream_headers(
    incoming: Headers, *, request_id: str, upstream_auth: str | None
) -> dict[str, str]:
    headers = {k: v for k, v in incoming.items() if k.lower() not in _NOT_FORWARDED}
    connection_listed = {
        token.strip().lower() for token in incoming.get("connection", "").split(",") if token
    }
    headers = {k: v for k, v in headers.items() if k.lower() not in connection_listed}
    headers["x-request-id"] = request_id
    # Usage is read from the bytes as they pass, so ask for them uncompressed.
    headers["accept-encoding"] = "identity"
    if "traceparent" not in {k.lower() for k in headers}:
        headers["traceparent"] = f"00-{secrets.token_hex(16)}-{secrets.token_hex(8)}-01"
    if upstream_auth:
        name, sep, value = upstream_auth.partition(":")
        if sep and " " not in name.strip():
            headers[name.strip().lower()] = value.strip()  # "X-Api-Key: sk-…"
        else:
            headers["authorization"] = upstream_auth  # "Bearer sk-…"
    return headers


def response_headers(upstream: Any) -> dict[str, str]:
    return {k: v for k, v in upstream.headers.items() if k.lower() not in _NOT_RETURNED}


def upstream_url(endpoint_url: str, path: str, query: str) -> str:
    url = endpoint_url.rstrip("/") + "/" + path.lstrip("/")
    return f"{url}?{query}" if query else url


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def is_private_host(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_private or address.is_loopback or address.is_link_local


def json_document(body: bytes, content_type: str) -> dict[str, Any] | None:
    if not body or "json" not in content_type:
        return None
    try:
        document = json.loads(body)
    except ValueError:
        return None
    return document if isinstance(document, dict) else None


def with_stream_usage(document: dict[str, Any], path: str) -> dict[str, Any] | None:
    """An OpenAI-style streamed request rewritten to ask for the final usage chunk."""
    if document.get("stream") is not True or not path.rstrip("/").endswith("completions"):
        return None
    options = document.get("stream_options")
    if isinstance(options, dict) and options.get("include_usage") is True:
        return None
    options = dict(options) if isinstance(options, dict) else {}
    options["include_usage"] = True
    return {**document, "stream_options": options}


def max_tokens_of(document: dict[str, Any] | None) -> int:
    if document is None:
        return 0
    for name in ("max_tokens", "max_completion_tokens", "max_output_tokens"):
        value = document.get(name)
        if isinstance(value, int) and value > 0:
            return value
    return 0
