"""Reading a channel's own log back: what it already holds, for history replays.

When a server or bouncer replays history after a gap (:mod:`logbot.bot.replay`), the
lines already in the log must not be written twice, and after a restart the gap starts
at the log's last line.  The log on disk is the one source of truth for both: it
survives ``kill -9``, and it costs the hot path nothing (no second record of every
line kept somewhere); it is read only when history arrives or a channel is first
joined.

The channel's ``jsonl`` file is read when it has that format (every field, the
time to the millisecond, the ``msgid``), else its ``text`` file, in whichever layout
each line was written (:mod:`logbot.logs.textread`: the time to the second or, in
irssi's, to the minute; the type, nick and text the body says).  Either way an
entry's :attr:`Logged.key` is what :func:`content_key` gives for a record, so records
and log lines compare alike.  Compressed days (``.gz``) are read too.

Bounded: at most :data:`READBACK_DAYS` files (days) per look, and of each only the
last :data:`READBACK_BYTES` bytes.  A line that does not parse is skipped.  The files
are opened without following a symbolic link below the log root
(:mod:`logbot.logs.safe_open`), as the writer opens them.
"""

from __future__ import annotations

import gzip
import json
import logging
import os
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any

from logbot.config.settings import LogOptions
from logbot.logs import paths, safe_open
from logbot.logs.record import MARKERS, LogRecord
from logbot.logs.rotation import local_date, zone
from logbot.logs.textread import TextReader, unescape

__all__ = [
    "READBACK_BYTES",
    "READBACK_DAYS",
    "Logged",
    "content_key",
    "last_line",
    "last_time",
    "logged_since",
    "readback_format",
]

log = logging.getLogger(__name__)

#: Bytes read from the end of each day's file (a busy channel's day is some MiB).
READBACK_BYTES = 8 * 1024 * 1024
#: Days (files) read at most, newest first: history older than that is not checked.
READBACK_DAYS = 8
_TAIL_FOR_LAST = 64 * 1024  # bytes read to find a file's last line


@dataclass(frozen=True, slots=True)
class Logged:
    """One line already in the log."""

    time: datetime  # aware
    key: tuple[str, ...]  # content_key() of the record it was written from
    msgid: str | None
    marker: bool  # a line of the bot's own (connect, gap...)
    # Seconds after ``time`` the line may have been said: 60 for a text time written
    # without its seconds, else 0 (the dedupe slack covers a second cut off).
    span: int = 0


def readback_format(options: LogOptions) -> str | None:
    """The format read back for a channel with ``options``: jsonl if written, else
    text, else None (nothing readable)."""
    if "jsonl" in options.formats:
        return "jsonl"
    if "text" in options.formats:
        return "text"
    return None


def content_key(record: LogRecord, fmt: str) -> tuple[str, ...]:
    """What identifies a line's content: (type, nick, text), in either format (a text
    line's are read from its body in any layout, its text unescaped), so a log whose
    layout changed, or that an older logbot wrote, still matches."""
    return (record.type, record.nick or "", record.text or "")


def _paths(root: Path, options: LogOptions, network: str, folded: str, day: date) -> Path:
    rel = paths.render_path(options.path, network, folded, day)
    return paths.resolve_under(root, rel)


def _tail_lines(root: Path, path: Path, limit: int) -> list[bytes]:
    """The last whole lines of ``path`` within ``limit`` bytes (a ``.gz`` sibling when
    the plain file is gone); [] when neither can be read.  No link below ``root`` is
    followed."""
    name = os.fspath(path)
    if not (os.path.lexists(name) or os.path.lexists(name + ".gz")):
        # Nothing there (a channel's first join, a day without a file): one lstat each
        # instead of the safe walk's open per folder, for each of READBACK_DAYS days,
        # which cost a 10,000-channel bot a millisecond per channel it joined.
        return []
    try:
        with open(safe_open.open_file(root, path, os.O_RDONLY), "rb") as f:
            size = os.fstat(f.fileno()).st_size
            start = max(0, size - limit)
            f.seek(start)
            data = f.read(limit)
        lines = data.split(b"\n")
        if start > 0:
            lines = lines[1:]  # cut in the middle of a line
        return [line for line in lines if line]
    except FileNotFoundError:
        pass
    except OSError as e:
        log.warning("cannot read back %s: %s", path, e.strerror or e)
        return []
    packed = path.with_name(path.name + ".gz")
    try:
        kept: deque[bytes] = deque()
        total = 0
        with (
            open(safe_open.open_file(root, packed, os.O_RDONLY), "rb") as raw,
            gzip.open(raw, "rb") as g,
        ):
            for line in g:
                kept.append(line.rstrip(b"\n"))
                total += len(line)
                while total > limit and kept:
                    total -= len(kept.popleft()) + 1
        return [line for line in kept if line]
    except FileNotFoundError:
        return []
    except (OSError, EOFError, gzip.BadGzipFile) as e:
        log.warning("cannot read back %s: %s", packed, e)
        return []


def _jsonl_time(line: bytes) -> datetime | None:
    """The time of a line the jsonl format wrote (it starts ``{"time":"...``), read
    without parsing the JSON: most lines read back are older than wanted."""
    if not line.startswith(b'{"time":"'):
        return None
    end = line.find(b'"', 9)
    try:
        return datetime.fromisoformat(line[9:end].decode("ascii"))
    except (ValueError, UnicodeDecodeError):
        return None


