"""CPU time used by a set of server processes and their descendants.

Throughput on a small shared machine depends on what else runs; the CPU a front door spends
per request does not, so benchmarks report both. Descendants count because ``serve --workers``
runs its workers as child processes.
"""

from __future__ import annotations

from collections.abc import Iterable

import psutil


def process_tree(pids: Iterable[int]) -> list[int]:
    """``pids`` and every process descended from them, as running now."""
    found: list[int] = []
    for pid in pids:
        found.append(pid)
        try:
            found.extend(child.pid for child in psutil.Process(pid).children(recursive=True))
        except psutil.NoSuchProcess:
            continue
    return found


def cpu_seconds(pids: Iterable[int]) -> float:
    """User + system CPU seconds the given processes have used so far (gone ones: none)."""
    total = 0.0
    for pid in pids:
        try:
            times = psutil.Process(pid).cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total
