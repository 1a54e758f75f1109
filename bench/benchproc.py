"""What the end-to-end benchmarks share for their child processes (bench_irc.py,
bench_logbot.py): pinning to a CPU, niceness, and whether Twisted is importable."""

from __future__ import annotations

import os
import shutil
import sys

NICE: list[str] = []  # ["nice", "-n", "-10"] with --nice -10 (set in place by main())


def taskset(cpu: int) -> list[str]:
    """``taskset -c CPU`` when there is more than one CPU to pin to."""
    if shutil.which("taskset") and (os.cpu_count() or 1) > 1:
        return ["taskset", "-c", str(cpu)]
    return []


def child(args: list[str], cpu: int) -> list[str]:
    """The argv of a Python child pinned to ``cpu``, at the chosen niceness."""
    return [*NICE, *taskset(cpu), sys.executable, *args]


def have_twisted() -> bool:
    try:
        import twisted.words  # noqa: F401
    except ImportError:
        return False
    return True
