"""Reading text log lines back, in every layout logbot writes or wrote.

``!grep`` and ``!last`` (:mod:`logbot.plugins.logview`) and the history deduplication
(:mod:`logbot.logs.readback`) read a channel's ``text`` file when it has no ``jsonl``
one, and the writer looks at the last line of a text file it is about to continue
(:func:`layout_of`), so that a file stays in the layout it was begun in.  So every
line shape of :data:`~logbot.logs.formats.TEXT_LAYOUTS` is read here, the one logbot
wrote before the layouts (``iso``: ISO 8601 with the offset, one space) included:
logs written by an older logbot keep working.

A line is a time, a separator and a body.  The time is tried in the layout the
previous line was found in (at first the channel's configured one), then in the
configured one and each layout's own format (lines of one file share a layout, so the
first try nearly always hits).  A time without its date (irssi's ``14:03``, ZNC's
``[14:03:07]``) takes the date of its file, which the caller gives; a time without an
offset is in the channel's time zone (the config says which).  The body is recognised
by its shape alone, whatever the layout: the wordings of the layouts do not overlap.

What comes back is what the line says: the nick as it was (None for ``?``; a nick may
hold a backslash) and the text as written, still escaped (:func:`unescape` undoes the
text format's escaping exactly).  The bot's own lines (``*** logbot: ...``) are of
type ``marker``: which marker a line was is not written.  A netsplit or netjoin summary
(text only) is of type ``netsplit`` or ``netjoin``, its nick None and its text the
nicks, comma-separated.  A line that does not read is None, never an error.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from functools import cache
from typing import Literal, NamedTuple

from logbot.config.text_layout import LAYOUT_TIMES, LAYOUTS, MONTHS, has_seconds, stamp_pattern
from logbot.logs.formats import TEXT_LAYOUTS

__all__ = [
    "BUILTIN",
    "Hit",
    "Layout",
    "TextLine",
    "TextReader",
    "layout_of",
    "parse_body",
    "unescape",
]

#: A layout and its time format (None: the layout's own), as the config gives them.
Layout = tuple[str, str | None]
#: The layouts logbot writes with their own time formats, and the one it wrote before.
BUILTIN: tuple[Layout, ...] = (("limnoria", None), ("iso", None), ("irssi", None), ("znc", None))

assert set(LAYOUTS) <= TEXT_LAYOUTS.keys()
assert all(TEXT_LAYOUTS[name][1] == fmt for name, fmt in LAYOUT_TIMES.items())


@dataclass(frozen=True, slots=True)
class TextLine:
    """One line read: ``time`` (aware) covers ``span`` seconds (1, or 60 for a time
    written without its seconds); ``type`` a record type or ``marker``."""

    time: datetime
    span: int
    type: str
    nick: str | None  # unescaped: who said it
    text: str | None  # escaped, as written
    body: str  # the line after its time and separator
    layout: Layout


# -- the time ------------------------------------------------------------------------


class _Stamp:
    """How one layout writes its time: a pattern for the time and the separator after
    it, and how to make the instant from what it matched."""

    __slots__ = ("fast", "layout", "regex", "span")

    def __init__(self, layout: Layout) -> None:
        name, fmt = layout
        _, own, sep = TEXT_LAYOUTS[name]
        self.layout = layout
        if name == "iso":  # "%:z" is not a directive the config offers: written out
            self.regex = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d) ")
            self.fast, self.span = True, 1
            return
        fmt = own if fmt is None else fmt
        self.fast = fmt == LAYOUT_TIMES["limnoria"]  # ISO without offset: fromisoformat
        self.regex = re.compile(
            r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)" + re.escape(sep)
            if self.fast  # no group per field: the line read most often
            else stamp_pattern(fmt) + re.escape(sep)
        )
        self.span = 1 if has_seconds(fmt) else 60

    def time(self, m: re.Match[str], day: date | None, tz: tzinfo) -> datetime | None:
        """The instant of a match of :attr:`regex` in a file of ``day``, or None."""
        try:
            if self.fast:
                when = datetime.fromisoformat(m[1])
                return when if when.tzinfo is not None else when.replace(tzinfo=tz)
            return _from_fields(m.groupdict(), day, tz)
        except ValueError:  # a 31st of February, an hour 25
            return None


def _from_fields(g: dict[str, str], day: date | None, tz: tzinfo) -> datetime | None:
    """The instant of the named groups of ``stamp_pattern``; None when the date is not
    all there and ``day`` (the file's) is not given."""
    year = int(g["Y"]) if "Y" in g else (2000 + int(g["y"]) if "y" in g else None)
    if "j" in g:
        if year is None and day is None:
            return None
        start = date(day.year if year is None else year, 1, 1)  # type: ignore[union-attr]
        on = start + timedelta(days=int(g["j"]) - 1)
    else:
        month = int(g["m"]) if "m" in g else (MONTHS.index(g["b"]) + 1 if "b" in g else None)
        mday = int(g["d"]) if "d" in g else None
        if day is None and None in (year, month, mday):
            return None
        on = date(
            day.year if year is None else year,  # type: ignore[union-attr]
            day.month if month is None else month,  # type: ignore[union-attr]
            day.day if mday is None else mday,  # type: ignore[union-attr]
        )
    hour = int(g["H"]) if "H" in g else int(g["I"]) % 12 + (12 if g["p"] == "PM" else 0)
    zone: tzinfo = tz
    if "z" in g:
        z = g["z"]
        offset = timedelta(hours=int(z[1:3]), minutes=int(z[3:5]))
        zone = timezone(-offset if z[0] == "-" else offset)
    return datetime(
        on.year,
        on.month,
        on.day,
        hour,
        int(g["M"]),
        int(g.get("S", 0)),
        int(g.get("f", 0)),
        tzinfo=zone,
    )


@cache
def _stamp(layout: Layout) -> _Stamp:
    return _Stamp(layout)


# -- the body ------------------------------------------------------------------------

_MESSAGE = re.compile(r"<(?P<n>\S+)> (?P<t>.*)")
_ACTION = re.compile(r" ?\* (?P<n>\S+) (?P<t>.*)")
# limnoria "-nick- text", irssi "-nick:#channel- text" (a nick holds no ":")
_NOTICE = re.compile(r"-(?P<n>[^\s:]+)(?::\S+)?- (?P<t>.*)")
#: After "*** ": Limnoria's wording, and ZNC's where it differs.
_STARS = [
    ("join", re.compile(r"(?P<n>\S+) <\S*> has joined \S+")),
    ("join", re.compile(r"Joins: (?P<n>\S+) \(\S*\)")),
    ("part", re.compile(r"(?P<n>\S+) <\S*> has left \S+(?: \((?P<t>.*)\))?")),
    ("part", re.compile(r"Parts: (?P<n>\S+) \(\S*\) \((?P<t>.*)\)")),
    ("quit", re.compile(r"(?P<n>\S+) <\S*> has quit IRC(?: \((?P<t>.*)\))?")),
    ("quit", re.compile(r"Quits: (?P<n>\S+) \(\S*\) \((?P<t>.*)\)")),
    ("nick", re.compile(r"(?P<n>\S+) is now known as \S+")),
    ("kick", re.compile(r"\S+ was kicked by (?P<n>\S+)(?: \((?P<t>.*)\))?")),
    ("mode", re.compile(r"(?P<n>\S+) sets mode: (?P<t>.*)")),
    ("topic", re.compile(r"(?P<n>\S+) changes topic to \"(?P<t>.*)\"")),
    ("topic", re.compile(r"(?P<n>\S+) changes topic to '(?P<t>.*)'")),
    ("topic_info", re.compile(r"topic for \S+ is \"(?P<t>.*)\"(?: \(set by (?P<n>\S+)\))?")),
    ("chghost", re.compile(r"(?P<n>\S+) changed host to \S+")),
    ("setname", re.compile(r"(?P<n>\S+) changed realname to \"(?P<t>.*)\"")),
    ("away", re.compile(r"(?P<n>\S+) is away(?: \((?P<t>.*)\))?")),
    ("back", re.compile(r"(?P<n>\S+) is back")),
    ("renamed_to", re.compile(r"\S+ was renamed to \S+(?: by (?P<n>\S+))?(?: \((?P<t>.*)\))?")),
    ("renamed_from", re.compile(r"\S+ was renamed from \S+(?: by (?P<n>\S+))?(?: \((?P<t>.*)\))?")),
    ("netsplit", re.compile(r"netsplit: \S+ <-> \S+: (?P<t>.*) (?:has|have) quit")),
    ("netjoin", re.compile(r"netjoin: \S+ <-> \S+: (?P<t>.*) (?:has|have) come back")),
]
#: After "-!- ": irssi's wording.
_BANGS = [
    ("join", re.compile(r"(?P<n>\S+) \[\S*\] has joined \S+")),
    ("part", re.compile(r"(?P<n>\S+) \[\S*\] has left \S+ \[(?P<t>.*)\]")),
    ("quit", re.compile(r"(?P<n>\S+) \[\S*\] has quit \[(?P<t>.*)\]")),
    ("nick", re.compile(r"(?P<n>\S+) is now known as \S+")),
    ("kick", re.compile(r"\S+ was kicked from \S+ by (?P<n>\S+) \[(?P<t>.*)\]")),
    ("mode", re.compile(r"mode/\S+ \[(?P<t>.*)\] by (?P<n>\S+)")),
    ("topic", re.compile(r"(?P<n>\S+) changed the topic of \S+ to: (?P<t>.*)")),
    ("topic", re.compile(r"Topic unset by (?P<n>\S+) on \S+")),
    ("topic_info", re.compile(r"Topic for \S+: (?P<t>.*?)(?: \[set by (?P<n>\S+)\])?")),
    ("chghost", re.compile(r"(?P<n>\S+) has changed host to \S+")),
    ("setname", re.compile(r"(?P<n>\S+) has changed realname to: (?P<t>.*)")),
    ("away", re.compile(r"(?P<n>\S+) is away: (?P<t>.*)")),
    ("back", re.compile(r"(?P<n>\S+) is back")),
    ("renamed_to", re.compile(r"\S+ was renamed to \S+(?: by (?P<n>\S+))? \[(?P<t>.*)\]")),
    ("renamed_from", re.compile(r"\S+ was renamed from \S+(?: by (?P<n>\S+))? \[(?P<t>.*)\]")),
    ("netsplit", re.compile(r"Netsplit \S+ <-> \S+ quits: (?P<t>.*)")),
    ("netjoin", re.compile(r"Netsplit over, joins: (?P<t>.*)")),
]


def _event(rest: str, shapes: list[tuple[str, re.Pattern[str]]]) -> tuple[str, re.Match[str]]:
    for kind, regex in shapes:
        m = regex.fullmatch(rest)
        if m is not None:
            return kind, m
    raise LookupError(rest)


#: The kinds written after "*** " or "-!- ".
_EVENTS = frozenset(kind for kind, _ in (*_STARS, *_BANGS))
_Parsed = tuple[str, str | None, str | None]


def parse_body(body: str) -> _Parsed | None:
    """(type, nick, text) of a line's body in any layout, or None: the nick as it was
    (unescaped; ``?`` is None), the text as written (escaped)."""
    got = _parse_at(body, 0, None)
    return got if got is not False else None


#: The first characters of a spoken line's body, the kind, and the pattern: the lines
#: most read, read first, with the fewest steps.
_SPOKEN = (("<", "message", _MESSAGE), ("* ", "action", _ACTION), (" * ", "action", _ACTION))


def _who(nick: str) -> str | None:
    return None if nick == "?" else unescape(nick) if "\\" in nick else nick


def _parse_at(
    line: str, at: int, wanted: Collection[str] | None
) -> _Parsed | None | Literal[False]:
    """:func:`parse_body` of the body starting at ``line[at]`` (not sliced off: most
    lines read are filtered out), or False for a line whose kind is not ``wanted``
    (told from its shape where it can be, before any regular expression: !grep reads
    megabytes)."""
    for start, kind, regex in _SPOKEN:
        if line.startswith(start, at):
            if wanted is not None and kind not in wanted:
                return False
            m = regex.fullmatch(line, at)
            return None if m is None else (kind, _who(m[1]), m[2])
    if line.startswith(("*** ", "-!- "), at):
        if line.startswith("logbot: ", at + 4):
            if wanted is not None and "marker" not in wanted:
                return False
            return "marker", None, line[at + 12 :]
        if wanted is not None and _EVENTS.isdisjoint(wanted):
            return False
        try:
            kind, m = _event(line[at + 4 :], _STARS if line[at] == "*" else _BANGS)
        except LookupError:
            return None
        if wanted is not None and kind not in wanted:
            return False
        fields = m.groupdict()
        nick, text = fields.get("n"), fields.get("t")  # (a netsplit summary names no one)
        if kind in ("join", "nick", "chghost", "back"):
            text = None  # nothing of the record's text is in these lines
        elif text is None:
            text = ""  # a reason left out: the record had none
        return kind, None if nick is None else _who(nick), text
    if line.startswith("-", at):
        if wanted is not None and "notice" not in wanted:
            return False
        m = _NOTICE.fullmatch(line, at)
        return None if m is None else ("notice", _who(m[1]), m[2])
    return None


# -- lines ---------------------------------------------------------------------------


class Hit(NamedTuple):
    """A line read but for its time, which :meth:`when` makes: readers that filter on
    the nick or the text (``!last bob`` through megabytes) skip that for the rest."""

    stamp: _Stamp
    match: re.Match[str]
    type: str
    nick: str | None
    text: str | None

    @property
    def body(self) -> str:
        """The line after its time and separator."""
        m = self.match
        return m.string[m.end() :]

    def when(self, day: date | None, tz: tzinfo) -> datetime | None:
        """The line's time, in a file of ``day`` and a channel of ``tz``, or None."""
        return self.stamp.time(self.match, day, tz)


class TextReader:
    """Reads the lines of one channel's text files: ``layout`` is its configured one,
    ``tz`` its time zone.  Keeps the layout the last line was found in, to try it
    first (files are read one after another, each in one layout)."""

    def __init__(self, layout: Layout, tz: tzinfo) -> None:
        self.tz = tz
        self._stamps = [_stamp(layout), *(_stamp(b) for b in BUILTIN if b != layout)]
        self._last = self._stamps[0]

    def read(
        self, line: str, day: date | None = None, types: Collection[str] | None = None
    ) -> TextLine | None:
        """``line`` (without its newline) of a file of ``day``, or None; with
        ``types``, None too for a line of another type (``marker`` for the bot's)."""
        hit = self.hit(line, types)
        if hit is None:
            return None
        when = hit.when(day, self.tz)
        if when is None:
            return None
        return TextLine(when, hit.stamp.span, hit.type, hit.nick, hit.text, hit.body,
                        hit.stamp.layout)  # fmt: skip

    def hit(self, line: str, types: Collection[str] | None = None) -> Hit | None:
        """:meth:`read` without the time."""
        tried = self._last
        got = _try(tried, line, types)
        if got is not None:
            return got or None
        for stamp in self._stamps:
            if stamp is not tried:
                got = _try(stamp, line, types)
                if got is not None:
                    self._last = stamp
                    return got or None
        return None


def _try(stamp: _Stamp, line: str, types: Collection[str] | None) -> Hit | None | Literal[False]:
    """The line read with ``stamp``: None if it does not read so, False if it does but
    is not of ``types`` (then no other layout need be tried)."""
    m = stamp.regex.match(line)
    if m is None:
        return None
    parsed = _parse_at(line, m.end(), types)
    if not parsed:
        return parsed
    return Hit(stamp, m, *parsed)


def layout_of(line: str, candidates: Sequence[Layout]) -> Layout | None:
    """The first of ``candidates`` (then of :data:`BUILTIN`) that reads ``line``, or
    None: for the writer, which continues a file in the layout it holds."""
    for layout in (*candidates, *BUILTIN):
        stamp = _stamp(layout)
        m = stamp.regex.match(line)
        if (
            m is not None
            and stamp.time(m, date(2000, 1, 1), UTC) is not None
            and parse_body(line[m.end() :]) is not None
        ):
            return layout
    return None


_ESCAPE = re.compile(r"\\(?:\\|r|n|0|x[0-9a-f]{2})")
_CHARS = {"\\\\": "\\", "\\r": "\r", "\\n": "\n", "\\0": "\0"}


def _char(m: re.Match[str]) -> str:
    s = m[0]
    return _CHARS[s] if len(s) == 2 else chr(int(s[2:], 16))


def unescape(text: str) -> str:
    """The text as received, from the text format's escaped rendering of it: ``\\\\``,
    ``\\r``, ``\\n``, ``\\0`` and ``\\xHH`` read as what they stand for, any other
    backslash as itself (see :mod:`logbot.logs.formats`)."""
    return _ESCAPE.sub(_char, text) if "\\" in text else text
