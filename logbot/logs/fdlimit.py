"""The open-file limit (``RLIMIT_NOFILE``, ``ulimit -n``) and how many logs fit under it.

Every log file the writer keeps open is a descriptor, and so is everything else the
bot has: its sockets (one per network, the health listener and up to
``MAX_CONNECTIONS`` of its clients), the reactor's own (epoll, the waker's pipe),
the pipes of gzip and exec-plugin children, and files opened for a moment (a plugin's
store, ``!grep`` reading a log, Python importing a module).  When ``max_open_files``
is above what the limit leaves, opens fail with ``EMFILE``: before this module, a bot
with ``max_open_files: 2000`` under ``ulimit -n 1024`` logged some channels and kept
the others' lines pending for ever.  So:

* :func:`raise_soft_limit` (``logbot run``, at start) raises the soft limit, which any
  process may do up to the hard limit, to what ``max_open_files`` needs plus
  :data:`FD_HEADROOM`.  Only as far as needed, never to the hard limit itself: the
  children (gzip, exec plugins) inherit the soft limit, and a program that closes
  every descriptor up to it at start (many daemons do) would pay for a million.
* :func:`fit_open_files` (the writer, when it is made) clamps ``max_open_files`` to
  what the soft limit leaves after the headroom, with one warning naming both numbers.
* What still goes wrong (another part of the process holding more than its share, a
  system-wide ``ENFILE``) the writer handles itself: an open that fails with
  ``EMFILE`` or ``ENFILE`` closes least recently used logs and tries again
  (:class:`logbot.logs.logfile.Handles`).
"""

from __future__ import annotations

import logging
import resource
from dataclasses import dataclass

__all__ = [
    "FD_HEADROOM",
    "FdLimit",
    "describe_plan",
    "fit_open_files",
    "log_file_room",
    "nofile",
    "raise_soft_limit",
]

log = logging.getLogger("logbot.logs.writer")

#: Descriptors kept for everything but log files: 3 standard ones, the reactor's 3, the
#: health listener and its 32 clients, 2 gzip children (2 pipes each), exec plugins'
#: children (3 pipes each while they run), a socket per network and a few transient
#: files.  128 covers that with room for some 40 networks; under a small limit half of
#: it is kept instead (:func:`log_file_room`).
FD_HEADROOM = 128
#: Stands for "no limit" (``RLIM_INFINITY``) in the arithmetic below.
UNLIMITED = 1 << 62


@dataclass(frozen=True)
class FdLimit:
    """The soft and hard open-file limits (``UNLIMITED`` for infinity)."""

    soft: int
    hard: int

    def describe(self) -> str:
        def show(n: int) -> str:
            return "unlimited" if n >= UNLIMITED else str(n)

        return f"soft {show(self.soft)}, hard {show(self.hard)}"


def _finite(n: int) -> int:
    return UNLIMITED if n == resource.RLIM_INFINITY or n < 0 else n


def nofile() -> FdLimit:
    """This process's ``RLIMIT_NOFILE`` now."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    return FdLimit(_finite(soft), _finite(hard))


def log_file_room(soft: int) -> int:
    """How many log files a soft limit of ``soft`` leaves room for: all but
    :data:`FD_HEADROOM` descriptors, or half of them when the limit is below twice that
    (a bot under ``ulimit -n 64`` still logs, through 32 descriptors); at least 1."""
    return max(1, soft - min(FD_HEADROOM, soft // 2))


def raise_soft_limit(max_open_files: int) -> tuple[FdLimit, FdLimit]:
    """Raise the soft limit to ``max_open_files + FD_HEADROOM`` (at most the hard limit;
    never lowered).  Returns the limits before and after; a refusal (a sandbox that
    forbids ``setrlimit``) is logged as a warning and leaves the limit as it was."""
    before = nofile()
    wanted = min(before.hard, max_open_files + FD_HEADROOM)
    if wanted <= before.soft:
        return before, before
    hard = resource.RLIM_INFINITY if before.hard >= UNLIMITED else before.hard
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    except (ValueError, OSError) as e:
        log.warning("cannot raise the open-file limit (%s) to %d: %s", before.describe(), wanted, e)
        return before, before
    after = nofile()
    log.info("open-file limit raised: %s (was soft %d)", after.describe(), before.soft)
    return before, after


def fit_open_files(max_open_files: int, limit: FdLimit | None = None) -> int:
    """``max_open_files``, or less if the soft limit leaves no room for it (then with
    one warning that names both numbers and the limit)."""
    limit = limit or nofile()
    room = log_file_room(limit.soft)
    if max_open_files <= room:
        return max_open_files
    log.warning(
        "max_open_files is %d but the open-file limit (%s; %d kept for sockets, children "
        "and the health listener) leaves room for %d: at most %d log files will be open; "
        "raise the hard limit (ulimit -Hn, LimitNOFILE=) to keep more",
        max_open_files,
        limit.describe(),
        limit.soft - room,
        room,
        room,
    )
    return room


def describe_plan(max_open_files: int, limit: FdLimit | None = None) -> str:
    """One line for ``logbot check``: the limit here and what ``logbot run`` would do
    with it (raise the soft limit, and whether ``max_open_files`` then fits)."""
    limit = limit or nofile()
    soft = max(limit.soft, min(limit.hard, max_open_files + FD_HEADROOM))
    room = log_file_room(soft)
    raised = f"; run raises the soft limit to {soft}" if soft > limit.soft else ""
    if max_open_files <= room:
        verdict = f"max_open_files {max_open_files} fits"
    else:
        verdict = f"max_open_files {max_open_files} would be clamped to {room}"
    return f"open-file limit here: {limit.describe()}{raised}; {verdict}"
