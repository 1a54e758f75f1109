"""Searching the log files themselves, for when there is no index.

Why it is shaped so:

* *Bounded memory.*  An archive can hold years of lines and a query can match most of
  them, so the scan keeps only the ``limit + offset`` newest hits seen so far (a heap
  by time), each with its context lines; every other line is dropped as soon as it is
  read.  A file is read as a stream, a line at a time (:mod:`.lines`).
* *The same answers as the index.*  A jsonl line is a record when the index takes it
  for one (:func:`~logbot.archive.search.lines.jsonl_record`), records are tested by
  :class:`~logbot.archive.search.match.Matcher`, whose words are the index's, and a
  hit's ``day`` and ``seq`` are what the index gives it: its record's date, and its
  place among the records of its (network, channel, day), counted in the order the
  files were written (so every line is parsed, even where no hit can be).  A text
  file, which the index does not read, numbers its lines that read as records alike.
  Context lines are the lines of the hit's own day around it, as the index gives them.
* *Never a crash.*  A file that cannot be opened or is damaged, and each line that
  does not read, is counted in the :class:`ScanReport`; the scan goes on.
* *Cheap refusals first.*  A file whose path names another network, channel or day
  than the query's is not opened.
"""

from __future__ import annotations

import heapq
import zlib
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from logbot.archive.model import Hit, Line, Query, channel_key, day_of
from logbot.archive.search.files import LogFile, find_files, options_for, templates_of
from logbot.archive.search.lines import MARKER, BadLines, TextRecords, jsonl_record, open_lines
from logbot.archive.search.match import Matcher
from logbot.config.settings import Config

__all__ = ["MAX_CONTEXT", "PROGRESS_LINES", "ScanReport", "scan"]

#: The most context lines on each side of a hit (each hit holds them): the index's
#: bound (``logbot.archive.index.search.MAX_CONTEXT``), so both answer alike.
MAX_CONTEXT = 50
#: Lines read between two progress reports within a file.
PROGRESS_LINES = 4096

#: Called with (files done, files in all, bytes done, bytes in all).
ProgressFn = Callable[[int, int, int, int], None]
_DAY_MS = 86_400_000


@dataclass
class ScanReport:
    """What a scan read and what it could not."""

    files: int = 0  # files read
    bytes: int = 0  # their size on disk
    unreadable: list[str] = field(default_factory=list)  # files not read, or not to the end
    bad_lines: int = 0  # lines that are not a record
    unplaced: list[str] = field(default_factory=list)  # text files outside the templates

    def summary(self) -> str | None:
        """One line about what was not read, or None when everything was."""
        parts = []
        if self.unreadable:
            n = len(self.unreadable)
            parts.append(f"{n} file{'s' * (n != 1)} could not be read to the end")
        if self.bad_lines:
            n = self.bad_lines
            parts.append(f"{n} line{'s' * (n != 1)} could not be read")
        if self.unplaced:
            n = len(self.unplaced)
            parts.append(
                f"{n} text file{'s' * (n != 1)} outside logging.path "
                f"{'were' if n != 1 else 'was'} left out (which channel?)"
            )
        return "; ".join(parts) or None


class _Found:
    """A hit kept so far: its line, and the lines around it (those after it are added
    as they are read, until ``wanted`` is 0)."""

    __slots__ = ("after", "before", "day", "line", "wanted")

    def __init__(self, day: str, line: Line, before: list[Line]) -> None:
        self.day = day
        self.line = line
        self.before = before
        self.after: list[Line] = []
        self.wanted = 0


def day_window(day: date) -> tuple[int, int]:
    """Unix milliseconds that surely hold the lines of a channel's ``day`` (a date in
    its own zone, which is at most 14 hours from UTC): from a day before its UTC
    midnight to two days after."""
    midnight = int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()) * 1000
    return midnight - _DAY_MS, midnight + 2 * _DAY_MS


def _wanted_file(file: LogFile, m: Matcher) -> bool:
    """False when the file's path shows that none of its lines can match."""
    if m.network is not None and file.network is not None and file.network != m.network:
        return False
    if (
        m.channel is not None
        and file.channel is not None
        and channel_key(file.channel) != m.channel
    ):
        return False
    if file.day is not None:
        first, end = day_window(file.day)
        if m.since is not None and end <= m.since:
            return False
        if m.until is not None and first >= m.until:
            return False
    return True


