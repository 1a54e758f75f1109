"""Limnoria's (and Supybot's) ChannelLogger logs, read into records.

Where the layout comes from (Limnoria's source, progval/Limnoria):
``plugins/ChannelLogger/plugin.py`` (``doLog`` and the ``do*`` handlers: the words of
each line), ``plugins/ChannelLogger/config.py`` (the defaults: ``directories``,
``directories.network``, ``directories.channel`` on, ``rotateLogs`` off,
``filenameTimestamp`` ``%Y-%m-%d``, ``timestamp`` on) and ``src/log.py``
(``supybot.log.timestampFormat``: ``%Y-%m-%dT%H:%M:%S`` in Limnoria, ``[%d-%b-%Y
%H:%M:%S]`` in the old Supybot; ``time.strftime``, so the bot's local time).

Files: ``<bot>/logs/ChannelLogger/<network>/<#channel>/<#channel>.log`` by default
(one file for all time: every line carries its date), or
``<#channel>.<YYYY-MM-DD>.log`` with ``rotateLogs``.  The channel in the names is
lower case (``ircutils.toLower``); it is taken from the file's name (its date, if any,
cut off), else from its folder.

Each line is ``<time>  <body>`` (two spaces), the body one of::

    <nick> text                      message        * nick text      action
    -nick- text                      notice
    *** nick <nick!user@host> has joined #c
    *** nick <nick!user@host> has left #c (reason)         (no "(...)" without one)
    *** nick <nick!user@host> has quit IRC (reason)        (likewise)
    *** bob was kicked by op (reason)                      (likewise)
    *** old is now known as new
    *** op sets mode: +o bob          (the setter may be a server name)
    *** op changes topic to "topic"
    *** op <op!user@host> invited bob to #c                (left out: no logbot type)

Anything else is reported as not understood.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from pathlib import Path

from logbot.archive.imports.source import FileName, Item, Left, Source, Unread, channel_like
from logbot.archive.imports.source import split_mask as _mask
from logbot.config.text_layout import MONTHS

__all__ = ["PRECISION", "PROGRAM", "name_of", "parse"]

PROGRAM = "limnoria"
#: Seconds a line's time may be off from when it happened: its stamp has seconds.
PRECISION = 1

_ISO = re.compile(r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)  ")
_SUPYBOT = re.compile(r"\[(\d\d)-([A-Z][a-z]{2})-(\d{4}) (\d\d):(\d\d):(\d\d)\]  ")
_ROTATED = re.compile(r"(.+)\.(\d{4})-(\d\d)-(\d\d)")

_MESSAGE = re.compile(r"<([^\s<>]+)>(?: (.*))?")
_ACTION = re.compile(r"\* (\S+)(?: (.*))?")
_NOTICE = re.compile(r"-(\S+?)-(?: (.*))?")
_MASK = r"(?P<n>\S+) <(?P<m>[^<>\s]*)>"
_EVENTS: list[tuple[str, re.Pattern[str]]] = [
    ("join", re.compile(_MASK + r" has joined \S+")),
    ("part", re.compile(_MASK + r" has left \S+(?: \((?P<t>.*)\))?")),
    ("quit", re.compile(_MASK + r" has quit IRC(?: \((?P<t>.*)\))?")),
    ("kick", re.compile(r"(?P<v>\S+) was kicked by (?P<n>\S+)(?: \((?P<t>.*)\))?")),
    ("nick", re.compile(r"(?P<n>\S+) is now known as (?P<v>\S+)")),
    ("mode", re.compile(r"(?P<n>\S+) sets mode: (?P<t>.*)")),
    ("topic", re.compile(r'(?P<n>\S+) changes topic to "(?P<t>.*)"')),
    ("invite", re.compile(_MASK + r" invited \S+ to \S+")),
]


def name_of(path: Path) -> FileName | None:
    """The channel (and the day of a rotated file) its name gives; None when it is not
    a ``.log`` file."""
    if not path.name.endswith(".log"):
        return None
    stem = path.name[: -len(".log")]
    rotated = _ROTATED.fullmatch(stem)
    day = None
    if rotated is not None:
        try:
            day = datetime(int(rotated[2]), int(rotated[3]), int(rotated[4])).date()
            stem = rotated[1]
        except ValueError:
            pass
    if channel_like(stem):
        return FileName(stem, day)
    folder = path.parent.name
    return FileName(folder if channel_like(folder) else None, day)


def _stamp(line: str) -> tuple[datetime, int] | None:
    """The naive local time a line starts with and where its body starts, or None."""
    m = _ISO.match(line)
    if m is not None:
        y, mo, d, h, mi, s = (int(x) for x in m.groups())
        return datetime(y, mo, d, h, mi, s), m.end()
    m = _SUPYBOT.match(line)
    if m is not None and m[2] in MONTHS:
        when = datetime(int(m[3]), MONTHS.index(m[2]) + 1, int(m[1]))
        return when.replace(hour=int(m[4]), minute=int(m[5]), second=int(m[6])), m.end()
    return None


def parse(lines: Iterable[tuple[int, str]], src: Source) -> Iterator[Item]:
    """The records (and what was left out or not understood) of a file's lines."""
    for number, line in lines:
        try:
            stamp = _stamp(line)
            when = None if stamp is None else src.local(stamp[0])
        except ValueError:  # a 31st of February, an hour 25, the year 1
            yield Unread(number, "not a valid date or time", line)
            continue
        if stamp is None or when is None:
            yield Unread(number, "no ChannelLogger time stamp at the start", line)
            continue
        item = _body(line[stamp[1] :], when, src, number)
        yield Unread(number, "not a ChannelLogger line", line) if item is None else item


