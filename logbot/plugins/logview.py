"""A read-only view of one network's channel logs, for ``!last`` and ``!grep``.

Why it is shaped as it is:

* *Bounded work.*  A handler runs on the reactor thread: while it reads, the bot logs
  nothing and answers no PING.  So one query walks back at most ``max_days`` days and
  reads at most ``max_bytes`` bytes in all (of a ``.gz``, the bytes it decompresses to),
  each file from its end, in blocks, stopping as soon as it has ``limit`` lines.  A
  bound that is reached ends the walk with what was found: fewer lines, never a stall.
* *Plain words, not regular expressions.*  The words come from anyone in the channel, and
  a pattern such as ``(a+)+$`` can take exponential time.  A word matches as a
  case-insensitive substring of the text (both ``casefold``-ed).
* *Read-only, under the root.*  Paths are built as the writer builds them
  (:func:`~logbot.logs.paths.render_path`, :func:`~logbot.logs.paths.resolve_under`), so a
  channel called ``#../../etc`` is one escaped folder name under the root, not a way
  out; a path that cannot be built safely gives no lines.  Nothing is opened to write.
* *What the bot wrote is what it reads.*  The ``jsonl`` file when the channel has one
  (every field, no guessing); else the ``text`` file, each line in whichever layout it
  was written (the channel's, another it had, or an older logbot's:
  :mod:`logbot.logs.textread`), a time without its date on the file's day.  Of the
  bot's own lines (``*** logbot: ...``) the text does not say which marker they are:
  they are left out.  A torn last line, an invalid or undecodable line is skipped,
  never an error.

*With an index, from the index.*  When the bot has a search index
(:mod:`logbot.archive.index`, enabled in the config) and its file exists, a query
with words is answered from it: every day of the channel, not only the last
``max_days``, at the cost of one SQLite query instead of megabytes read.  The words
then match as the index matches them (whole words, any case and accent; ``word*`` a
prefix), not as substrings.  When there is no index, or it fails, the files are read
as below.

A day's files are read newest first: the live file (or its ``.gz``), then its
size-rotated parts from the highest number down (``2026-11-27.002.log``, ``.001.log``;
a part's plain file is preferred to a ``.gz`` still being written next to it).  Lines
still in the writer's buffer (``flush: interval``) are not on disk and not seen.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
import zlib
from collections.abc import Callable, Collection, Generator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any

from logbot.archive.model import Query
from logbot.archive.search.backend import first_from_index, index_words
from logbot.config.settings import LogOptions
from logbot.logs import paths
from logbot.logs.formats import text_body
from logbot.logs.record import MARKERS, TYPES, LogRecord
from logbot.logs.rotation import local_date, zone
from logbot.logs.textread import TextReader

__all__ = ["BLOCK", "INDEX_PAGES", "LogView", "LoggedLine"]

log = logging.getLogger("logbot.plugins.logview")

#: Bytes read from a file's end at a time.
BLOCK = 64 * 1024
#: Pages of hits (of twice the lines asked for, at least 10) asked of the index for
#: one query: the lines ``skip`` leaves out (the bot's replies, commands) could
#: otherwise leave an answer short; 4 pages bound the work when most are left out.
INDEX_PAGES = 4

#: The types a text line can be read back as: all but the bot's own (which marker a
#: ``*** logbot: ...`` line is, the text does not say).
_TEXT_TYPES = TYPES - MARKERS
#: How a text line of these types is shown, whatever its layout (irssi writes
#: `` * nick text`` and ``-nick:#chan- text``): as the jsonl lines are.
_SHOWN = {
    "message": "<{}> {}",
    "action": "* {} {}",
    "notice": "-{}- {}",
}


@dataclass(frozen=True)
class LoggedLine:
    """One logged event: ``time`` in the channel's time zone, ``type`` as in
    :data:`~logbot.logs.record.TYPES`, and ``line`` a short human form such as
    ``[2026-11-27 12:00:01] <alice> hi``."""

    time: datetime
    type: str
    nick: str | None
    text: str | None
    line: str


class _Budget:
    """Bytes a query may still read; ``spent`` once a read was cut short by it."""

    __slots__ = ("left", "spent")

    def __init__(self, left: int) -> None:
        self.left = max(0, left)
        self.spent = False


class LogView:
    """The logs of ``network`` under ``root``; see the module docstring.

    ``wall`` gives "today" (Unix seconds); ``max_days`` (today included) and
    ``max_bytes`` bound each :meth:`recent` query that reads the files.
    ``index_path`` is the search index's file (None: no index), ``open_index`` what
    opens it (default: :func:`logbot.archive.index.open_index`).
    """

    def __init__(
        self,
        root: str | Path,
        network: str,
        *,
        wall: Callable[[], float] = time.time,
        max_days: int = 31,
        max_bytes: int = 8 * 1024 * 1024,
        index_path: str | Path | None = None,
        open_index: Callable[[Path, Path], Any] | None = None,
    ) -> None:
        self.root = Path(os.path.abspath(root))
        self.network = network
        self.max_days = max_days
        self.max_bytes = max_bytes
        self._wall = wall
        self.index_path = None if index_path is None else Path(index_path)
        self._open_index = open_index

    def recent(
        self,
        channel_folded: str,
        options: LogOptions,
        *,
        limit: int = 5,
        nick: str | None = None,
        words: Sequence[str] = (),
        types: Collection[str] = ("message", "action"),
        skip: Callable[[LoggedLine], bool] | None = None,
        fold: Callable[[str], str] = str.lower,
    ) -> list[LoggedLine]:
        """The newest ``limit`` lines of the channel (newest first) of one of ``types``,
        said by ``nick`` (compared through ``fold``) if given, whose text holds every one
        of ``words`` (plain, case-insensitive; from the index: whole words), and that
        ``skip`` does not reject."""
        fmt = "jsonl" if "jsonl" in options.formats else "text"
        if limit <= 0 or fmt not in options.formats:
            return []
        wanted = frozenset(types)
        if fmt == "text" and not wanted & _TEXT_TYPES:
            return []
        try:
            tz = zone(options.timezone)
        except (KeyError, ValueError):  # as the writer does: an unknown zone is UTC
            tz = UTC
        who = None if nick is None else fold(nick)
        if words and self.index_path is not None:
            indexed = self._from_index(channel_folded, tz, limit, nick, words, wanted, skip, fold)
            if indexed is not None:
                return indexed
        needles = [w.casefold() for w in words if w]
        # An ASCII line without every ASCII needle in its bytes lowered (C loops) cannot
        # hold them in its text, nor one without the nick said by it: skipped before it
        # is parsed.  (Not a line with other characters: the Kelvin sign casefolds to
        # "k"; nor a nick with a character some CASEMAPPING folds to another, or a
        # backslash, which the text format may double.)
        raw_needles = [n.encode() for n in needles if n.isascii()]
        if nick is not None and nick.isascii() and not any(c in nick for c in "[]\\~{}|^"):
            raw_needles.append(nick.lower().encode())
        parse: Callable[[bytes, tzinfo, frozenset[str], date], _Entry | None] = _parse_jsonl
        if fmt == "text":
            parse = _text_parser(TextReader((options.text_layout, options.time_format), tz))

        budget = _Budget(self.max_bytes)
        found: list[LoggedLine] = []
        listings: dict[Path, set[str]] = {}
        done: set[Path] = set()
        today = local_date(datetime.fromtimestamp(self._wall(), UTC), tz)
        days = self.max_days if "{date" in options.path else min(self.max_days, 1)
        for back in range(days):
            try:
                day = today - timedelta(days=back)
                rel = paths.render_path(options.path, self.network, channel_folded, day)
                live = paths.with_format(paths.resolve_under(self.root, rel), fmt)
            except OverflowError:
                break
            except (ValueError, KeyError, IndexError, AttributeError, TypeError) as e:
                # UnsafePath (a ValueError), or a template the config let by
                log.debug(
                    "no logs for %s %r: no safe log path (%s)", self.network, channel_folded, e
                )
                return []
            if live in done:  # a template whose file spans several days
                continue
            done.add(live)
            for path in _day_files(live, listings):
                lines = _backwards(path, budget)
                try:
                    for raw in lines:
                        if raw_needles and raw.isascii():
                            lowered = raw.lower()
                            if not all(n in lowered for n in raw_needles):
                                continue
                        entry = parse(raw, tz, wanted, day)
                        if entry is None:
                            continue
                        when_of, kind, said_by, text, body = entry
                        if who is not None and (said_by is None or fold(said_by) != who):
                            continue
                        if needles:
                            if text is None:
                                continue
                            folded = text.casefold()
                            if not all(n in folded for n in needles):
                                continue
                        when = when_of()
                        if when is None:
                            continue
                        line = LoggedLine(
                            when, kind, said_by, text, f"[{when:%Y-%m-%d %H:%M:%S}] {body()}"
                        )
                        if skip is not None and skip(line):
                            continue
                        found.append(line)
                        if len(found) >= limit:
                            return found
                finally:
                    lines.close()
                if budget.spent:
                    return found
        return found

    def _from_index(
        self,
        channel_folded: str,
        tz: tzinfo,
        limit: int,
        nick: str | None,
        words: Sequence[str],
        wanted: frozenset[str],
        skip: Callable[[LoggedLine], bool] | None,
        fold: Callable[[str], str],
    ) -> list[LoggedLine] | None:
        """:meth:`recent` answered from the index, or None when there is no index file,
        no index in this install, no word the index can look for, or the index fails
        (then the files are read)."""
        text = index_words(words)
        if self.index_path is None or text is None:
            return None
        who = None if nick is None else fold(nick)

        def keep(hit: Any) -> LoggedLine | None:
            line = _logged(hit.record, tz, wanted)
            if line is None:
                return None
            if who is not None and (line.nick is None or fold(line.nick) != who):
                return None  # the index folds nicks as RFC 1459; the server may not
            return None if skip is not None and skip(line) else line

        query = Query(words=text, network=self.network, channel=channel_folded, nick=nick,
                      types=tuple(sorted(wanted)), limit=max(2 * limit, 10))  # fmt: skip
        return first_from_index(
            self._open_index, self.index_path, self.root, query, keep, limit, INDEX_PAGES
        )


# -- files --------------------------------------------------------------------------


def _day_files(live: Path, listings: dict[Path, set[str]]) -> list[Path]:
    """The files of one day that exist, newest first: the live file (or its ``.gz``),
    then the parts from the highest number down."""
    directory = live.parent
    names = listings.get(directory)
    if names is None:
        try:
            names = set(os.listdir(directory))
        except OSError:  # missing, not a folder, not readable: no lines
            names = set()
        listings[directory] = names
    if not names:
        return []
    suffix = live.suffix
    stem = live.name[: -len(suffix)] if suffix else live.name
    pattern = re.compile(re.escape(stem) + r"\.([0-9]{3,})" + re.escape(suffix) + r"(\.gz)?")
    parts: dict[int, str] = {}
    prefix = stem + "."
    for name in names:
        if not name.startswith(prefix):
            continue
        match = pattern.fullmatch(name)
        if match is not None:
            number = int(match.group(1))
            if match.group(2) is None or number not in parts:
                parts[number] = name
    files = []
    if live.name in names:
        files.append(live)
    elif live.name + ".gz" in names:
        files.append(live.with_name(live.name + ".gz"))
    files.extend(directory / parts[n] for n in sorted(parts, reverse=True))
    return files


def _backwards(path: Path, budget: _Budget) -> Generator[bytes, None, None]:
    """The complete lines of ``path``, last first, without their ``\\n``, within the
    budget; the text after the last ``\\n`` (a torn line) is left out."""
    if path.name.endswith(".gz"):
        data = _gunzip(path, budget)
        yield from reversed(data[: data.rfind(b"\n") + 1].split(b"\n")[:-1])
        return
    try:
        f = open(path, "rb")  # noqa: SIM115 - held across the yields below
    except OSError as e:
        log.debug("cannot read %s: %s", path, e)
        return
    with f:
        try:
            pos = os.fstat(f.fileno()).st_size
            pending = b""  # the start of the region read: a line that begins further back
            torn = True  # still dropping what follows the file's last \n
            while pos > 0:
                size = min(BLOCK, pos, budget.left)
                if size <= 0:
                    budget.spent = True
                    return
                pos -= size
                f.seek(pos)
                block = f.read(size)
                budget.left -= len(block)
                if len(block) != size:  # the file changed under us
                    return
                data = block + pending
                if torn:
                    end = data.rfind(b"\n")
                    if end < 0:
                        pending = b""
                        continue
                    data, torn = data[: end + 1], False
                if pos > 0:
                    start = data.find(b"\n")
                    if start < 0:
                        pending = data
                        continue
                    pending, data = data[: start + 1], data[start + 1 :]
                lines = data.split(b"\n")
                lines.pop()  # data ends with \n (or is empty)
                yield from reversed(lines)
        except OSError as e:
            log.debug("cannot read %s: %s", path, e)


def _gunzip(path: Path, budget: _Budget) -> bytes:
    """The decompressed ``path`` (what a torn or corrupt one gives up to the damage), or
    ``b""`` when it is unreadable or would pass the budget (which is then spent)."""
    try:
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            if size > budget.left:
                budget.spent = True
                return b""
            packed = f.read(size)
    except OSError as e:
        log.debug("cannot read %s: %s", path, e)
        return b""
    room = budget.left
    out: list[bytes] = []
    total = 0
    try:
        while packed.strip(b"\0"):  # members one after another; zero padding ends them
            d = zlib.decompressobj(16 + zlib.MAX_WBITS)
            while True:
                chunk = d.decompress(packed, room - total + 1)
                total += len(chunk)
                if total > room:
                    budget.left, budget.spent = 0, True
                    return b""
                out.append(chunk)
                if not d.unconsumed_tail:
                    break
                packed = d.unconsumed_tail
            if not d.eof:  # cut short (still being written, or damaged)
                break
            packed = d.unused_data
    except zlib.error as e:
        log.debug("%s is damaged: %s", path, e)
    budget.left -= total
    return b"".join(out)


# -- lines --------------------------------------------------------------------------

#: (time, type, nick, text, a function giving the body of the human form)
#: (its time, type, nick, text, its body in the human form): the time and the body
#: made only for a line the filters keep.
_Entry = tuple[Callable[[], datetime | None], str, str | None, str | None, Callable[[], str]]


def _time(stamp: str, tz: tzinfo) -> datetime | None:
    try:
        when = datetime.fromisoformat(stamp)
    except ValueError:
        return None
    if when.tzinfo is None:  # never written so; taken as UTC, as rotation does
        when = when.replace(tzinfo=UTC)
    try:
        return when.astimezone(tz)
    except (OverflowError, ValueError):
        return None


def _text_parser(
    reader: TextReader,
) -> Callable[[bytes, tzinfo, frozenset[str], date], _Entry | None]:
    """What reads a line of the text format of a file of a given day, if of ``types``."""

    def parse(raw: bytes, tz: tzinfo, types: frozenset[str], day: date) -> _Entry | None:
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError:
            return None
        got = reader.hit(line, types)
        if got is None:
            return None

        def when() -> datetime | None:
            at = got.when(day, reader.tz)
            try:
                return None if at is None else at.astimezone(tz)
            except (OverflowError, ValueError):
                return None

        def body() -> str:
            shown = _SHOWN.get(got.type)
            if shown is None:
                return got.body.lstrip(" ")
            return shown.format(got.nick or "?", got.text)

        return when, got.type, got.nick, got.text, body

    return parse


_FIELDS = ("network", "channel", "nick", "user", "host", "account", "text", "target")


def _parse_jsonl(raw: bytes, tz: tzinfo, types: frozenset[str], day: date) -> _Entry | None:
    """A jsonl line, if of ``types``; its body is the text format's."""
    try:
        obj = json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        return None
    if not isinstance(obj, dict):
        return None
    return _record_entry(obj, tz, types)


