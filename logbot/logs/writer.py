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
  with the next file (:meth:`LogWriter._text_layout`).  One short read per file taken
  up, never per line.
* *No symbolic link below the root is followed* (:mod:`logbot.logs.safe_open`): not by
  the opens, the folders created, the size rotation's renames, compression or
  retention.  A link planted there is an error of that file like ``EACCES``: the
  outage warns once (naming the link, "symbolic link"), keeps the lines and retries;
  each refusal is counted in ``stats.unsafe_links``.

Every timer is on ``clock`` (the reactor, or a ``task.Clock`` in tests); retention reads
file ages against ``wall`` (``time.time()`` by default), injectable for the same reason.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import os
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from logbot.config.settings import LogOptions
from logbot.logs import paths, readback, safe_open
from logbot.logs.fdlimit import fit_open_files
from logbot.logs.formats import FORMATTERS, text_formatter
from logbot.logs.housekeeping import Compressor, Retention
from logbot.logs.logfile import Handles, LogFile
from logbot.logs.outage import Outages
from logbot.logs.record import LogRecord, restamped
from logbot.logs.rotation import (
    EARLIEST_USABLE,
    LATEST_USABLE,
    NEVER,
    TRUST_REFRESH,
    Seen,
    day_end,
    local_date,
    page_runs,
    rejection,
    size_chunks,
    trust_window,
    zone,
)
from logbot.logs.textread import layout_of

__all__ = ["BUFFER_LIMIT", "SWEEP_INTERVAL", "LogWriter", "WriterStats", "wall_clock"]

log = logging.getLogger("logbot.logs.writer")

#: With flush "interval", a file's buffer is written at once when it passes this.
BUFFER_LIMIT = 64 * 1024
#: Seconds between retention sweeps.
SWEEP_INTERVAL = 3600.0
#: Seconds between looks for channels whose day is over: their files are closed (and
#: compressed, if asked) within this long after midnight even if the channel is quiet.
DAY_CHECK_INTERVAL = 60.0
#: Targets (channels and private correspondents, per network) whose state is kept: the
#: date, time zone, trust window and file objects of each.  Beyond it the least
#: recently written one is dropped (its files written out and closed) and rebuilt, in
#: the same files, when it writes again.  About 3.5 KiB each: at most some 14 MiB,
#: where 50,000 correspondents of a ``private: true`` bot held 190 MiB.  4,096 keeps
#: every channel of a bot in thousands of them hot.
MAX_TARGETS = 4096


_WHY = {  # record.server_time_rejected, as the warning says it
    "ahead": "ahead of the local clock",
    "behind": "behind the local clock",
    "invalid": "not a usable time",
}


def wall_clock() -> float:
    """``time.time()``, looked up at each call (so ``freezegun`` can freeze it)."""
    return time.time()


def _layout(options: LogOptions) -> tuple[str, str | None]:
    return options.text_layout, options.time_format


@dataclass
class WriterStats:
    lines_written: int = 0  # lines (per format file) that reached the disk
    write_errors: int = 0  # failed open/write/fsync attempts
    pending: int = 0  # lines waiting for a retry
    pending_since: float | None = None  # clock seconds: the oldest waiting file's outage start
    dropped: int = 0  # lines given up (pending bound exceeded, unsafe path)
    files_open: int = 0
    unsafe_links: int = 0  # opens, renames, compressions, sweeps refused: a symbolic link

    def plus_counters(self, other: WriterStats) -> WriterStats:
        """These stats with ``other``'s counters added (the gauges stay these): totals
        that do not go back when a reload replaces the writer."""
        return dataclasses.replace(
            self,
            lines_written=self.lines_written + other.lines_written,
            write_errors=self.write_errors + other.write_errors,
            dropped=self.dropped + other.dropped,
            unsafe_links=self.unsafe_links + other.unsafe_links,
        )


class _Output:
    __slots__ = ("file", "fmt", "format")

    def __init__(self, fmt: str, format: Callable[..., str]) -> None:
        self.fmt = fmt
        self.format = format
        self.file: LogFile | None = None


