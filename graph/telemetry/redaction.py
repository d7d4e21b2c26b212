"""Take secrets out of text before it is logged.

Applied to every finished log line (see ``graph.telemetry.logging``), so a secret is removed
whichever logger, message argument, ``extra`` field or traceback carried it. The patterns are
hand-written because they are this gateway's own formats: its API keys (``mk_`` + base64url),
JWTs (three base64url parts, the first starting ``eyJ``), and the credential forms an upstream
call or a URL can carry.
"""

from __future__ import annotations

import re

REDACTED = "[REDACTED]"

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # Gateway API keys: mk_ followed by the base64url secret.
    (re.compile(r"\bmk_[A-Za-z0-9_\-]{6,}"), f"mk_{REDACTED}"),
    # JWTs (a JOSE header always starts with '{"' -> base64url 'eyJ').
    (re.compile(r"\beyJ[A-Za-z0-9_\-]*\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]*"), REDACTED),
    # Common upstream LLM credential formats (sk-…, Bearer …, Basic …).
    (re.compile(r"\bsk-[A-Za-z0-9_\-]{8,}"), REDACTED),
    (re.compile(r"\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=\-]+", re.IGNORECASE), rf"\1 {REDACTED}"),
    # Credentials inside URLs: scheme://user:password@host
    (
        re.compile(r"(\b[a-z][a-z0-9+.\-]*://[^/\s:@\"']*):[^@\s\"']+@", re.IGNORECASE),
        rf"\1:{REDACTED}@",
    ),
    # key=value / "key": "value" pairs whose key names a secret.
    (
        re.compile(
            r"""(?P<key>\b(?:x-api-key|api[_-]?key|authorization|password|passwd|secret|"""
            r"""client[_-]?secret|access[_-]?token|refresh[_-]?token|token)\b)"""
            r"""(?P<sep>\\?["']?\s*[:=]\s*\\?["']?)(?P<value>[^\s"'\\&,;}]+)""",
            re.IGNORECASE,
        ),
        rf"\g<key>\g<sep>{REDACTED}",
    ),
)


def redact(text: str) -> str:
    """``text`` with every recognised secret replaced by ``[REDACTED]``."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text
