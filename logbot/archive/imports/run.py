"""One ``logbot import`` run: find the files, read them channel by channel, write their
days, and say what happened.

Why a module of its own: the CLI only parses arguments and prints; this is the part a
test (or another front end) drives with a config and a :class:`Request`.

Files: each path given is a file (read whatever its name; ``--channel`` names its
channel when the name does not) or a folder, walked without following links, in which
the files the program's naming gives are read; files there that are not a channel's
log (a private query, a status window, a server buffer) are counted and skipped.

Memory: a channel's files are read one after another (in the order their names give:
oldest first), each a line at a time.  The records of a day (in the channel's
``logging.timezone``) wait until a line :data:`OPEN_DAYS` days later is read, then the
day is written; at the channel's end the rest are.  So a few days of one channel are in
memory, whatever the size of the files; a day that comes back later (lines out of
order, or a day split across two files) is merged into what this run wrote of it.
"""

from __future__ import annotations

import errno
import os
import stat
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import BinaryIO

from logbot.archive.imports import IMPORTERS, Importer, source
from logbot.archive.imports.source import (
    FileName,
    Left,
    Source,
    Unread,
    channel_like,
    display,
    numbered_lines,
)
from logbot.archive.imports.write import Channel, DayWriter
from logbot.config.settings import Config, LogOptions
from logbot.irc.casemap import casefold
from logbot.logs.record import LogRecord
from logbot.logs.rotation import local_date, zone

__all__ = ["MAX_EXAMPLES", "MAX_LISTED", "OPEN_DAYS", "Report", "Request", "channel_options", "run"]

#: Days of a channel held open while reading: a day is written when a line this many
#: days later is read (2: a line a little out of order still finds its day open).
OPEN_DAYS = 2
#: Lines not understood shown in the report (all are counted).
MAX_EXAMPLES = 10
#: Days skipped or failed, and files not read, named in the report (all are counted).
MAX_LISTED = 50
_SHOWN = 120  # characters of a line not understood shown in the report


@dataclass(frozen=True)
class Request:
    """What to import: ``timezone`` is the zone the old times are in (None: each
    channel's ``logging.timezone``); ``channel`` overrides the names' channel."""

    program: str
    network: str
    paths: tuple[Path, ...]
    channel: str | None = None
    timezone: str | None = None
    merge: bool = False
    dry_run: bool = False


@dataclass
class Report:
    """What a run did, counted; :meth:`summary` says it."""

    dry_run: bool = False
    files_read: int = 0
    files_skipped: int = 0
    file_problems: list[str] = field(default_factory=list)
    lines: Counter[str] = field(default_factory=Counter)  # channel -> lines imported
    duplicates: int = 0
    days: Counter[str] = field(default_factory=Counter)  # written / merged -> days
    skipped_days: list[str] = field(default_factory=list)
    skipped_lines: int = 0
    failed_days: list[str] = field(default_factory=list)
    failed_lines: int = 0
    left: Counter[str] = field(default_factory=Counter)
    unread: int = 0
    examples: list[str] = field(default_factory=list)
    stats: dict[str, int] = field(default_factory=dict)  # "latin1": lines not UTF-8

    @property
    def troubled(self) -> bool:
        """Some line, file or day could not be imported."""
        return bool(self.unread or self.file_problems or self.failed_days)

    def summary(self) -> list[str]:
        would = "would be " if self.dry_run else ""
        out = [f"files read: {self.files_read}" + (" (dry run: nothing written)" * self.dry_run)]
        for channel, count in sorted(self.lines.items()):
            out.append(f"  {display(channel)}: {count} lines {would}imported")
        out.append(
            f"days {would}written: {self.days['written']}, {would}merged: {self.days['merged']}"
        )
        if self.duplicates:
            out.append(f"lines already in the merged days (dropped): {self.duplicates}")
        _listed(out, self.skipped_days, "days skipped, already logged (--merge merges them)")
        if self.skipped_lines:
            out.append(f"  ({self.skipped_lines} lines of those days not imported)")
        _listed(out, self.failed_days, "days not written")
        if self.left:
            kinds = ", ".join(f"{kind} {n}" for kind, n in sorted(self.left.items()))
            out.append(f"lines left out (no logbot line for them): {kinds}")
        if self.unread:
            out.append(f"lines not understood: {self.unread}")
            out.extend(f"  {example}" for example in self.examples)
        _listed(out, self.file_problems, "files not read")
        if self.files_skipped:
            out.append(f"files skipped (not a channel's log): {self.files_skipped}")
        if self.stats.get("latin1"):
            out.append(f"lines read as Latin-1 (not UTF-8): {self.stats['latin1']}")
        return out


def _listed(out: list[str], items: list[str], title: str) -> None:
    if not items:
        return
    out.append(f"{title}: {len(items)}")
    out.extend(f"  {item}" for item in items[:MAX_LISTED])
    if len(items) > MAX_LISTED:
        out.append(f"  ... and {len(items) - MAX_LISTED} more")


def channel_options(config: Config, network: str, channel: str) -> LogOptions:
    """The log options of ``channel`` on ``network``: its own, its network's, or (a
    network not in the config) the top level's."""
    for net in config.networks:
        if net.name.lower() == network.lower():
            folded = casefold(channel)
            for configured in net.channels:
                if casefold(configured.name) == folded:
                    return configured.log
            return net.log
    return config.log


_Files = dict[str, tuple[str, list[tuple[tuple[date, int, str], Path, FileName]]]]


