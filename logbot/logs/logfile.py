"""One log file: a raw descriptor, its size, its buffered and its pending lines.

Why raw ``os.open``/``os.write`` and not a Python file object: a file object buffers, and
a ``kill -9`` (or OOM kill) between two flushes leaves half a line on disk.  Here a line
(or a batch of whole lines) is one ``write(2)`` on an ``O_APPEND`` descriptor, so the file
ends between lines -- but for one case no user-space code can close: SIGKILL may stop a
write at a page boundary of the file (``rotation.page_runs`` keeps that to lines written
alone), and then :func:`repair_tail` cuts the torn line off when the file is next opened.
A *short* write (the disk filled up mid-line) is undone with ``ftruncate`` at once and
reported as ``ENOSPC``.

The file and its folders are opened below the log root without following a symbolic
link (:mod:`logbot.logs.safe_open`): a link planted in the way raises
:class:`~logbot.logs.safe_open.UnsafeLink` before anything is written or truncated (the
repair included), and the writer keeps the lines as for any error of that file.

:class:`LogFile` only does I/O and keeps state; ``OSError`` propagates.  :class:`Handles`
bounds the open descriptors (an ``OrderedDict`` as LRU: a bot in thousands of channels
must stay under ``ulimit -n``) and runs the fsync timers.  When to retry and what to log
about a failed write is :mod:`logbot.logs.outage`'s business.
"""

from __future__ import annotations

import errno
import logging
import os
from collections import OrderedDict, deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

from logbot.logs import safe_open

__all__ = ["FLAGS", "Handles", "LogFile"]

log = logging.getLogger("logbot.logs.writer")

# O_RDWR, not O_WRONLY: on opening, the last byte is read to repair a torn tail.
# safe_open adds O_NOFOLLOW (and O_NONBLOCK, which a regular file ignores).
FLAGS = os.O_RDWR | os.O_APPEND | os.O_CREAT | getattr(os, "O_CLOEXEC", 0)
TAIL_SCAN = 1 << 16  # how far back a torn tail is looked for
FILE_MODE = safe_open.FILE_MODE
DIR_MODE = safe_open.DIR_MODE
#: Used as "no size limit" so that the hot path compares ints, never None.
NO_LIMIT = 1 << 62
#: An open refused for want of descriptors closes this fraction (1/N) of the open logs,
#: least recently used first, before it tries again: one refused open makes room for
#: several more, and the logs in use stay open.
EVICT_SHARE = 8
OUT_OF_DESCRIPTORS = frozenset({errno.EMFILE, errno.ENFILE})