def _reason(text: str | None) -> str | None:
    return text or None


def _body(body: str, when: datetime, src: Source, number: int) -> Item | None:
    if body.startswith("*** "):
        return _event(body[4:], when, src, number)
    for regex, kind in ((_MESSAGE, "message"), (_ACTION, "action"), (_NOTICE, "notice")):
        m = regex.fullmatch(body)
        if m is not None:
            return src.record(when, kind, m[1], text=m[2] or "")
    return None


def _event(rest: str, when: datetime, src: Source, number: int) -> Item | None:
    for kind, regex in _EVENTS:
        m = regex.fullmatch(rest)
        if m is None:
            continue
        g = m.groupdict()
        nick = g["n"]
        build = _BUILD.get(kind)
        if build is None:
            return Left(number, kind)
        return build(src, when, nick, g)
    return None


def _join(src: Source, when: datetime, nick: str, g: dict[str, str]) -> Item:
    _, user, host = _mask(g["m"])
    return src.record(when, "join", nick, user=user, host=host)


def _part(src: Source, when: datetime, nick: str, g: dict[str, str]) -> Item:
    _, user, host = _mask(g["m"])
    return src.record(when, "part", nick, user=user, host=host, text=_reason(g["t"]))


def _quit(src: Source, when: datetime, nick: str, g: dict[str, str]) -> Item:
    _, user, host = _mask(g["m"])
    return src.record(when, "quit", nick, user=user, host=host, text=_reason(g["t"]))


_BUILD: dict[str, Callable[[Source, datetime, str, dict[str, str]], Item]] = {
    "join": _join,
    "part": _part,
    "quit": _quit,
    "kick": lambda s, w, n, g: s.record(w, "kick", n, target=g["v"], text=_reason(g["t"])),
    "nick": lambda s, w, n, g: s.record(w, "nick", n, target=g["v"]),
    "mode": lambda s, w, n, g: s.record(w, "mode", n, text=g["t"].rstrip(" ")),
    "topic": lambda s, w, n, g: s.record(w, "topic", n, text=g["t"]),
}