class _Channel:
    """The hot path's cache for one (network, folded channel)."""

    __slots__ = (
        "date", "ends", "folded", "hi", "lo", "network", "options", "outputs", "seen", "tz",
        "used",
    )  # fmt: skip

    def __init__(self, network: str, folded: str, options: LogOptions, seen: Seen) -> None:
        self.network, self.folded, self.options, self.seen = network, folded, options, seen
        try:
            self.tz = zone(options.timezone)
        except (KeyError, ValueError):  # ZoneInfoNotFoundError is a KeyError
            log.error(
                "unknown time zone %r for %s %s: using UTC", options.timezone, network, folded
            )
            self.tz = UTC
        self.date: date | None = None
        self.ends: datetime = NEVER  # the first instant after ``date``: then, slow path
        # the server stamps taken as they are (LogWriter._tick); empty until the first line
        self.lo, self.hi = LATEST_USABLE, EARLIEST_USABLE
        # Written to again since created or since the eviction last passed it: a target
        # that wrote once (most private correspondents) goes first (LogWriter._evict).
        self.used = False
        self.outputs: list[_Output] = []
        for fmt in options.formats:
            if fmt == "text":  # its layout: see LogWriter._text_layout
                self.outputs.append(_Output(fmt, text_formatter(*_layout(options))))
            elif fmt in FORMATTERS:
                self.outputs.append(_Output(fmt, FORMATTERS[fmt]))
            else:
                log.error("unknown log format %r for %s %s: skipped", fmt, network, folded)


