"""Write errors: lines kept in order while a file cannot be written, and the retries.

A disk that is full, read-only, over quota or gone is an *outage* of each file it
holds.  The first failed attempt on a file logs one warning (the file and the error);
after that its lines, old and new, wait in the file's pending queue, in order, and
only the retry timer (every ``retry_interval`` seconds on the clock) touches the disk:
a line arriving during the outage is not another failed syscall and another warning.
When a retry writes everything, one info line says how long (in errors) the outage
was, how many delayed lines were written and how many were dropped.

The pending lines of all files together are bounded by ``max_pending``: memory is the
next thing to run out in a long outage.  Beyond it the *oldest* line of any file is
dropped (a sequence number orders lines across files); the newest lines are the ones
people still care about when the disk comes back.

For the health check, each failing file's outage start (on the clock) is kept:
``stats.pending_since`` is the earliest of those of files with lines still waiting, the
time the oldest pending line has waited, give or take the lines dropped.  It is
updated when a file starts or ends its outage, never per line.

This is separate from the writer so that each of the two stays readable; the writer
owns the files, this owns the outage state and calls back the writer to write.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from logbot.logs.logfile import LogFile

__all__ = ["Outages"]

log = logging.getLogger("logbot.logs.writer")  # the writer's logger: one place to watch

Emit = Callable[[LogFile, list[bytes]], "tuple[int, OSError | None]"]


class Outages:
    """The failing files, their pending lines and the retry timer."""

    def __init__(
        self,
        clock: Any,
        stats: Any,
        *,
        retry_interval: float,
        max_pending: int,
        emit: Emit,
        close: Callable[[LogFile], None],
        resumed: Callable[[LogFile], None],
    ) -> None:
        self._clock = clock
        self._stats = stats
        self.retry_interval = retry_interval
        self.max_pending = max_pending
        self._emit = emit  # write lines to a file: (lines written, error or None)
        self._close = close  # close a failed file's descriptor
        self._resumed = resumed  # a file's outage is over (the writer may finish it)
        self.failing: dict[Path, LogFile] = {}
        self.total = 0  # pending lines, all files
        self._seq = 0
        self._call: Any = None
        self._since: dict[Path, float] = {}  # failing file -> its outage's start (clock)

    def failed(self, f: LogFile, error: OSError, lines: list[bytes]) -> None:
        """An attempt to write ``lines`` (new ones) to ``f`` failed with ``error``."""
        self._stats.write_errors += 1
        if not f.failing:
            f.failing, f.fast = True, False
            f.errors = f.delayed = f.dropped = 0
            self.failing[f.path] = f
            self._since[f.path] = self._clock.seconds()
            log.warning(
                "cannot write %s: %s; keeping its lines, retrying every %g s",
                f.path,
                error.strerror or error,
                self.retry_interval,
            )
        f.errors += 1
        self._close(f)
        self.queue(f, lines)
        if self._call is None:
            self._call = self._clock.callLater(self.retry_interval, self.retry)

    def queue(self, f: LogFile, lines: list[bytes]) -> None:
        """Put new lines behind ``f``'s pending ones (``f`` is failing)."""
        seq = self._seq
        for data in lines:
            seq += 1
            f.pending.append((seq, data))
        self._seq = seq
        self.total += len(lines)
        while self.total > self.max_pending and self._drop_oldest():
            pass
        self._stats.pending = self.total
        if self._stats.pending_since is None and self.total:
            self._oldest()

    def _drop_oldest(self) -> bool:
        victims = [f for f in self.failing.values() if f.pending]
        if not victims:
            return False
        victim = min(victims, key=lambda f: f.pending[0][0])
        victim.pending.popleft()
        if not victim.pending:
            self._oldest()
        victim.dropped += 1
        self._stats.dropped += 1
        self.total -= 1
        return True

    def retry(self) -> None:
        """The timer: try every failing file, oldest pending line first."""
        self._call = None
        self.retry_all()
        if self.failing:
            self._call = self._clock.callLater(self.retry_interval, self.retry)

    def retry_all(self) -> None:
        files = sorted(
            self.failing.values(), key=lambda f: f.pending[0][0] if f.pending else self._seq + 1
        )
        for f in files:
            self.resume(f)

    def resume(self, f: LogFile) -> bool:
        """Try to write ``f``'s pending lines; True when its outage is over."""
        items = list(f.pending)
        f.pending.clear()
        self.total -= len(items)
        written, error = self._emit(f, [data for _, data in items])
        f.delayed += written
        if error is not None:
            self._stats.write_errors += 1
            f.errors += 1
            f.pending.extend(items[written:])
            self.total += len(items) - written
            self._stats.pending = self.total
            self._close(f)
            return False
        self._stats.pending = self.total
        del self.failing[f.path]
        self._since.pop(f.path, None)
        self._oldest()
        f.failing = False
        f.fast = f.line_mode and f.fd >= 0
        dropped = f"; {f.dropped} lines dropped (too many pending)" if f.dropped else ""
        log.info(
            "resumed writing %s after %d errors; %d delayed lines written%s",
            f.path,
            f.errors,
            f.delayed,
            dropped,
        )
        self._resumed(f)
        return True

    def _oldest(self) -> None:
        """Set ``stats.pending_since``: the earliest outage start of the files with lines
        waiting (None when none wait).  Called when the set of such files may change."""
        starts = [self._since[path] for path, f in self.failing.items() if f.pending]
        self._stats.pending_since = min(starts) if starts else None

    def cancel(self) -> None:
        if self._call is not None and self._call.active():
            self._call.cancel()
        self._call = None