def _parse_jsonl(line: bytes, since: datetime | None = None) -> Logged | None:
    if since is not None:
        when = _jsonl_time(line)
        if when is not None and when.tzinfo is not None and when < since:
            return None
    try:
        obj: Any = json.loads(line)
        when = datetime.fromisoformat(obj["time"])
        kind = obj["type"]
        key = (kind, obj.get("nick") or "", obj.get("text") or "")
        msgid = obj.get("msgid")
    except (ValueError, KeyError, TypeError):
        return None
    if when.tzinfo is None or not isinstance(kind, str) or not all(isinstance(k, str) for k in key):
        return None
    return Logged(when, key, msgid if isinstance(msgid, str) else None, kind in MARKERS)


def _text_parser(options: LogOptions, tz: tzinfo) -> Callable[[bytes, date], Logged | None]:
    """What reads a text line of a file of a given day (the date of a time written
    without one), in the channel's layout or any other logbot wrote."""
    reader = TextReader((options.text_layout, options.time_format), tz)

    def parse(line: bytes, day: date) -> Logged | None:
        got = reader.read(line.decode("utf-8", "surrogateescape"), day)
        if got is None:
            return None
        key = (got.type, got.nick or "", unescape(got.text or ""))
        return Logged(got.time, key, None, got.type == "marker", got.span if got.span > 1 else 0)

    return parse


def _parser(
    fmt: str, options: LogOptions, tz: tzinfo, since: datetime | None = None
) -> Callable[[bytes, date], Logged | None]:
    """What reads a line of ``fmt`` of a file of a given day; with ``since``, a jsonl
    line stamped before it may be None at once (most lines read back are older)."""
    if fmt == "jsonl":
        return lambda line, day: _parse_jsonl(line, since)
    return _text_parser(options, tz)


def logged_since(
    root: Path,
    options: LogOptions,
    network: str,
    folded: str,
    since: datetime,
    now: datetime,
) -> tuple[str | None, list[Logged]]:
    """The format read and the lines of the channel's log stamped at or after
    ``since``, oldest first, from the files of ``since``'s date to ``now``'s (at most
    :data:`READBACK_DAYS` of them, the newest)."""
    fmt = readback_format(options)
    if fmt is None:
        return None, []
    try:
        tz = zone(options.timezone)
    except (KeyError, ValueError):
        tz = UTC
    first, last = local_date(since, tz), local_date(now, tz)
    if "{date" not in options.path:
        days = [last]
    else:
        count = min((last - first).days + 1, READBACK_DAYS)
        days = [last - timedelta(days=n) for n in range(max(count, 1) - 1, -1, -1)]
    parse = _parser(fmt, options, tz, since)
    out: list[Logged] = []
    for day in days:
        try:
            path = paths.with_format(_paths(root, options, network, folded, day), fmt)
        except (ValueError, KeyError, IndexError, AttributeError, TypeError):
            return fmt, []  # no safe path: the writer says so
        for line in _tail_lines(root, path, READBACK_BYTES):
            entry = parse(line, day)
            if entry is not None and entry.time + timedelta(seconds=entry.span) >= since:
                out.append(entry)
    out.sort(key=lambda e: e.time)
    return fmt, out


def last_time(
    root: Path,
    options: LogOptions,
    network: str,
    folded: str,
    now: datetime,
    *,
    content: bool = False,
    before: datetime | None = None,
) -> datetime | None:
    """The time of the last line in the channel's log (today's file or, failing that,
    the newest of the :data:`READBACK_DAYS` before), or None for an empty log.
    ``content``: the last line that is not one of the bot's own markers (what a
    server's history may hold too); ``before``: the last line stamped at or before it."""
    fmt = readback_format(options)
    if fmt is None:
        return None
    try:
        tz = zone(options.timezone)
    except (KeyError, ValueError):
        tz = UTC
    today = local_date(now, tz)
    days = [today]
    if "{date" in options.path:
        days = [today - timedelta(days=n) for n in range(READBACK_DAYS)]
        if "{date" not in os.path.dirname(options.path):
            # Every day's file is in one folder: none there (a channel's first join),
            # no day to try (a 10,000-channel bot made 80,000 paths for nothing).
            try:
                first = _paths(root, options, network, folded, today)
            except (ValueError, KeyError, IndexError, AttributeError, TypeError):
                return None
            if not os.path.lexists(os.path.dirname(first)):
                return None
    parse = _parser(fmt, options, tz)
    for day in days:
        try:
            path = paths.with_format(_paths(root, options, network, folded, day), fmt)
        except (ValueError, KeyError, IndexError, AttributeError, TypeError):
            return None
        for line in reversed(_tail_lines(root, path, _TAIL_FOR_LAST)):
            entry = parse(line, day)
            if entry is None or (content and entry.marker):
                continue
            if fmt == "text" and entry.time > now:
                # A time written without its date, of a line from an earlier day
                # written late into this day's file (replayed history): not the last.
                continue
            if before is None or entry.time <= before:
                return entry.time
    return None


#: Bytes :func:`last_line` reads from the end of a file (a line is at most some 2 KiB:
#: 512 bytes of IRC, escaped).
LAST_LINE_SCAN = 4096


def last_line(root: Path, path: Path) -> str | None:
    """The last whole line of the file at ``path`` (a torn line after it left out), or
    None: missing, empty, unreadable or a link (which the writer reports when it opens
    the file to write).  What the writer looks at to keep a file in one text layout."""
    try:
        fd = safe_open.open_file(root, path, os.O_RDONLY)
    except OSError:
        return None
    try:
        size = os.fstat(fd).st_size
        start = max(0, size - LAST_LINE_SCAN)
        tail = os.pread(fd, size - start, start)
    except OSError:
        return None
    finally:
        os.close(fd)
    lines = tail.split(b"\n")
    lines.pop()  # after the last newline: nothing, or a torn line the opening cuts off
    if start > 0 and lines:
        lines.pop(0)  # the end of a line that began before the scan
    line = next((x for x in reversed(lines) if x), None)
    return None if line is None else line.decode("utf-8", "replace")
