"""A day file that already exists, read back, and imported lines merged into it.

Why a module of its own: ``logbot import --merge`` (and a day this run already wrote,
which a later file adds to) must keep every line the file holds, exactly as written,
and add only the imported lines it does not hold yet.  So an existing line is kept as
its bytes, with the time it says (to sort by) and, where it reads, its content key:
(type, nick, text), the key of :func:`logbot.logs.readback.content_key`.  A line that
does not read (damaged, another program's) is kept too, right after the line before it.

A ``jsonl`` file is read when the day has one (every field, the time to the
millisecond), else its ``text`` file, in whatever layout it was written
(:mod:`logbot.logs.textread`); the text layout found is the one the imported lines are
written in, so that the file stays in one layout (as the writer keeps it).

Duplicates (:func:`fresh`): an imported line is dropped when a line of the file has the
same key and a time in the same second, or, where either time is only to the minute
(irssi, or a text layout without seconds), the same minute.  Each line of the file
cancels at most one imported line, so a line said twice is kept twice.

The whole file is read (a day of one channel): at most :data:`MAX_MERGE_BYTES`; a
larger one is refused, not read.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, tzinfo
from pathlib import Path

from logbot.config.settings import LogOptions
from logbot.logs import safe_open
from logbot.logs.record import LogRecord
from logbot.logs.textread import Layout, TextReader, layout_of, unescape

__all__ = ["MAX_MERGE_BYTES", "Existing", "TooBig", "combined", "fresh", "read_existing"]

#: Largest day file merged (256 MiB): a day of the busiest channel is a few MiB.
MAX_MERGE_BYTES = 256 * 1024 * 1024
_FIRST = datetime.min.replace(tzinfo=UTC)  # the time of lines before any that reads

Key = tuple[str, str, str]


class TooBig(OSError):
    """A day file over :data:`MAX_MERGE_BYTES`: not read."""


@dataclass
class Existing:
    """A day file as read: its lines (time, bytes with the newline) in file order, the
    (key, first second, seconds covered) of each line that read, and, for a text file,
    the layout its lines are in."""

    lines: list[tuple[datetime, bytes]] = field(default_factory=list)
    keys: list[tuple[Key, int, int]] = field(default_factory=list)
    layout: Layout | None = None


def _read_bytes(root: Path, path: Path) -> bytes:
    fd = safe_open.open_file(root, path, os.O_RDONLY)
    with open(fd, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        if size > MAX_MERGE_BYTES:
            raise TooBig(f"{path} is {size} bytes: over {MAX_MERGE_BYTES} to merge")
        return f.read(MAX_MERGE_BYTES + 1)


def _split(data: bytes) -> list[bytes]:
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    return [line + b"\n" for line in lines]


def read_existing(
    root: Path, path: Path, fmt: str, day: date, tz: tzinfo, options: LogOptions
) -> Existing:
    """The file ``path`` (format ``fmt``) of ``day`` of a channel in ``tz``.

    :raises OSError: it cannot be read, is a symbolic link or over the size limit.
    """
    out = Existing()
    last = _FIRST
    reader = TextReader((options.text_layout, options.time_format), tz) if fmt == "text" else None
    for raw in _split(_read_bytes(root, path)):
        line = raw[:-1].decode("utf-8", "replace")
        got = _jsonl_line(line) if reader is None else _text_line(reader, line, day)
        if got is not None:
            last, key, span = got
            out.keys.append((key, _second(last), span))
            if reader is not None and out.layout is None:
                out.layout = layout_of(line, [(options.text_layout, options.time_format)])
        out.lines.append((last, raw))
    return out


def _jsonl_line(line: str) -> tuple[datetime, Key, int] | None:
    try:
        obj = json.loads(line)
        when = datetime.fromisoformat(obj["time"])
    except (ValueError, KeyError, TypeError):
        return None
    if not isinstance(obj, dict) or when.tzinfo is None:
        return None
    key = (str(obj.get("type") or ""), str(obj.get("nick") or ""), str(obj.get("text") or ""))
    return when, key, 1


def _text_line(reader: TextReader, line: str, day: date) -> tuple[datetime, Key, int] | None:
    got = reader.read(line, day)
    if got is None:
        return None
    return got.time, (got.type, got.nick or "", unescape(got.text) if got.text else ""), got.span


def _second(when: datetime) -> int:
    return int(when.timestamp() // 1)


def fresh(
    records: Sequence[LogRecord], reference: Existing | None, precision: int
) -> tuple[list[LogRecord], int]:
    """The records ``reference`` does not hold yet, and how many it held (see the module
    docstring); ``precision``: the seconds an imported line's time covers."""
    if reference is None or not reference.keys:
        return list(records), 0
    slots: dict[Key, list[list[int]]] = {}
    for key, start, span in reference.keys:
        slots.setdefault(key, []).append([start, start + span, 0])
    kept: list[LogRecord] = []
    for record in records:
        start = _second(record.time)
        end = start + precision
        for slot in slots.get((record.type, record.nick or "", record.text or ""), ()):
            if not slot[2] and slot[0] < end and start < slot[1]:
                slot[2] = 1
                break
        else:
            kept.append(record)
    return kept, len(records) - len(kept)


def combined(existing: Existing | None, new: Iterable[tuple[datetime, bytes]]) -> bytes:
    """The file's lines and the new ones, sorted by time: a file's line before a new
    one of the same time, each side in its own order."""
    rows = [(when, 0, i, raw) for i, (when, raw) in enumerate(existing.lines if existing else ())]
    rows.extend((when, 1, i, raw) for i, (when, raw) in enumerate(new))
    rows.sort(key=lambda row: (row[0], row[1], row[2]))
    return b"".join(row[3] for row in rows)
