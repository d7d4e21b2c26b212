"""CPU time used by a set of server processes and their descendants (Linux ``/proc``).

Throughput on a small shared machine depends on what else runs; the CPU a front door spends
per request does not, so benchmarks report both. Descendants count because ``serve --workers``
runs its workers as child processes. Read from ``/proc`` rather than through psutil, which the
project does not otherwise need; on systems without ``/proc`` the figure is absent (None).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

PROC = Path("/proc")


def _stat_fields(pid: int) -> list[str] | None:
    try:
        text = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # The command name (field 2) is parenthesised and may hold spaces: split after it.
    return text.rsplit(")", 1)[1].split()


def _children() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in PROC.iterdir():
        if entry.name.isdigit() and (fields := _stat_fields(int(entry.name))) is not None:
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    return children


def process_tree(pids: Iterable[int]) -> list[int]:
    """``pids`` and every process descended from them, as running now."""
    children = _children()
    found: list[int] = []
    pending = list(pids)
    while pending:
        pid = pending.pop()
        found.append(pid)
        pending.extend(children.get(pid, ()))
    return found


def cpu_seconds(pids: Iterable[int]) -> float | None:
    """User + system CPU seconds the given processes have used so far (None without /proc)."""
    if not PROC.is_dir():
        return None
    ticks = 0
    for pid in pids:
        fields = _stat_fields(pid)
        if fields is not None:
            ticks += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    return ticks / os.sysconf("SC_CLK_TCK")