def run(config: Config, request: Request) -> Report:
    """Import ``request``'s files into ``config``'s log root; the report of what was done."""
    importer = IMPORTERS[request.program]
    report = Report(dry_run=request.dry_run)
    files = _discover(importer, request, report)
    writer = DayWriter(Path(config.log.root), merge=request.merge, dry_run=request.dry_run)
    for folded in sorted(files):
        name, found = files[folded]
        _channel(config, request, importer, writer, name, folded, sorted(found), report)
    return report


def _discover(importer: Importer, request: Request, report: Report) -> _Files:
    files: _Files = {}
    seen: set[Path] = set()

    def add(path: Path, name: FileName | None, given: bool) -> None:
        real = Path(os.path.abspath(path))
        if real in seen:
            return
        seen.add(real)
        name = name or FileName(None)
        channel = request.channel or name.channel
        if channel is None:
            if given:
                report.file_problems.append(
                    f"{display(path)}: its name does not say the channel: give --channel"
                )
            else:
                report.files_skipped += 1
            return
        if not channel_like(channel):
            report.file_problems.append(f"{display(path)}: {channel!r} is not a channel name")
            return
        if importer.needs_day and name.day is None:
            report.file_problems.append(
                f"{display(path)}: its name is not a date (YYYY-MM-DD.log): its lines have none"
            )
            return
        folded = casefold(channel)
        entry = files.setdefault(folded, (channel, []))
        entry[1].append(((name.day or date.min, name.rank, path.name), path, name))

    def unreadable(e: OSError) -> None:  # a folder that cannot be listed: named, not lost
        report.file_problems.append(f"{display(e.filename or '?')}: {e.strerror or e}")

    for given in request.paths:
        if given.is_dir():
            for folder, subfolders, names in os.walk(given, onerror=unreadable, followlinks=False):
                subfolders.sort()
                for file_name in sorted(names):
                    path = Path(folder, file_name)
                    described = importer.name_of(path)
                    if described is not None:
                        add(path, described, False)
        else:
            add(given, importer.name_of(given), True)
    return files


def _open(path: Path) -> BinaryIO:
    """``path`` for reading, if it is a regular file (a FIFO must not block us)."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "not a regular file")
        os.set_blocking(fd, True)
        return open(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def _channel(
    config: Config,
    request: Request,
    importer: Importer,
    writer: DayWriter,
    name: str,
    folded: str,
    found: list[tuple[tuple[date, int, str], Path, FileName]],
    report: Report,
) -> None:
    options = channel_options(config, request.network, name)
    try:
        tz_out = zone(options.timezone)
        tz_in = zone(request.timezone) if request.timezone else tz_out
    except (KeyError, ValueError) as e:
        report.file_problems.append(f"{display(name)}: unknown time zone {e}")
        return
    ch = Channel(request.network, folded, options, tz_out, importer.precision)
    days: dict[date, list[LogRecord]] = {}
    seen: set[date] = set()
    high = date.min

    def flush(upto: date | None) -> None:
        for day in sorted(d for d in days if upto is None or d <= upto):
            _write_day(writer, ch, name, day, days.pop(day), seen, report)

    for _, path, file_name in found:
        src = Source(request.program, request.network, name, tz_in, file_name.day)
        try:
            f = _open(path)
        except OSError as e:
            report.file_problems.append(f"{display(path)}: {e.strerror or e}")
            continue
        report.files_read += 1
        try:
            with f:
                lines = _readable(numbered_lines(f, report.stats), path, report)
                for item in importer.parse(lines, src):
                    if isinstance(item, LogRecord):
                        day = local_date(item.time, tz_out)
                        days.setdefault(day, []).append(item)
                        if day > high:
                            high = day
                            flush(high - timedelta(days=OPEN_DAYS))
                    elif isinstance(item, Left):
                        report.left[item.what] += 1
                    else:
                        _unread(report, path, item)
        except OSError as e:  # a read error halfway: what was read is kept
            report.file_problems.append(f"{display(path)}: {e.strerror or e}")
    flush(None)


def _readable(
    numbered: Iterator[tuple[int, str | None]], path: Path, report: Report
) -> Iterator[tuple[int, str]]:
    """The lines of ``numbered`` that were read whole; the others reported."""
    for number, text in numbered:
        if text is None:
            _unread(report, path, Unread(number, f"longer than {source.MAX_LINE_BYTES} bytes", ""))
        else:
            yield number, text


def _unread(report: Report, path: Path, item: Unread) -> None:
    report.unread += 1
    if len(report.examples) < MAX_EXAMPLES:
        shown = item.text if len(item.text) <= _SHOWN else item.text[:_SHOWN] + "..."
        tail = f": {shown!r}" if item.text else ""
        report.examples.append(f"{display(path)}:{item.line}: {item.why}{tail}")


def _write_day(
    writer: DayWriter,
    ch: Channel,
    name: str,
    day: date,
    records: list[LogRecord],
    seen: set[date],
    report: Report,
) -> None:
    """Write one day and count what became of it (a day written in two goes counts once)."""
    result = writer.write(ch, day, records)
    first = day not in seen
    seen.add(day)
    label = f"{display(name)} {day.isoformat()}"
    if result.outcome == "skipped":
        report.skipped_lines += len(records)
        if first:
            report.skipped_days.append(label)
    elif result.outcome == "failed":
        report.failed_lines += len(records)
        report.failed_days.append(f"{label}: {result.why}")
    else:
        report.lines[name] += result.lines
        report.duplicates += result.duplicates
        if first:
            report.days[result.outcome] += 1