class LogWriter:
    """Appends records to their channel log files; see the module docstring."""

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
        self._channels: dict[tuple[str, str], _Channel] = {}  # at most max_targets
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

    # -- trusted stamps ---------------------------------------------------------------

    def _tick(self) -> None:
        """Move every channel's trust window with the wall clock, at most every
        ``TRUST_REFRESH`` seconds (or at once when the clock stepped back), so that the
        hot path compares a stamp with two instants instead of reading the clock."""
        now = self._wall()
        if self._tick_ends - TRUST_REFRESH <= now < self._tick_ends:
            return
        self._tick_ends = now + TRUST_REFRESH
        moment = datetime.fromtimestamp(now, UTC)
        windows: dict[float | None, tuple[datetime, datetime]] = {}
        for ch in self._channels.values():
            tolerance = ch.options.server_time_tolerance
            window = windows.get(tolerance)
            if window is None:
                window = windows[tolerance] = trust_window(moment, tolerance)
            ch.lo, ch.hi = window

    def _trusted(self, ch: _Channel, record: LogRecord) -> LogRecord:
        """``record`` with a stamp outside ``ch``'s window: judged again on the clock as
        it is now; a server stamp still outside is replaced by our time."""
        if record.time_source != "server":
            return record  # our own clock's: nothing better to use
        now = datetime.fromtimestamp(self._wall(), UTC)
        tolerance = ch.options.server_time_tolerance
        ch.lo, ch.hi = trust_window(now, tolerance)
        if ch.lo <= record.time <= ch.hi:
            return record
        why = rejection(record.time, now)
        if why == "behind" and record.replayed is not None:
            return record  # history is old by nature; only a stamp from the future is wrong
        out = restamped(record, now, why)
        if record.network not in self._untrusted:
            self._untrusted.add(record.network)
            log.warning(
                "%s: untrusted server-time stamps: %s in %s is %s (server_time_tolerance: %s);"
                " such lines are logged at the local time, the server's stamp kept in the"
                " JSONL as server_time; not reported again for this network",
                record.network,
                out.server_time,
                record.channel,
                _WHY[out.server_time_rejected or "invalid"],
                "null" if tolerance is None else f"{tolerance:g} s",
            )
        return out

    # -- channels and dates -----------------------------------------------------------

    def _channel(self, network: str, folded: str, options: LogOptions) -> _Channel:
        key = (network, folded)
        if key not in self._channels:
            if len(self._channels) >= self._max_targets:
                self._evict()
            self._ring.append(key)
        seen = self._seen.get(key)
        if seen is None:
            seen = self._seen[key] = Seen()
        old = self._channels.get(key)
        ch = self._channels[key] = _Channel(network, folded, options, seen)
        if old is not None:  # new options (a config reload): the files are re-acquired
            for out in old.outputs:
                if out.file is not None:
                    self._release(out.file, "released")
        return ch

    def _evict(self) -> None:
        """Drop the state of a target not written to lately, to stay at ``MAX_TARGETS``.

        Second chance (the CLOCK algorithm, an approximation of least recently used): the
        ring holds the keys oldest first; one whose target was written to again since
        (``used``) loses the mark and goes to the back, the first one unmarked is dropped.
        So the hot path pays one attribute store per line, not a reordering, and a flood
        of one-line correspondents evicts each other, not a channel that keeps talking.
        Each mark is cleared once: O(1) per line, amortized.

        The files are written out and released like a channel's at the end of its day:
        closed (compressed when that day is over, as the end-of-day check would have),
        and lines waiting out a failed disk stay with their file until written.  Its
        largest date goes too: rebuilt, it starts from its next record's date, in the
        same file when that is the same day (see :meth:`_roll` for a late line)."""
        ring, channels = self._ring, self._channels
        while True:
            key = ring.popleft()
            ch = channels[key]
            if not ch.used:
                break
            ch.used = False
            ring.append(key)
        del channels[key]
        self._seen.pop(key, None)
        over = (
            ch.ends is not NEVER
            and "{date" in ch.options.path
            and datetime.fromtimestamp(self._wall(), UTC) >= ch.ends
        )
        for out in ch.outputs:
            if out.file is not None:
                self._release(out.file, "rotated" if over else "released")
                out.file = None

    def _roll(self, ch: _Channel, when: datetime) -> bool:
        """Move ``ch`` to the files of ``when``'s date, or of the latest date seen."""
        day = ch.seen.place(local_date(when, ch.tz))
        options = ch.options
        try:
            rel = paths.render_path(options.path, ch.network, ch.folded, day)
            base = paths.resolve_under(self._root, rel)
            targets = [paths.with_format(base, out.fmt) for out in ch.outputs]
        except (ValueError, KeyError, IndexError, AttributeError, TypeError) as e:
            # UnsafePath (a ValueError), or a bad template that config validation let by
            self.stats.write_errors += 1
            self.stats.dropped += len(ch.outputs)
            key = (ch.network, ch.folded, options.path)
            if key not in self._unsafe_logged:
                if len(self._unsafe_logged) >= self._max_targets:
                    self._unsafe_logged.clear()  # bounded: at worst said again
                self._unsafe_logged.add(key)
                log.error("not logging %s %s: no safe log path (%s)", ch.network, ch.folded, e)
            return False
        if ch.date is None and self.housekeeping.busy().intersection(targets):
            # A target rebuilt after eviction, with a late line for a day whose file is
            # being compressed: the line goes to today's file, as if the state had stayed.
            today = local_date(datetime.fromtimestamp(self._wall(), UTC), ch.tz)
            if today > day:
                ch.seen.place(today)
                return self._roll(ch, when)
        for out, path in zip(ch.outputs, targets, strict=True):
            old = out.file
            if old is None or old.path != path:
                out.file = self._acquire(path, options)
                if out.fmt == "text":
                    out.format = self._text_layout(out.file, options)
                if old is not None:
                    self._release(old, "rotated")
                else:
                    self._catch_up(path, options)
        ch.date, ch.ends = day, day_end(day, ch.tz)
        if self._day_call is None and "{date" in options.path:
            self._day_call = self._clock.callLater(DAY_CHECK_INTERVAL, self._day_check)
        return True

    def _text_layout(self, f: LogFile, options: LogOptions) -> Callable[..., str]:
        """The text formatter for ``f``: the configured layout, unless the file already
        holds lines in another (an older logbot's, or before the config changed).

        A file is never mixed, so that every reader reads it whole.  With daily
        rotation the file goes on in its layout and the configured one starts with the
        next day's file; with size rotation the file is rotated to its next part at
        once.  Looked at once per file acquired (a day, a restart): its last line."""
        wanted = _layout(options)
        last = readback.last_line(self._root, f.path) if f.fd < 0 and not f.buffered else None
        found = None if last is None else layout_of(last, [wanted])
        if found is None or found == wanted:
            return text_formatter(*wanted)
        if options.rotation == "size":
            try:
                self._rotate_size(f)
            except OSError as e:
                log.warning(
                    "%s: cannot rotate it to start the %s text layout: %s", f.path, wanted[0], e
                )
            else:
                return text_formatter(*wanted)
        log.info(
            "%s was begun in the %s text layout: continued in it; %s starts with the next file",
            f.path,
            found[0],
            wanted[0],
        )
        return text_formatter(*found)

    def _acquire(self, path: Path, options: LogOptions) -> LogFile:
        f = self._files.get(path)
        if f is None:
            f = self._files[path] = LogFile(
                path,
                root=self._root,
                max_bytes=options.max_bytes if options.rotation == "size" else None,
                line_mode=options.flush != "interval",
                flush_interval=options.flush_interval,
                fsync_interval=options.fsync_interval,
                compress=options.compress == "gzip",
            )
        f.users += 1
        f.retired = None
        if options.retention_days is not None:
            self._retention.watch(path.parent, options.retention_days)
        return f

    def _release(self, f: LogFile, how: str) -> None:
        """``f`` is no longer live for one channel; the last one closes (compresses) it."""
        f.users -= 1
        if f.users > 0:
            return
        f.retired = how
        self._flush(f)
        if not f.failing:
            self._finish(f)

    def _resumed(self, f: LogFile) -> None:
        if f.retired is not None and f.users <= 0:
            self._finish(f)

    def _finish(self, f: LogFile) -> None:
        self._handles.stop_timers(f)
        self._handles.close(f)
        self._files.pop(f.path, None)
        if f.retired == "rotated" and f.compress and os.path.lexists(f.path):
            self.housekeeping.compress(f.path)

    def _catch_up(self, live: Path, options: LogOptions) -> None:
        """Compress this channel's files of earlier days that were left as they were (a
        restart across midnight, a crash).  Only when the folder is the channel's own
        (``{channel}`` names a folder of the path), so that every file in it is this
        channel's; "earlier" is "sorts before the live file", true of ``%Y-%m-%d``."""
        if options.compress != "gzip" or "{channel" not in options.path.rpartition("/")[0]:
            return
        try:  # no link followed: a planted one is reported when the file is written
            dir_fd = safe_open.open_dir(self._root, live.parent)
        except OSError:
            return
        try:
            names = os.listdir(dir_fd)
        except OSError:
            return
        finally:
            os.close(dir_fd)
        protected = self._protected()
        for name in sorted(names):
            if name < live.name and name.endswith(live.suffix):
                path = live.parent / name
                if path not in protected:
                    self.housekeeping.compress(path)

    def _day_check(self) -> None:
        """Close the files of channels whose day ended on the wall clock.

        Without this a quiet channel would keep yesterday's file open (and
        uncompressed) until its next line.  The channel's date moves to today, so a
        late-stamped line from yesterday goes to today's file, as it would have."""
        self._day_call = None
        now = datetime.fromtimestamp(self._wall(), UTC)
        waiting = False
        for ch in self._channels.values():
            if ch.ends is NEVER or "{date" not in ch.options.path:
                continue
            if now < ch.ends:
                waiting = True
                continue
            ch.seen.place(local_date(now, ch.tz))
            for out in ch.outputs:
                if out.file is not None:
                    self._release(out.file, "rotated")
                    out.file = None
            ch.date, ch.ends = None, NEVER
        if waiting:
            self._day_call = self._clock.callLater(DAY_CHECK_INTERVAL, self._day_check)

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

    def _rotate_size(self, f: LogFile) -> None:
        """Rename the live file to its next part (compressed if asked) and start anew.

        Through the folder's descriptor, reached without following a link: a link
        planted at the channel's folder must not get another folder's file renamed."""
        self._handles.close(f)
        dir_fd = safe_open.open_dir(self._root, f.path.parent)
        try:
            part = paths.part_path(f.path, paths.next_part_number(f.path, os.listdir(dir_fd)))
            os.rename(f.path.name, part.name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
        finally:
            os.close(dir_fd)
        if f.compress:
            self.housekeeping.compress(part)
        self._handles.open(f)

    def _protected(self) -> set[Path]:
        return set(self._files) | set(self._handles.lru) | self.housekeeping.busy()

    def has_target(self, network: str, folded: str) -> bool:
        """Whether the writer holds state for this target now (not evicted)."""
        return (network, folded) in self._channels

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
