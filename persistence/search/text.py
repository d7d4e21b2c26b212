"""Backend-neutral text helpers: typo correction against a vocabulary, and highlighting."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

from rapidfuzz.distance import OSA

HIGHLIGHT_FIELDS = ("name", "tags", "category", "description")
MAX_HIGHLIGHTS = 3
SNIPPET_RADIUS = 60


def max_edits(word: str) -> int:
    """Edits allowed for a word of this length: Elasticsearch's ``fuzziness: AUTO`` rule, so
    the built-in backends and Elasticsearch forgive the same typos."""
    if len(word) < 3:
        return 0
    return 1 if len(word) < 6 else 2


def correct_terms(tokens: Sequence[str], vocabulary: Iterable[str]) -> list[str]:
    """Replace each word the index has never seen by its closest vocabulary word.

    Distance is optimal string alignment (Levenshtein plus adjacent transpositions, so
    "embeddigns" is one edit from "embeddings"); ties go to the shorter, then alphabetical
    word. A word with no close neighbour is kept: it simply matches nothing.
    """
    vocab = set(vocabulary)
    corrected: list[str] = []
    for token in tokens:
        if token in vocab or max_edits(token) == 0:
            corrected.append(token)
            continue
        limit = max_edits(token)
        best: tuple[int, int, str] | None = None
        for candidate in vocab:
            if abs(len(candidate) - len(token)) > limit:
                continue
            distance = OSA.distance(token, candidate, score_cutoff=limit)
            if distance <= limit:
                key = (distance, len(candidate), candidate)
                best = key if best is None or key < best else best
        corrected.append(best[2] if best else token)
    return corrected


def highlight(fields: Mapping[str, str], terms: Sequence[str]) -> tuple[str, ...]:
    """Snippets of the fields that contain a searched word, the words wrapped in ``<em>``."""
    if not terms:
        return ()
    pattern = re.compile(
        r"(?<![^\W_])("
        + "|".join(re.escape(t) for t in sorted(set(terms), key=len, reverse=True))
        + r")(?![^\W_])",
        re.IGNORECASE,
    )
    out: list[str] = []
    for name in HIGHLIGHT_FIELDS:
        text = fields.get(name, "")
        first = pattern.search(text)
        if first is None:
            continue
        start = max(0, first.start() - SNIPPET_RADIUS)
        end = min(len(text), first.end() + SNIPPET_RADIUS)
        snippet = pattern.sub(r"<em>\1</em>", text[start:end])
        out.append(("…" if start else "") + snippet + ("…" if end < len(text) else ""))
        if len(out) == MAX_HIGHLIGHTS:
            break
    return tuple(out)
