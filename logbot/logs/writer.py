"""The channel log writer: which file a line goes to, and getting it there.

A log bot's one job is not losing lines, and its second is not stalling the IRC loop
while writing them.  Hence:

* *Durable, whole lines*: each line (or batch of whole lines) is one ``write(2)`` on an
  ``O_APPEND`` descriptor (:mod:`logbot.logs.logfile`), never a buffered file object.
  Between ``hold()`` and ``release()`` (the IRC client brackets each read from the
  server with them) the lines of each file are gathered and written at ``release()``:
  on disk before the bot replies or reads anything more, in about two writes per page
  of the file rather than one per line (``rotation.page_runs``: page boundaries, where
  the kernel may cut a write short on ``kill -9``, fall between lines or in a line
  written alone).
* *Write errors never reach the caller*: a disk that is full, read-only or gone costs a
  warning per file and outage, not a crash and not a warning per line; the lines wait,
  in order, for a retry (:mod:`logbot.logs.outage`).
* *Bounded descriptors*: at most ``max_open_files`` are open, least recently used closed
  first (:class:`~logbot.logs.logfile.Handles`), and no more than the open-file limit
  leaves room for (:mod:`logbot.logs.fdlimit`): an open refused with ``EMFILE`` closes
  least recently used files and tries again.
* *A cheap hot path*: per (network, folded channel) an entry holds the time zone, the
  current date, the UTC instant that date ends and the file per format.  A record before
  that instant (nearly all of them) is formatted and written without rendering a path
  or converting a time zone.  Dates only move forward (:mod:`logbot.logs.rotation`).
* *Stamps it can trust*: a ``server-time`` stamp outside the channel's trust window
  (``server_time_tolerance`` of the wall clock, read once per read from the server) is
  replaced by the wall clock's time, the server's kept in the record; warned once per
  network.  One comparison per line (:func:`~logbot.logs.rotation.trust_window`).
* *Nothing slow in the loop*: compression runs in child processes, retention is an
  hourly sweep (:mod:`logbot.logs.housekeeping`).
* *A text file is never mixed*: readers such as irclog2html and pisg read a file in one
  layout, so a text file is continued in the layout of its last line (an older
  logbot's, or the one before ``text_layout`` changed), the configured one starting
  with the next file (:meth:`~logbot.logs.livefiles.LiveFiles._text_layout`).  One
  short read per file taken up, never per line.
* *No symbolic link below the root is followed* (:mod:`logbot.logs.safe_open`): not by
  the opens, the folders created, the size rotation's renames, compression or
  retention.  A link planted there is an error of that file like ``EACCES``: the
  outage warns once (naming the link, "symbolic link"), keeps the lines and retries;
  each refusal is counted in ``stats.unsafe_links``.

Every timer is on ``clock`` (the reactor, or a ``task.Clock`` in tests); retention reads
file ages against ``wall`` (``time.time()`` by default), injectable for the same reason.
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections import deque
from collections.abc import Callable, Sequence
from datetime import UTC
from pathlib import Path
from typing import Any

from logbot.config.settings import LogOptions
from logbot.logs import safe_open
from logbot.logs.fdlimit import fit_open_files
from logbot.logs.housekeeping import Compressor, Retention
from logbot.logs.livefiles import DAY_CHECK_INTERVAL as DAY_CHECK_INTERVAL
from logbot.logs.livefiles import LiveFiles
from logbot.logs.logfile import Handles, LogFile
from logbot.logs.outage import Outages
from logbot.logs.record import LogRecord
from logbot.logs.rotation import Seen, page_runs, size_chunks
from logbot.logs.server_time import ServerTime
from logbot.logs.stats import WriterStats
from logbot.logs.targets import MAX_TARGETS, Channel, Targets

__all__ = ["BUFFER_LIMIT", "SWEEP_INTERVAL", "LogWriter", "WriterStats", "wall_clock"]

log = logging.getLogger("logbot.logs.writer")

#: With flush "interval", a file's buffer is written at once when it passes this.
BUFFER_LIMIT = 64 * 1024
#: Seconds between retention sweeps.
SWEEP_INTERVAL = 3600.0


def wall_clock() -> float:
    """``time.time()``, looked up at each call (so ``freezegun`` can freeze it)."""
    return time.time()


class LogWriter(LiveFiles, Targets, ServerTime):
    """Appends records to their channel log files; see the module docstring.

    The per-line code is here; what runs when a target starts, a date moves or a
    file ends is in its bases (:mod:`logbot.logs.livefiles`,
    :mod:`logbot.logs.targets`, :mod:`logbot.logs.server_time`), which share this
    object's state (made here) and add no call or lookup per line."""

    def __init__(
        self,
        clock: Any,
        *,
        root: str | Path,
        max_open_files: int = 512,
        wall: Callable[[], float] = wall_clock,
        spawner: Any = None,
        retry_interval: float = 5.0,
        max_pending: int = 100_000,
        gzip_argv: Sequence[str] | None = None,
        max_targets: int = MAX_TARGETS,
    ) -> None:
        self._clock = clock
        self._root = Path(os.path.abspath(root))
        self.stats = WriterStats()
        self.housekeeping = Compressor(
            spawner, gzip_argv, root=self._root, on_unsafe_link=self._unsafe_link
        )
        self._channels: dict[tuple[str, str], Channel] = {}  # at most max_targets
        self._ring: deque[tuple[str, str]] = deque()  # _channels' keys, for _evict
        self._max_targets = max(1, max_targets)
        self._seen: dict[tuple[str, str], Seen] = {}  # a key of _channels' each
        self._files: dict[Path, LogFile] = {}  # live files and files with pending lines
        max_open_files = fit_open_files(max_open_files)  # under ``ulimit -n``, with room
        self._handles = Handles(clock, self.stats, max_open_files, evicting=self._flush)
        self._outages = Outages(
            clock,
            self.stats,
            retry_interval=retry_interval,
            max_pending=max_pending,
            emit=self._emit,
            close=self._handles.close,
            resumed=self._resumed,
        )
        self._retention = Retention(
            clock,
            wall,
            self._protected,
            SWEEP_INTERVAL,
            max_dirs=self._max_targets,
            root=self._root,
            on_unsafe_link=self._unsafe_link,
        )
        self._wall = wall
        self._day_call: Any = None
        self._unsafe_logged: set[tuple[str, str, str]] = set()
        self._held: list[LogFile] | None = None  # files with lines gathered since hold()
        self._tick_ends = -math.inf  # the trust windows are good until this wall time
        self._untrusted: set[str] = set()  # networks warned about their server-time

    # -- the hot path -----------------------------------------------------------------

    def write(self, record: LogRecord, folded_channel: str, options: LogOptions) -> None:
        """Append ``record`` to its file of each format (of ``record.only``, when set);
        never raises for I/O problems."""
        ch = self._channels.get((record.network, folded_channel))
        if ch is None or ch.options is not options:
            ch = self._channel(record.network, folded_channel, options)
        else:
            ch.used = True  # kept at the next eviction: one store, no reordering per line
        held = self._held
        if held is None:  # else hold() read the clock
            self._tick()
        when = record.time
        try:
            if not ch.lo <= when <= ch.hi:
                record = self._trusted(ch, record)
                when = record.time
            moved = when >= ch.ends
        except TypeError:  # a naive time: taken as UTC
            when, moved = when.replace(tzinfo=UTC), True
        if moved and not self._roll(ch, when):
            return
        tz = ch.tz
        outputs = ch.outputs
        if record.only is not None:  # a netsplit's: the summary as text, the QUITs as jsonl
            outputs = [out for out in outputs if out.fmt == record.only]
        for out in outputs:
            text = out.format(record, tz)
            try:
                data = text.encode("utf-8", "surrogateescape")
            except UnicodeEncodeError:
                data = text.encode("utf-8", "replace")
            f: LogFile = out.file  # type: ignore[assignment]
            if held is not None and f.fast:
                if f.size + f.buffered + len(data) <= f.limit:
                    f.buffer.append(data)
                    f.buffered += len(data)
                    if not f.held:
                        f.held = True
                        held.append(f)
                        self._handles.lru.move_to_end(f.path)
                    continue
                self._flush(f)  # the size limit: what is gathered first, then rotate
            if f.fast and f.size + len(data) <= f.limit:
                try:
                    f.append(data)
                except OSError as e:
                    self._outages.failed(f, e, [data])
                    continue
                self.stats.lines_written += 1
                self._handles.lru.move_to_end(f.path)
                if f.fsync_interval is not None and not f.dirty:
                    self._handles.dirty(f)
            else:
                self._put(f, data)

    # -- writing ----------------------------------------------------------------------

    def _put(self, f: LogFile, data: bytes) -> None:
        """The slow path for one line: queue, buffer, or open and write."""
        if f.failing:
            self._outages.queue(f, [data])
        elif not f.line_mode:
            f.buffer.append(data)
            f.buffered += len(data)
            if f.buffered >= BUFFER_LIMIT:
                self._flush(f)
            elif f.flush_call is None:
                f.flush_call = self._clock.callLater(f.flush_interval, self._flush, f)
        else:
            self._emit_new(f, [data])

    def _flush(self, f: LogFile) -> None:
        call, f.flush_call = f.flush_call, None
        if call is not None and call.active():
            call.cancel()
        lines, f.buffer, f.buffered = f.buffer, [], 0
        if not lines:
            return
        if f.failing:
            self._outages.queue(f, lines)
        else:
            self._emit_new(f, lines)

    def _emit_new(self, f: LogFile, lines: list[bytes]) -> None:
        written, error = self._emit(f, lines)
        if error is not None:
            self._outages.failed(f, error, lines[written:])

    def _emit(self, f: LogFile, lines: list[bytes]) -> tuple[int, OSError | None]:
        """Write ``lines``: one write per run, rotating by size between runs.

        Returns how many were written and the error that stopped the rest, if any.
        """
        done, error = 0, None
        try:
            if f.fd < 0:
                self._handles.open(f)
            lengths = [len(b) for b in lines]
            for rotate, start, stop in size_chunks(f.size, lengths, f.max_bytes):
                if rotate:
                    self._rotate_size(f)
                for a, b in page_runs(f.size, lengths, start, stop):
                    f.append(lines[a] if b - a == 1 else b"".join(lines[a:b]))
                    done = b
                    self.stats.lines_written += b - a
        except OSError as e:
            error = e
            if isinstance(e, safe_open.UnsafeLink):
                self._unsafe_link(e)
        if done and f.fd >= 0:
            self._handles.wrote(f)
        return done, error

    def _unsafe_link(self, error: safe_open.UnsafeLink) -> None:
        """A symbolic link refused below the root (the warning is the caller's)."""
        self.stats.unsafe_links += 1

    def state_sizes(self) -> dict[str, int]:
        """How many entries each per-target or per-file structure holds: what memory the
        writer keeps grows with these, so tests and benches count them."""
        return {
            "targets": len(self._channels),
            "dates": len(self._seen),
            "files": len(self._files),
            "open": len(self._handles.lru),
            "failing": len(self._outages.failing),
            "retention_dirs": len(self._retention.dirs),
            "unsafe_logged": len(self._unsafe_logged),
        }

    def pending_targets(self) -> list[str]:
        """The channels (``network #channel``) whose lines wait for a failed file, for
        the health report and the exit message: read off the channel cache, so a target
        evicted since is named by its file's path under the root instead."""
        failing = {p for p, f in self._outages.failing.items() if f.pending}
        if not failing:
            return []
        names: set[str] = set()
        named: set[Path] = set()  # a file may be several channels' (no {channel} in it)
        for ch in self._channels.values():
            for out in ch.outputs:
                if out.file is not None and out.file.path in failing:
                    names.add(f"{ch.network} {ch.folded}")
                    named.add(out.file.path)
        for path in failing - named:
            try:
                names.add(str(path.relative_to(self._root)))
            except ValueError:
                names.add(str(path))
        return sorted(names)

    # -- the rest of the API ----------------------------------------------------------

    @property
    def root(self) -> Path:
        """The log root (absolute): where :mod:`logbot.logs.readback` reads from."""
        return self._root

    def hold(self) -> bool:
        """Gather lines (per file, in order) until :meth:`release`; False if already
        holding (then the caller must not release)."""
        if self._held is not None:
            return False
        self._held = []
        self._tick()  # the lines of one read are judged against the time it came
        return True

    def release(self) -> None:
        """Write what was gathered since :meth:`hold`: one write per file."""
        held, self._held = self._held, None
        for f in held or ():
            f.held = False
            if f.buffer and f.line_mode:
                self._flush(f)

    def sweep(self) -> list[Path]:
        """Delete expired log files now (it also runs hourly); returns them."""
        return self._retention.sweep()

    def flush(self) -> None:
        """Write out the lines buffered by flush "interval"."""
        for f in list(self._files.values()):
            if f.buffer:
                self._flush(f)

    def reopen(self) -> None:
        """Close every descriptor, after writing the buffers; the next line reopens.

        For SIGHUP, after logrotate moved the files away.
        """
        self.flush()
        for f in list(self._handles.lru.values()):
            self._handles.close(f)

    def close(self) -> None:
        """Flush, retry pending lines once, fsync and close everything, stop the timers.

        How many lines could still not be written is logged, as an error.
        """
        self.flush()
        self._outages.retry_all()
        self._outages.cancel()
        self._retention.stop()
        if self._day_call is not None and self._day_call.active():
            self._day_call.cancel()
        self._day_call = None
        for f in list(self._files.values()):
            self._handles.stop_timers(f)
            self._handles.close(f, sync=True)
        if self._outages.total:
            failing = ", ".join(str(p) for p in self._outages.failing)
            log.error("%d log lines could not be written (to %s)", self._outages.total, failing)
