"""Reading one log file's lines, and each line as a jsonl record.

Why records: the matcher, the terminal output and ``--json`` all speak jsonl records,
so a line of a text file is made into one (what the text says: its time in the
channel's time zone, its type, nick and text; no user, host, account or tags, which the
text format does not keep; ``time_source`` ``local``, since the text does not say).

Bounded and careful, because the files may be damaged or hostile: a file is opened
read-only without following a link and read only if it is a regular file (a FIFO must
not hang the scan); a ``.gz`` is decompressed as a stream; a line longer than
:data:`MAX_LINE_BYTES` is not held but skipped to its end and counted as bad, as is a
jsonl line that is not a record (:func:`jsonl_record`) and a text line in no layout
logbot knows.  A last line
without its newline is the writer's line being written: read if it parses, else left
out without a word.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import re
import stat
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any, BinaryIO

from logbot.archive.model import day_of
from logbot.archive.search.files import LogFile
from logbot.config.settings import LogOptions
from logbot.logs.rotation import zone
from logbot.logs.textread import TextReader, unescape

__all__ = [
    "MARKER",
    "MAX_LINE_BYTES",
    "MAX_TIME_MS",
    "MIN_TIME_MS",
    "READ_BLOCK",
    "BadLines",
    "TextRecords",
    "jsonl_record",
    "open_lines",
]

#: The longest line read, in bytes (1 MiB; logbot's longest is a few KiB: an IRC line
#: of 8 KiB of tags and 512 bytes of message, escaped).  A longer one is skipped.
MAX_LINE_BYTES = 1 << 20
#: Bytes read from a file at a time.
READ_BLOCK = 256 * 1024
#: The ``time_ms`` the jsonl schema allows (years 1 to 9999).
MIN_TIME_MS, MAX_TIME_MS = -62135596800000, 253402300799999

_OPEN_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)

#: One line: its bytes without the newline, and whether the newline was there.
RawLine = tuple[bytes, bool]


class BadLines:
    """A counter the line readers add to (lines too long to read)."""

    __slots__ = ("count",)

    def __init__(self) -> None:
        self.count = 0


def open_lines(file: LogFile, bad: BadLines) -> tuple[Iterator[RawLine], Callable[[], int]]:
    """The lines of ``file`` and a function giving the bytes of the file read so far.

    :raises OSError: when it cannot be opened, or is not a regular file; reading may
        raise OSError, EOFError or ``zlib.error`` (a damaged ``.gz``).
    """
    fd = os.open(file.path, _OPEN_FLAGS)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(f"{file.rel} is not a regular file")
        raw = io.FileIO(fd, "rb", closefd=True)
    except BaseException:
        os.close(fd)
        raise
    stream: BinaryIO = (
        gzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[assignment]
        if file.gz
        else io.BufferedReader(raw, READ_BLOCK)
    )
    return _lines(stream, raw, bad), raw.tell


def _lines(stream: BinaryIO, raw: io.FileIO, bad: BadLines) -> Iterator[RawLine]:
    with raw, stream:
        while True:
            line = stream.readline(MAX_LINE_BYTES + 1)
            if not line:
                return
            if len(line) > MAX_LINE_BYTES:
                bad.count += 1
                while line and not line.endswith(b"\n"):
                    line = stream.readline(READ_BLOCK)
                continue
            complete = line.endswith(b"\n")
            if complete:
                line = line[:-2] if line.endswith(b"\r\n") else line[:-1]
            yield line, complete


def jsonl_record(raw: bytes) -> dict[str, Any] | None:
    """The record of a jsonl line, or None if it is not one.  A record is what the
    index takes for one (:mod:`logbot.archive.index.records`), so that both find the
    same lines and number them alike: a JSON object with an integer ``time_ms`` in the
    schema's range, a ``time`` whose date can be read, and non-empty string
    ``network``, ``channel`` and ``type``."""
    try:
        obj = json.loads(raw)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        return None
    if type(obj) is not dict:
        return None
    ms = obj.get("time_ms")
    if type(ms) is not int or not MIN_TIME_MS <= ms <= MAX_TIME_MS:
        return None
    for name in ("network", "channel", "type"):
        value = obj.get(name)
        if type(value) is not str or not value:
            return None
    if day_of(obj) is None:
        return None
    return obj


#: A nick change's new nick and a kick's victim, which the text readers do not return:
#: (type, pattern over the line's body, the group that holds it).
_TARGETS = {
    "nick": re.compile(r"(?:\*\*\*|-!-) \S+ is now known as (\S+)$"),
    "kick": re.compile(r"(?:\*\*\*|-!-) (\S+) was kicked "),
    "chghost": re.compile(r"(?:\*\*\*|-!-) \S+ (?:has )?changed host to (\S+)$"),
}

#: What :meth:`TextRecords.record` returns for the bot's own lines (``*** logbot:``):
#: which marker they were, the text does not say, so they are not made records.
MARKER = "marker"


class TextRecords:
    """Makes records of the lines of one channel's text files, read in the layout its
    options name (and every other layout logbot wrote: :mod:`logbot.logs.textread`)."""

    def __init__(self, options: LogOptions) -> None:
        try:
            self.tz: tzinfo = zone(options.timezone)
        except (KeyError, ValueError):  # as the writer does: an unknown zone is UTC
            self.tz = UTC
        self.reader = TextReader((options.text_layout, options.time_format), self.tz)

    def record(self, raw: bytes, file: LogFile) -> dict[str, Any] | str | None:
        """The record of one text line of ``file`` (its network and channel are the
        path's), :data:`MARKER`, or None."""
        line = raw.decode("utf-8", "replace")
        got = self.reader.read(line, file.day)
        if got is None:
            return None
        if got.type == MARKER:
            return MARKER
        try:
            when = got.time.astimezone(self.tz)
            stamp = when.isoformat(timespec="milliseconds")
        except (OverflowError, ValueError):
            return None
        record: dict[str, Any] = {
            "time": stamp,
            "time_ms": (when - _EPOCH) // _MS,
            "time_source": "local",
            "type": got.type,
            "network": file.network or "",
            "channel": file.channel or "",
            "nick": got.nick,
            "user": None,
            "host": None,
            "account": None,
            "text": None if got.text is None else unescape(got.text),
        }
        target = _TARGETS.get(got.type)
        if target is not None:
            m = target.search(got.body)
            record["target"] = m[1] if m is not None else "?"
        record["msgid"] = None
        record["tags"] = {}
        return record
