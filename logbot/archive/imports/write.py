"""Imported days written as logbot's own files: the configured path, formats and layout.

Why a module of its own: the importers only read; every decision about logbot's files
is here, made as the bot makes it, so that an imported day is indistinguishable from one
the bot wrote (but for the ``logbot.imported`` tag of its jsonl lines):

* *Where*: the channel's ``logging.path`` template, with the network and the channel
  folded with RFC 1459 case mapping (:func:`logbot.irc.casemap.casefold`), rendered
  and escaped by :func:`logbot.logs.paths.render_path` and checked to stay under the
  log root by :func:`~logbot.logs.paths.resolve_under`; one file per format
  (:func:`~logbot.logs.paths.with_format`) and per day, the day in the channel's
  ``logging.timezone``.  Only a template with ``{date}`` can be imported into.
* *What*: the channel's formats: ``text`` in its ``text_layout``/``time_format``
  (or, merging into a text file, the layout that file is in) and ``jsonl``; the
  lines sorted by time (a stable sort: lines of one time keep the old log's order).
* *Never an existing day*: a day for which any of its files exists (a ``.gz`` of it,
  a size-rotated part) is skipped and reported, unless ``merge``: then its files are
  rewritten with the union of their lines and the imported ones
  (:mod:`logbot.archive.imports.merge`), duplicates dropped (a format the day has no
  file of yet gets the imported lines alone).  Merging rewrites files
  the bot may be appending to: only while the bot is not running (the command's help
  says so).  A compressed or size-rotated day is never merged (reported).  A day this
  run already wrote (its lines came from two files) is merged into whatever the flag.
* *Whole files only*: each file is written to a new temporary file beside it
  (:func:`~logbot.logs.safe_open.create_temp`), flushed to disk, then put in place:
  a new day by ``link`` (which fails if the name appeared meanwhile: never clobbered),
  a merged one by ``rename`` over the old.  An import interrupted at any point leaves
  each file whole, old or new; an interrupted temporary file is removed (but for
  ``kill -9``, which leaves at worst a ``.<name>.<hex>.tmp`` beside the day).
* *No link followed*: every folder below the root is opened without following a
  symbolic link (:mod:`logbot.logs.safe_open`); a link planted there fails that day,
  reported, and nothing is written through it.
* *A day too big to hold*: :meth:`DayWriter.create_streamed` writes a new day from
  chunks as they come (the archive's export, a page of lines at a time), each file a
  temporary file until the last chunk, then linked into place as above.
* ``dry_run``: everything but the writing (existing files are still read, to count
  the duplicates a merge would drop).
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from pathlib import Path

from logbot.archive.imports.merge import Existing, combined, fresh, read_existing
from logbot.config.settings import LogOptions
from logbot.logs import paths, safe_open
from logbot.logs.formats import format_jsonl, text_formatter
from logbot.logs.record import LogRecord
from logbot.logs.textread import Layout

__all__ = ["Channel", "DayResult", "DayWriter", "present"]

_FORMATS = ("text", "jsonl")


@dataclass(frozen=True)
class Channel:
    """One channel's output: its network, its name (as in the records) folded, its log
    options, its zone (``options.timezone``) and the seconds an imported time covers."""

    network: str
    folded: str
    options: LogOptions
    tz: tzinfo
    precision: int


@dataclass(frozen=True)
class DayResult:
    """What became of one day: ``outcome`` is ``written`` (new files), ``merged``,
    ``skipped`` (its files existed, no merge) or ``failed`` (``why``); ``lines`` the
    imported lines it got, ``duplicates`` those it held already."""

    outcome: str
    lines: int = 0
    duplicates: int = 0
    why: str = ""


class DayWriter:
    """Writes imported days under ``root``; see the module docstring."""

    def __init__(self, root: Path, *, merge: bool, dry_run: bool) -> None:
        self.root = Path(os.path.abspath(root))
        self.merge = merge
        self.dry_run = dry_run
        self._ours: set[tuple[str, str, date]] = set()  # days this run wrote
        self._skipped: set[tuple[str, str, date]] = set()

    def write(self, ch: Channel, day: date, records: Sequence[LogRecord]) -> DayResult:
        """Write (or merge, or skip) ``day``'s ``records`` for ``ch``."""
        key = (ch.network, ch.folded, day)
        if key in self._skipped:
            return DayResult("skipped")
        try:
            files = self.day_files(ch, day)
        except (ValueError, KeyError, IndexError, AttributeError, TypeError) as e:
            return DayResult("failed", why=f"no safe log path: {e}")
        except OSError as e:
            return DayResult("failed", why=_why(e))
        targets = [(fmt, path) for fmt, path, _ in files]
        states = [state for _, _, state in files]
        ours = key in self._ours
        if present(files) and not ours and not self.merge:
            self._skipped.add(key)
            return DayResult("skipped")
        if "packed" in states:
            return DayResult("failed", why="compressed or split into parts: not merged")
        ordered = sorted(records, key=lambda r: r.time)
        try:
            result = self._put(ch, day, targets, states, ordered)
        except OSError as e:
            return DayResult("failed", why=_why(e))
        self._ours.add(key)
        return result

    def day_files(self, ch: Channel, day: date) -> list[tuple[str, Path, str]]:
        """``day``'s files for ``ch``: (format, path, state), the state ``absent``,
        ``present`` or ``packed`` (only its ``.gz``, or size-rotated parts).

        :raises ValueError: the path template has no ``{date}``, or leaves the root.
        :raises OSError: a folder cannot be looked into (a link planted there)."""
        return [(fmt, path, self._state(path, ch.options)) for fmt, path in self._targets(ch, day)]

    def create_streamed(
        self, ch: Channel, day: date, chunks: Iterable[Mapping[str, bytes]]
    ) -> DayResult:
        """``day``'s files for ``ch``, none of which exists, written from ``chunks``
        (each: format -> bytes to add) without holding the day in memory: each file is
        a temporary file beside it until every chunk is written and synced, then
        linked into place (never over a file that appeared meanwhile).  A failure
        removes the temporary files, and the files of the day already linked.
        ``lines``: the lines of the first format."""
        try:
            targets = self._targets(ch, day)
        except (ValueError, KeyError, IndexError, AttributeError, TypeError) as e:
            return DayResult("failed", why=f"no safe log path: {e}")
        if self.dry_run:
            lines = sum(chunk.get(targets[0][0], b"").count(b"\n") for chunk in chunks)
            return DayResult("written", lines)
        temps: list[tuple[int, str, str, int]] = []  # (dir fd, temp name, name, fd)
        lines = 0
        try:
            for _, path in targets:
                dir_fd = safe_open.open_dir(self.root, path.parent, create=True)
                try:
                    temp, fd = safe_open.create_temp(dir_fd, path.name)
                except BaseException:
                    os.close(dir_fd)
                    raise
                temps.append((dir_fd, temp, path.name, fd))
            for chunk in chunks:
                for (fmt, _), (_, _, _, fd) in zip(targets, temps, strict=True):
                    safe_open.write_all(fd, chunk.get(fmt, b""))
                if targets:
                    lines += chunk.get(targets[0][0], b"").count(b"\n")
            for _, _, _, fd in temps:
                os.fsync(fd)
            linked: list[tuple[int, str]] = []
            try:
                for dir_fd, temp, name, _ in temps:
                    os.link(temp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd, follow_symlinks=False)
                    linked.append((dir_fd, name))
                    os.fsync(dir_fd)
            except OSError:  # the day's files all or none: a later run must not skip it
                for dir_fd, name in linked:
                    os.unlink(name, dir_fd=dir_fd)
                raise
        except OSError as e:
            return DayResult("failed", why=_why(e))
        finally:
            for dir_fd, temp, _, fd in temps:
                os.close(fd)
                try:
                    os.unlink(temp, dir_fd=dir_fd)
                except OSError:
                    pass
                os.close(dir_fd)
        self._ours.add((ch.network, ch.folded, day))
        return DayResult("written", lines)

    def _targets(self, ch: Channel, day: date) -> list[tuple[str, Path]]:
        options = ch.options
        if "{date" not in options.path:
            raise ValueError(f"logging.path {options.path!r} has no {{date}}: no file per day")
        rel = paths.render_path(options.path, ch.network, ch.folded, day)
        base = paths.resolve_under(self.root, rel)
        targets = [(fmt, paths.with_format(base, fmt)) for fmt in options.formats]
        return [(fmt, path) for fmt, path in targets if fmt in _FORMATS]

    def _state(self, path: Path, options: LogOptions) -> str:
        """``absent``, ``present`` (the file, or a link in its place) or ``packed`` (only
        its ``.gz``, or size-rotated parts)."""
        try:
            fd = safe_open.open_dir(self.root, path.parent)
        except FileNotFoundError:
            return "absent"
        try:
            if safe_open.lexists(fd, path.name):
                return "present"
            if safe_open.lexists(fd, path.name + ".gz"):
                return "packed"
            if options.rotation == "size" and paths.next_part_number(path, os.listdir(fd)) > 1:
                return "packed"
            return "absent"
        finally:
            os.close(fd)

    def _put(
        self,
        ch: Channel,
        day: date,
        targets: list[tuple[str, Path]],
        states: list[str],
        records: list[LogRecord],
    ) -> DayResult:
        existing: dict[str, Existing] = {}
        for (fmt, path), state in zip(targets, states, strict=True):
            if state == "present":
                existing[fmt] = read_existing(self.root, path, fmt, day, ch.tz, ch.options)
        reference = existing.get("jsonl") or existing.get("text")
        kept, duplicates = fresh(records, reference, ch.precision)
        outcome = "merged" if existing else "written"
        if self.dry_run or (existing and not kept):  # nothing new: the files stay as they are
            return DayResult(outcome, len(kept), duplicates)
        for fmt, path in targets:
            old = existing.get(fmt)
            layout = old.layout if old is not None else None
            mine = [r for r in kept if r.only is None or r.only == fmt]  # as the writer does
            data = combined(old, self._lines(ch, fmt, mine, layout))
            if old is not None:
                self._replace(path, data)
            else:
                self._create(path, data)
        return DayResult(outcome, len(kept), duplicates)

    def _lines(
        self, ch: Channel, fmt: str, records: list[LogRecord], layout: Layout | None
    ) -> list[tuple[datetime, bytes]]:
        render: Callable[[LogRecord, tzinfo], str]
        if fmt == "jsonl":
            render = format_jsonl
        else:
            render = text_formatter(*(layout or (ch.options.text_layout, ch.options.time_format)))
        return [(r.time, render(r, ch.tz).encode("utf-8", "surrogatepass")) for r in records]

    def _create(self, path: Path, data: bytes) -> None:
        self._install(path, data, replace=False)

    def _replace(self, path: Path, data: bytes) -> None:
        self._install(path, data, replace=True)

    def _install(self, path: Path, data: bytes, *, replace: bool) -> None:
        """``data`` as the file ``path``, whole or not at all (see the module docstring)."""
        dir_fd = safe_open.open_dir(self.root, path.parent, create=True)
        try:
            safe_open.put_file(dir_fd, path.name, data, sync=True, replace=replace)
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def present(files: Sequence[tuple[str, Path, str]]) -> bool:
    """Whether any of a day's files (:meth:`DayWriter.day_files`) is there in any form."""
    return any(state != "absent" for _, _, state in files)


def _why(e: OSError) -> str:
    if e.errno == errno.EEXIST:
        return f"{e.filename or 'a file'} appeared meanwhile: not overwritten"
    if isinstance(e, safe_open.UnsafeLink):
        return str(e.strerror)
    name = f"{e.filename}: " if e.filename else ""
    return f"{name}{e.strerror or e}"