class LogFile:
    """State of one file (by path).  ``fast`` is true when a line may be written at once:
    line mode, descriptor open, nothing pending."""

    __slots__ = (
        "buffer",
        "buffered",
        "compress",
        "delayed",
        "dirty",
        "dropped",
        "errors",
        "failing",
        "fast",
        "fd",
        "flush_call",
        "flush_interval",
        "fsync_call",
        "fsync_interval",
        "held",
        "limit",
        "line_mode",
        "path",
        "pending",
        "retired",
        "root",
        "size",
        "users",
    )

    def __init__(
        self,
        path: Path,
        *,
        root: Path | None = None,
        max_bytes: int | None = None,
        line_mode: bool = True,
        flush_interval: float = 1.0,
        fsync_interval: float | None = None,
        compress: bool = False,
    ) -> None:
        self.path = path
        # the log root: no link below it is followed (None: the file's own folder)
        self.root = path.parent if root is None else root
        self.fd = -1
        self.size = 0
        self.limit = max_bytes if max_bytes is not None else NO_LIMIT
        self.line_mode = line_mode
        self.flush_interval = flush_interval
        self.fsync_interval = fsync_interval
        self.compress = compress
        self.fast = False
        self.held = False  # has lines buffered until the writer's release()
        self.buffer: list[bytes] = []  # flush "interval": lines not written yet
        self.buffered = 0  # bytes in buffer
        self.flush_call: Any = None
        self.fsync_call: Any = None
        self.dirty = False  # written since the last fsync
        self.pending: deque[tuple[int, bytes]] = deque()  # (sequence, line) after an error
        self.failing = False  # in an outage: lines go to pending, the retry timer writes
        self.errors = 0  # failed attempts in this outage
        self.delayed = 0  # pending lines written in this outage (partial retries)
        self.dropped = 0  # pending lines dropped in this outage
        self.users = 0  # channel cache entries that write here now
        # None while live; "rotated" (close and compress) or "released" (close) once the
        # last user left: done when the pending lines are written.
        self.retired: str | None = None

    @property
    def max_bytes(self) -> int | None:
        return None if self.limit == NO_LIMIT else self.limit

    def open(self) -> None:
        """Open (creating the file and its directories) and read the size.

        :raises safe_open.UnsafeLink: a folder below the root, or the file, is a
            symbolic link (nothing was opened, created or truncated through it).
        """
        path = self.path
        fd = safe_open.open_file(self.root, path, FLAGS, FILE_MODE, dir_mode=DIR_MODE)
        try:
            self.size = os.fstat(fd).st_size
            if self.size:
                self.size = repair_tail(fd, self.size, path)
        except OSError:
            os.close(fd)
            raise
        self.fd = fd
        self.fast = self.line_mode and not self.failing

    def append(self, data: bytes) -> None:
        """Write ``data`` with one ``write``; all of it or, as far as the disk goes, none."""
        written = os.write(self.fd, data)
        if written != len(data):
            self.undo(written)
            raise OSError(
                errno.ENOSPC,
                f"{os.strerror(errno.ENOSPC)} (wrote {written} of {len(data)} bytes; undone)",
            )
        self.size += written

    def undo(self, written: int) -> None:
        """Cut the ``written`` bytes of a short write off the end of the file."""
        try:
            end = os.fstat(self.fd).st_size
            os.ftruncate(self.fd, max(0, end - written))
            self.size = end - written
        except OSError:
            pass  # nothing more can be done; the next line starts on a torn one

    def fsync(self) -> None:
        self.dirty = False
        if self.fd >= 0:
            os.fsync(self.fd)

    def close_fd(self) -> None:
        """Close the descriptor (errors on close are not actionable: ignored)."""
        fd, self.fd = self.fd, -1
        self.fast = False
        if fd >= 0:
            try:
                os.close(fd)
            except OSError:
                pass

    def __repr__(self) -> str:
        return f"<LogFile {self.path} fd={self.fd} size={self.size} pending={len(self.pending)}>"


