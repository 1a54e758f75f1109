"""One ``logbot archive export``: a network's channels, day by day, from the archive
back into logbot's daily files.

Why: a team publishes one complete log, or hands it over, in the files every tool
already reads (irclog2html, pisg, jq), not as a database.  The archive may be the
SQLite index of one bot's files or the PostgreSQL store that merges several bots'
(each event once): either answers the read interface of :class:`ArchiveStore`.

What is written is decided as the importer decides it
(:class:`~logbot.archive.imports.write.DayWriter`): the channel's ``logging.path``
template, formats, text layout and zone from the config; no day that exists in any
form is written over (it is skipped and reported, or merged with ``merge``, by the
importer's merge); a new day's files appear whole or not at all; no link is followed
below the output folder (a link planted there fails that day, reported).  Lines are
written in the archive's order (``seq``), which is the files' order: a day exported
from the index is its original files again, byte for byte
(:mod:`~logbot.archive.handover.records` says how a record becomes its lines).

Memory: a day is read :data:`PAGE_LINES` lines at a time and its files written as it
is read (a day may have 100,000 lines and more).  A merged day is held whole, as the
importer's merge holds it (the existing file is read whole too).

Private logs (a "channel" that is a nick) are exported only when named, or with
``private``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Protocol

from logbot.archive.handover.out import ExportRefused, check_out
from logbot.archive.handover.records import DayRenderer, record_from_jsonl
from logbot.archive.imports.run import channel_options
from logbot.archive.imports.write import Channel, DayResult, DayWriter, present
from logbot.archive.model import Line, channel_key, is_channel
from logbot.config.settings import Config
from logbot.irc.casemap import casefold
from logbot.logs.record import LogRecord
from logbot.logs.rotation import zone

__all__ = [
    "MAX_LISTED",
    "PAGE_LINES",
    "ArchiveStore",
    "ChannelEntry",
    "ExportRefused",
    "Report",
    "export_days",
]

#: Lines read from the archive at a time (and rendered before they are written): a
#: few MiB at most, whatever the day's size.
PAGE_LINES = 2000
#: Days skipped or failed named in the summary (all are counted).
MAX_LISTED = 50
_FORMATS = ("text", "jsonl")
#: The seconds a jsonl time covers, for the merge's duplicate test: the time is to
#: the millisecond, so a line matches one of the same second.
_PRECISION = 1


class ChannelEntry(Protocol):
    """A channel as the store lists it: its key (to ask for its days) and its name."""

    @property
    def key(self) -> str: ...

    @property
    def name(self) -> str: ...


class ArchiveStore(Protocol):
    """What the export reads: the SQLite index (:class:`~logbot.archive.index.Index`)
    or the PostgreSQL store (``logbot.archive.postgres.reads.PgArchive``)."""

    def networks(self) -> list[str]: ...

    def channels(self, network: str) -> Sequence[ChannelEntry]: ...

    def days(self, network: str, channel: str) -> list[tuple[str, int]]: ...

    def day_lines(
        self, network: str, channel: str, day: str, after: int = 0, limit: int | None = None
    ) -> list[Line]: ...


@dataclass
class Report:
    """What an export did: days ``written`` and ``merged``, ``lines`` exported (per
    channel), the days ``skipped`` (they exist: ``(channel, day, lines)``), the days
    ``failed`` (``(channel, day, why)``; day ``*``: the whole channel), and
    ``unrendered``: lines that got no text line (in the jsonl all the same)."""

    written: int = 0
    merged: int = 0
    lines: Counter[str] = field(default_factory=Counter)
    duplicates: int = 0
    skipped: list[tuple[str, str, int]] = field(default_factory=list)
    failed: list[tuple[str, str, str]] = field(default_factory=list)
    unrendered: int = 0

    @property
    def troubled(self) -> bool:
        """Some day could not be written."""
        return bool(self.failed)

    def summary(self) -> list[str]:
        out = [
            f"days written: {self.written}, merged: {self.merged}, "
            f"lines: {sum(self.lines.values())}"
        ]
        out.extend(f"  {name}: {n} lines" for name, n in sorted(self.lines.items()))
        if self.duplicates:
            out.append(f"lines already in the merged days (not added): {self.duplicates}")
        if self.skipped:
            out.append(
                f"days skipped, they exist (--merge merges them): {len(self.skipped)}"
                f" ({sum(n for _, _, n in self.skipped)} lines)"
            )
            out.extend(f"  {name} {day}" for name, day, _ in self.skipped[:MAX_LISTED])
            _more(out, self.skipped)
        if self.failed:
            out.append(f"days not written: {len(self.failed)}")
            out.extend(f"  {name} {day}: {why}" for name, day, why in self.failed[:MAX_LISTED])
            _more(out, self.failed)
        if self.unrendered:
            out.append(f"lines with no text line (unknown type, damaged): {self.unrendered}")
        return out


def _more(out: list[str], items: Sequence[object]) -> None:
    if len(items) > MAX_LISTED:
        out.append(f"  ... and {len(items) - MAX_LISTED} more")


def export_days(
    store: ArchiveStore,
    config: Config,
    out: Path,
    network: str,
    channels: Sequence[str] = (),
    *,
    private: bool = False,
    since: date | None = None,
    until: date | None = None,
    merge: bool = False,
    page_size: int = PAGE_LINES,
) -> Report:
    """Export ``network``'s ``channels`` (none: all its channels, and its private logs
    with ``private``) from ``store`` into ``out``, the days from ``since`` to
    ``until`` (both included; None: no bound); see the module docstring.

    :raises ExportRefused: ``out`` is not a folder to export into, the network or a
        channel named is not in the archive (nothing is written then)."""
    if page_size < 1:
        raise ValueError(f"page_size must be positive, not {page_size}")
    check_out(out, Path(config.log.root))
    net = _network(store, network)
    chosen = _channels(store, net, channels, private)
    writer = DayWriter(out, merge=merge, dry_run=False)
    report = Report()
    first = since.isoformat() if since else ""
    last = until.isoformat() if until else "9999-99-99"
    for entry in chosen:
        _channel(store, config, writer, net, entry, first, last, page_size, report)
    return report


def _network(store: ArchiveStore, network: str) -> str:
    known = store.networks()
    if network in known:
        return network
    alike = [name for name in known if name.lower() == network.lower()]
    if len(alike) == 1:
        return alike[0]
    listed = ", ".join(known) or "none"
    raise ExportRefused(f"no network {network!r} in the archive (it has: {listed})")


def _channels(
    store: ArchiveStore, network: str, names: Sequence[str], private: bool
) -> list[ChannelEntry]:
    entries = list(store.channels(network))
    if not names:
        return [entry for entry in entries if private or is_channel(entry.name)]
    by_key = {channel_key(entry.key): entry for entry in entries}
    chosen: list[ChannelEntry] = []
    for name in names:
        entry = by_key.get(channel_key(name))
        if entry is None:
            raise ExportRefused(f"no channel {name!r} of {network} in the archive")
        if entry not in chosen:
            chosen.append(entry)
    return chosen


def _channel(
    store: ArchiveStore,
    config: Config,
    writer: DayWriter,
    network: str,
    entry: ChannelEntry,
    first: str,
    last: str,
    page_size: int,
    report: Report,
) -> None:
    name = entry.name
    options = channel_options(config, network, name)
    try:
        tz = zone(options.timezone)
    except (KeyError, ValueError) as e:
        report.failed.append((name, "*", f"unknown time zone {e}"))
        return
    ch = Channel(network, casefold(name), options, tz, _PRECISION)
    formats = tuple(fmt for fmt in options.formats if fmt in _FORMATS)
    layout = (options.text_layout, options.time_format)
    for day_text, count in store.days(network, entry.key):
        if not first <= day_text <= last:
            continue
        day = date.fromisoformat(day_text)
        pages = _pages(store, network, entry.key, day_text, count, page_size)
        try:
            files = writer.day_files(ch, day)
        except (ValueError, KeyError, IndexError, AttributeError, TypeError) as e:
            report.failed.append((name, day_text, f"no safe log path: {e}"))
            continue
        except OSError as e:
            report.failed.append((name, day_text, f"{e.filename or ''} {e.strerror or e}".strip()))
            continue
        if present(files) and not writer.merge:
            report.skipped.append((name, day_text, count))
            continue
        renderer = DayRenderer(formats, layout, tz)
        exported = [0]
        try:
            if present(files):
                result = writer.write(ch, day, _records(pages, renderer, exported))
            else:
                result = writer.create_streamed(ch, day, _chunks(pages, renderer, exported))
        except Exception as e:  # the store failed (a database gone): this day, said
            why = f"cannot read the archive: {type(e).__name__}: {e}"
            report.failed.append((name, day_text, why))
            continue
        _count(report, name, day_text, result, exported[0], renderer)


def _count(
    report: Report, name: str, day: str, result: DayResult, lines: int, renderer: DayRenderer
) -> None:
    if result.outcome == "failed":
        report.failed.append((name, day, result.why))
        return
    if result.outcome == "skipped":  # (appeared meanwhile)
        report.skipped.append((name, day, lines))
        return
    if result.outcome == "merged":
        report.merged += 1
        report.lines[name] += result.lines
        report.duplicates += result.duplicates
    else:
        report.written += 1
        report.lines[name] += lines
    report.unrendered += renderer.unrendered


def _pages(
    store: ArchiveStore, network: str, key: str, day: str, count: int, page_size: int
) -> Iterator[list[Line]]:
    """The day's lines by ``seq``, ``page_size`` at a time, until no line is left after
    the last (the day's ``count`` is its last seq: a window of the merged store's lines
    that it hides entirely comes back empty, and is stepped over)."""
    after = 0
    while True:
        page = store.day_lines(network, key, day, after=after, limit=page_size)
        if page:
            if page[-1].seq <= after:  # a store that does not move on: not looped on
                raise ValueError(f"the archive gave seq {page[-1].seq} after seq {after}")
            yield page
            after = page[-1].seq
        elif after < count:
            after += page_size
        else:
            return


def _encoded(lines: list[str]) -> bytes:
    """Lines as the log writer encodes them (a lone surrogate as it would too)."""
    text = "".join(lines)
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return b"".join(_encoded_line(line) for line in lines)


def _encoded_line(line: str) -> bytes:
    try:
        return line.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return line.encode("utf-8", "replace")


def _chunks(
    pages: Iterator[list[Line]], renderer: DayRenderer, exported: list[int]
) -> Iterator[Mapping[str, bytes]]:
    """Each page's lines of each format, encoded; then what the renderer still held."""
    for page in pages:
        got: dict[str, list[str]] = {fmt: [] for fmt in renderer.formats}
        for line in page:
            for fmt, lines in renderer.add(line.record).items():
                got[fmt].extend(lines)
        exported[0] += len(page)
        yield {fmt: _encoded(lines) for fmt, lines in got.items()}
    yield {fmt: _encoded(lines) for fmt, lines in renderer.finish().items()}


def _records(
    pages: Iterator[list[Line]], renderer: DayRenderer, exported: list[int]
) -> list[LogRecord]:
    """The day's records, for a merge (which holds the day): those that are not a
    record of the schema are counted as unrendered and left out."""
    records: list[LogRecord] = []
    for page in pages:
        for line in page:
            record: Mapping[str, Any] = line.record
            try:
                records.append(record_from_jsonl(record))
            except (ValueError, TypeError):
                renderer.unrendered += 1
        exported[0] += len(page)
    return records