class _Scan:
    """One scan's state: the heap of the newest hits, the report, the text readers."""

    def __init__(self, config: Config, matcher: Matcher, keep: int, context: int) -> None:
        self.config = config
        self.matcher = matcher
        self.keep = keep
        self.context = context
        self.heap: list[tuple[tuple[int, int, int], _Found]] = []
        self.report = ScanReport()
        self.bad = BadLines()
        self.readers: dict[tuple[str | None, str | None], TextRecords] = {}
        # The lines of one (network, channel, day) in a row, across its files: the
        # last ``context`` of them, and the hits still waiting for lines after them.
        self.run_key: tuple[str, str, str] | None = None
        self.before: deque[Line] = deque(maxlen=max(1, context))
        self.pending: list[_Found] = []

    def parser(self, file: LogFile) -> Callable[[bytes], Any]:
        """How a line of ``file`` is made a record (None: not one; MARKER)."""
        if file.fmt == "jsonl":
            return jsonl_record
        key = (file.network, file.channel)
        text = self.readers.get(key)
        if text is None:
            text = self.readers[key] = TextRecords(options_for(self.config, *key))
        return lambda raw: text.record(raw, file)

    def read(
        self,
        number: int,
        file: LogFile,
        seqs: dict[tuple[str, str, str], int],
        tick: Callable[[int], None],
    ) -> None:
        """Reads one file (``number`` in the order), keeping its hits; ``seqs`` counts
        the lines of each (network, channel, day) so far; ``tick`` is told the bytes
        read now and then."""
        parse = self.parser(file)
        lines, position = open_lines(file, self.bad)
        self.report.files += 1
        self.report.bytes += file.size
        context = self.context
        before = self.before
        for line_no, (raw, complete) in enumerate(lines):
            if line_no % PROGRESS_LINES == PROGRESS_LINES - 1:
                tick(position())
            if not raw.strip():
                continue
            record = parse(raw)
            if record is None:
                self.bad.count += complete  # a torn last line is being written
                continue
            if record == MARKER:
                continue  # the bot's own line in a text file: which one is not written
            day = day_of(record)
            if day is None:
                self.bad.count += 1
                continue
            key = (record["network"], channel_key(record["channel"]), day)
            seq = seqs[key] = seqs.get(key, 0) + 1
            line = Line(seq, record)
            if key != self.run_key:  # another day's lines: not context of this one's
                self.run_key = key
                before.clear()
                self.pending = []
            if self.pending:
                for waiting in self.pending:
                    waiting.after.append(line)
                    waiting.wanted -= 1
                if self.pending[0].wanted <= 0:
                    self.pending = [p for p in self.pending if p.wanted > 0]
            if self.matcher(record):
                hit = self.offer((record["time_ms"], number, line_no), day, line, before)
                if hit is not None and context:
                    hit.wanted = context
                    self.pending.append(hit)
            if context:
                before.append(line)

    def offer(
        self, key: tuple[int, int, int], day: str, line: Line, before: deque[Line]
    ) -> _Found | None:
        """Keeps a hit if it is among the ``keep`` newest so far; returns it if kept."""
        heap = self.heap
        if not self.keep or (len(heap) >= self.keep and key <= heap[0][0]):
            return None
        hit = _Found(day, line, list(before) if self.context else [])
        if len(heap) < self.keep:
            heapq.heappush(heap, (key, hit))
        else:
            heapq.heapreplace(heap, (key, hit))
        return hit

    def hits(self) -> list[Hit]:
        """The hits kept, newest first."""
        ordered = sorted(self.heap, key=lambda item: item[0], reverse=True)
        return [_hit(found, self.context > 0) for _, found in ordered]


def scan(
    config: Config,
    query: Query,
    *,
    root: str | Path | None = None,
    context: int = 0,
    progress: ProgressFn | None = None,
) -> tuple[list[Hit], ScanReport]:
    """The hits of ``query`` in the log files under ``root`` (default: the config's
    ``logging.root``), newest first, ``query.limit`` of them after ``query.offset``,
    each with up to ``context`` lines before and after it (of its network, channel and
    day, the hit among them), and what could not be read.

    :raises ValueError: for a query that does not compile (see
        :class:`~logbot.archive.search.match.Matcher`).
    """
    matcher = Matcher(query)
    offset = max(0, query.offset)
    state = _Scan(config, matcher, max(0, query.limit) + offset, max(0, min(context, MAX_CONTEXT)))
    found, state.report.unplaced = find_files(
        Path(config.log.root if root is None else root), templates_of(config)
    )
    files = [f for f in found if _wanted_file(f, matcher)]
    total = sum(f.size for f in files)
    done = 0
    folder: str | None = None
    seqs: dict[tuple[str, str, str], int] = {}
    for number, file in enumerate(files):
        if progress is not None:
            progress(number, len(files), done, total)
        here = file.rel.rpartition("/")[0]
        if here != folder:  # a day's lines are all in one folder: forget the last one's
            folder, seqs = here, {}
            state.run_key = None

        def tick(at: int, number: int = number, done: int = done, size: int = file.size) -> None:
            if progress is not None:
                progress(number, len(files), done + min(at, size), total)

        try:
            state.read(number, file, seqs, tick)
        except (OSError, EOFError, zlib.error):
            state.report.unreadable.append(file.rel)
        done += file.size
    if progress is not None:
        progress(len(files), len(files), total, total)
    state.report.bad_lines = state.bad.count
    return state.hits()[offset:], state.report


def _hit(found: _Found, with_context: bool) -> Hit:
    """The :class:`Hit` of a kept line; ``with_context``: the lines around it, the hit
    among them (as the index gives them, even when it has no neighbour)."""
    record = found.line.record
    context = (*found.before, found.line, *found.after) if with_context else ()
    return Hit(
        network=record["network"],
        channel=channel_key(record["channel"]),
        day=found.day,
        seq=found.line.seq,
        record=record,
        context=context,
    )