def _logged(record: Mapping[str, Any], tz: tzinfo, types: frozenset[str]) -> LoggedLine | None:
    """A jsonl record (from the index) as a :class:`LoggedLine`, if of ``types``."""
    entry = _record_entry(record, tz, types)
    if entry is None:
        return None
    when_of, kind, nick, text, body = entry
    when = when_of()
    if when is None:
        return None
    return LoggedLine(when, kind, nick, text, f"[{when:%Y-%m-%d %H:%M:%S}] {body()}")


def _record_entry(obj: Mapping[str, Any], tz: tzinfo, types: frozenset[str]) -> _Entry | None:
    """A jsonl record, if of ``types``; its body is the text format's."""
    kind, stamp = obj.get("type"), obj.get("time")
    if not isinstance(kind, str) or kind not in types or not isinstance(stamp, str):
        return None
    fields = {name: obj.get(name) for name in _FIELDS}
    if not all(v is None or isinstance(v, str) for v in fields.values()):
        return None
    when = _time(stamp, tz)
    if when is None:
        return None

    def body() -> str:
        assert when is not None
        record = LogRecord(
            when,
            "local",
            kind,
            fields["network"] or "",
            fields["channel"] or "",
            fields["nick"],
            fields["user"],
            fields["host"],
            fields["account"],
            fields["text"],
            fields["target"],
        )
        try:
            return text_body(record)
        except ValueError:  # a type the formats do not know
            return f"{kind} {fields['text'] or ''}".rstrip()

    return lambda: when, kind, fields["nick"], fields["text"], body
