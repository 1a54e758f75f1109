"""Which files a target's lines go to, and each file's life: taken up, let go, closed.

A target moves to the files of a new date only when a record's date passes the end of
its current one (:meth:`LiveFiles._roll`, rare: the hot path compares one instant).
Files are shared by the targets whose path renders the same: the first user acquires
one, the last one's release writes it out, closes it and compresses it if its day is
over; a quiet channel's day is closed within ``DAY_CHECK_INTERVAL`` after midnight
(:meth:`LiveFiles._day_check`).  A text file is continued in the layout of its last
line (:meth:`LiveFiles._text_layout`); a file rotated by size is renamed to its next
part through its folder's descriptor (:meth:`LiveFiles._rotate_size`).

Apart from :mod:`logbot.logs.writer` because none of it runs per line: it runs when a
target starts, a date moves, a file fills up or a day ends.  :class:`LiveFiles` is a
base class of :class:`~logbot.logs.writer.LogWriter`, not an object of its own: it has
no state of its own (``LogWriter.__init__`` makes every attribute it names), and the
hot path calls ``self._roll`` exactly as before, with no extra call or lookup.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from logbot.config.settings import LogOptions
from logbot.logs import paths, readback, safe_open
from logbot.logs.formats import text_formatter
from logbot.logs.housekeeping import Compressor, Retention
from logbot.logs.logfile import Handles, LogFile
from logbot.logs.rotation import NEVER, day_end, local_date
from logbot.logs.stats import WriterStats
from logbot.logs.targets import Channel, configured_layout
from logbot.logs.textread import layout_of

__all__ = ["DAY_CHECK_INTERVAL", "LiveFiles"]

log = logging.getLogger("logbot.logs.writer")  # the writer's logger: one place to watch

#: Seconds between looks for channels whose day is over: their files are closed (and
#: compressed, if asked) within this long after midnight even if the channel is quiet.
DAY_CHECK_INTERVAL = 60.0


class LiveFiles:
    """Targets' dates and files: acquired, released, closed, compressed, rotated by
    size; a base of :class:`~logbot.logs.writer.LogWriter`."""

    stats: WriterStats
    housekeeping: Compressor
    _clock: Any
    _wall: Callable[[], float]
    _root: Path
    _channels: dict[tuple[str, str], Channel]
    _max_targets: int
    _files: dict[Path, LogFile]  # live files and files with pending lines
    _handles: Handles
    _retention: Retention
    _day_call: Any
    _unsafe_logged: set[tuple[str, str, str]]
    _flush: Callable[[LogFile], None]

    def _roll(self, ch: Channel, when: datetime) -> bool:
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
        wanted = configured_layout(options)
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
