"""The standard ``process_*`` metrics of a Linux process, read from ``/proc``.

Why these names: every Prometheus client library exports them under the same names
(``process_cpu_seconds_total``, ``process_resident_memory_bytes``, ...), so dashboards
and alerts written for any exporter work on logbot unchanged, and one start time
(``process_start_time_seconds``) serves every "restarted?" query.

Each reader is a function of a ``/proc`` folder and a pid (``"self"`` by default) and,
where a figure is in kernel units, of that unit (clock ticks, page size), so that the
tests can feed it a made-up ``/proc`` or ask about a child with known limits.
:func:`read_process` gathers them; a figure that cannot be read (no ``/proc``: not
Linux, or a sandbox that hides it) is None and its family is left out of ``/metrics``
rather than made up, each one on its own: a hidden ``fd`` folder does not take the
CPU time with it.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

__all__ = [
    "PROC",
    "ProcessStats",
    "boot_time",
    "cpu_and_start_ticks",
    "max_fds",
    "memory_bytes",
    "open_fds",
    "read_process",
]

#: Where the kernel's process information is mounted (default ``/proc``).
PROC = "/proc"

#: Fields of ``/proc/<pid>/stat`` (numbered from 1 as in proc(5)): user and system
#: CPU time in clock ticks, and the start time in clock ticks after boot.
_UTIME, _STIME, _STARTTIME = 14, 15, 22


@dataclass(frozen=True)
class ProcessStats:
    """One reading; None where the figure could not be read."""

    cpu_seconds: float | None = None
    start_time: float | None = None  # Unix seconds
    resident_bytes: int | None = None
    virtual_bytes: int | None = None
    open_fds: int | None = None
    max_fds: float | None = None  # the soft RLIMIT_NOFILE; inf when "unlimited"


def _read(path: str) -> str:
    with open(path, encoding="ascii", errors="replace") as f:
        return f.read()


def _stat_fields(text: str) -> list[str]:
    """The fields of a ``stat`` line from field 3 on.  The command name (field 2) is in
    parentheses and may itself hold spaces and parentheses: the last ``)`` ends it."""
    close = text.rindex(")")
    return text[close + 1 :].split()


def cpu_and_start_ticks(stat_text: str) -> tuple[int, int]:
    """``(utime + stime, starttime)`` of a ``/proc/<pid>/stat`` text, in clock ticks."""
    fields = _stat_fields(stat_text)
    utime, stime, start = (int(fields[n - 3]) for n in (_UTIME, _STIME, _STARTTIME))
    return utime + stime, start


def boot_time(proc_stat_text: str) -> int:
    """The ``btime`` of ``/proc/stat``: when the system booted, in Unix seconds."""
    for line in proc_stat_text.splitlines():
        key, _, value = line.partition(" ")
        if key == "btime":
            return int(value)
    raise ValueError("no btime line in /proc/stat")


def memory_bytes(statm_text: str, page_size: int) -> tuple[int, int]:
    """``(resident, virtual)`` bytes from ``/proc/<pid>/statm`` (pages: size, resident)."""
    size, resident = (int(n) for n in statm_text.split()[:2])
    return resident * page_size, size * page_size


def open_fds(fd_dir: str) -> int:
    """The entries of ``/proc/<pid>/fd``.  Listing ``/proc/self/fd`` opens one
    descriptor for the listing itself, which is counted, as every client library does."""
    return len(os.listdir(fd_dir))


def max_fds(limits_text: str) -> float:
    """The soft "Max open files" limit of a ``/proc/<pid>/limits`` text (inf when
    unlimited): read there and not with ``getrlimit`` so that it works for any pid."""
    for line in limits_text.splitlines():
        if line.startswith("Max open files"):
            soft = line[len("Max open files") :].split()[0]
            return math.inf if soft == "unlimited" else int(soft)
    raise ValueError("no 'Max open files' line in limits")


def read_process(
    pid: int | str = "self",
    proc: str = PROC,
    clock_ticks: int | None = None,
    page_size: int | None = None,
) -> ProcessStats:
    """The process ``pid``'s figures (``clock_ticks`` per second and ``page_size``
    default to this system's ``SC_CLK_TCK`` and ``SC_PAGE_SIZE``)."""
    base = os.path.join(proc, str(pid))
    ticks = clock_ticks or os.sysconf("SC_CLK_TCK")
    page = page_size or os.sysconf("SC_PAGE_SIZE")
    cpu: float | None = None
    start: float | None = None
    resident: int | None = None
    virtual: int | None = None
    fds: int | None = None
    limit: float | None = None
    try:
        cpu_ticks, start_ticks = cpu_and_start_ticks(_read(os.path.join(base, "stat")))
        cpu = cpu_ticks / ticks
        start = boot_time(_read(os.path.join(proc, "stat"))) + start_ticks / ticks
    except (OSError, ValueError, IndexError):
        pass
    try:
        resident, virtual = memory_bytes(_read(os.path.join(base, "statm")), page)
    except (OSError, ValueError):
        pass
    try:
        fds = open_fds(os.path.join(base, "fd"))
    except OSError:
        pass
    try:
        limit = max_fds(_read(os.path.join(base, "limits")))
    except (OSError, ValueError, IndexError):
        pass
    return ProcessStats(cpu, start, resident, virtual, fds, limit)