class Handles:
    """The open descriptors, at most ``max_open``: the least recently used is closed first.

    Also the fsync timers: with ``fsync_interval`` set, a file written since its last
    fsync is fsynced that many seconds after the first such write, and when closed.
    ``evicting(f)`` is called before ``f`` is closed to make room (the writer writes
    out its buffer).  ``stats`` gets ``files_open`` and, for fsync failures,
    ``write_errors``.
    """

    def __init__(
        self, clock: Any, stats: Any, max_open: int, evicting: Callable[[LogFile], None]
    ) -> None:
        self._clock = clock
        self._stats = stats
        self.max_open = max(1, max_open)
        self._evicting = evicting
        self.lru: OrderedDict[Path, LogFile] = OrderedDict()  # oldest first
        self.descriptor_shortages = 0  # opens refused with EMFILE/ENFILE (then retried)

    def open(self, f: LogFile) -> None:
        """Open ``f``, closing the least recently used files if there is no room.

        Room is ``max_open``, and also what the process's open-file limit leaves: an
        open refused with ``EMFILE`` (this process is at ``ulimit -n``) or ``ENFILE``
        (the system is) closes the least recently used eighth of the open logs and
        tries again, until it succeeds or none is left to close (then the error goes
        to the caller, whose outage retries later).  Without this a ``max_open`` above
        the limit (or descriptors taken by other parts of the process) kept every
        open log pinned and every further log failing for ever."""
        lru = self.lru
        while len(lru) >= self.max_open:
            self._evict(1)
        while True:
            try:
                f.open()
                break
            except OSError as e:
                if e.errno not in OUT_OF_DESCRIPTORS or not lru:
                    raise
                self._out_of_descriptors(f, e)
        lru[f.path] = f
        self._stats.files_open = len(lru)

    def _evict(self, count: int) -> None:
        """Close the ``count`` least recently used files (their buffers written first)."""
        lru = self.lru
        for _ in range(min(count, len(lru))):
            victim = next(iter(lru.values()))
            self._evicting(victim)
            self.close(victim)  # also when ``evicting`` failed it (then it is closed)

    def _out_of_descriptors(self, f: LogFile, error: OSError) -> None:
        count = max(1, len(self.lru) // EVICT_SHARE)
        self.descriptor_shortages += 1
        say = log.warning if self.descriptor_shortages == 1 else log.debug
        say(
            "too many open files (%s) opening %s with %d logs open: closing the %d least "
            "recently used and retrying (said once; lower max_open_files or raise ulimit -n)",
            errno.errorcode.get(error.errno or 0, error.errno),
            f.path,
            len(self.lru),
            count,
        )
        self._evict(count)

    def close(self, f: LogFile, sync: bool = False) -> None:
        """Close ``f``'s descriptor, fsyncing first if it is dirty (or ``sync``)."""
        if f.fd < 0:
            return
        if f.dirty or sync:
            self.fsync(f)
        f.close_fd()
        self.lru.pop(f.path, None)
        self._stats.files_open = len(self.lru)

    def wrote(self, f: LogFile) -> None:
        """``f`` was just written: most recently used, and due an fsync."""
        self.lru.move_to_end(f.path)
        if f.fsync_interval is not None and not f.dirty:
            self.dirty(f)

    def dirty(self, f: LogFile) -> None:
        f.dirty = True
        if f.fsync_call is None:
            f.fsync_call = self._clock.callLater(f.fsync_interval, self.fsync, f)

    def fsync(self, f: LogFile) -> None:
        """Fsync ``f`` now (the timer calls this); errors are counted and logged."""
        self.stop_timers(f, flush=False)
        try:
            f.fsync()
        except OSError as e:
            self._stats.write_errors += 1
            if not f.failing:  # in an outage, the outage's warning says enough
                log.warning("cannot fsync %s: %s", f.path, e.strerror or e)

    @staticmethod
    def stop_timers(f: LogFile, flush: bool = True) -> None:
        """Cancel ``f``'s fsync timer (and its flush timer, if ``flush``)."""
        for name in ("fsync_call", "flush_call") if flush else ("fsync_call",):
            call = getattr(f, name)
            setattr(f, name, None)
            if call is not None and call.active():
                call.cancel()


def repair_tail(fd: int, size: int, path: Path) -> int:
    """Cut a torn last line (no final newline) off an existing log; the new size.

    One ``write(2)`` per line keeps lines whole against ``kill -9`` in practice, but
    the kernel may stop a write between two pages when a fatal signal arrives, and a
    power cut can leave anything.  Whatever the cause, the bytes after the last
    newline are not a line: they are dropped (and reported) so that the next line
    starts on a line of its own.  Costs one ``pread`` of one byte per open."""
    if os.pread(fd, 1, size - 1) == b"\n":
        return size
    start = max(0, size - TAIL_SCAN)
    chunk = os.pread(fd, size - start, start)
    cut = chunk.rfind(b"\n")
    keep = start + cut + 1 if cut >= 0 else (0 if start == 0 else size)
    if keep == size:
        return size  # a line longer than the scan: leave it rather than guess
    os.ftruncate(fd, keep)
    log.warning(
        "%s: removed a torn last line (%d bytes) left by an earlier crash", path, size - keep
    )
    return keep
