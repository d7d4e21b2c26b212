"""Ranked results of the built-in index, cached per index generation.

The analogue of Elasticsearch's shard request cache: a search that was answered under the
current generation is answered again from memory, and paging through it costs one dictionary
look-up. Entries are keyed by everything that decides the result (the query's words, the
filter, the sort, the weights) and by the generation they were computed under; when the
generation moves on (``generation.py``: every index write bumps it) the older entries are
dropped, so a result is never served after the index changed.

Hand-written rather than ``functools.lru_cache`` / ``cachetools``: the entries are filled by
async database reads and invalidated by a value read from the database per search.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field

from persistence.search.base import IndexedService
from persistence.search.ranked import FacetCounts
from persistence.search.text import highlight

DEFAULT_MAX_ENTRIES = 256


@dataclass
class RankedResult:
    """What one search computed: enough to serve any page within ``ranked``."""

    terms: tuple[str, ...]  # searched words after typo correction (for highlights)
    ranked: list[tuple[str, float]]  # (service id, relevance), best first
    complete: bool  # ``ranked`` holds every hit, not only a leading window of them
    total: int
    facets: FacetCounts
    # Documents of the pages served so far, each with its highlights for ``terms`` (neither
    # can change within a generation): a repeated search neither reads nor highlights again.
    docs: dict[str, tuple[IndexedService, tuple[str, ...]]] = field(default_factory=dict)

    def add_documents(self, docs: Iterable[IndexedService]) -> None:
        for doc in docs:
            self.docs[doc.service_id] = (doc, highlight(doc.text_fields, self.terms))

    def covers(self, end: int) -> bool:
        return self.complete or end <= len(self.ranked)


class ResultCache:
    """A bounded LRU of ``RankedResult`` holding one generation at a time."""

    def __init__(self, max_entries: int = DEFAULT_MAX_ENTRIES) -> None:
        self.max_entries = max_entries
        self._generation: int | None = None
        self._entries: OrderedDict[Hashable, RankedResult] = OrderedDict()

    def _at(self, generation: int) -> None:
        if generation != self._generation:
            self._entries.clear()
            self._generation = generation

    def get(self, generation: int, key: Hashable) -> RankedResult | None:
        self._at(generation)
        entry = self._entries.get(key)
        if entry is not None:
            self._entries.move_to_end(key)
        return entry

    def put(self, generation: int, key: Hashable, entry: RankedResult) -> None:
        # A result computed under an older generation than one already seen is not kept:
        # a newer write has happened, and it may not reflect it.
        if self._generation is not None and generation < self._generation:
            return
        self._at(generation)
        self._entries[key] = entry
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def clear(self) -> None:
        self._entries.clear()
        self._generation = None

    def __len__(self) -> int:
        return len(self._entries)
