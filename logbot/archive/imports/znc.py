"""ZNC's log module files, read into records.

Where the layout comes from (ZNC's source, znc/znc): ``modules/log.cpp`` (``PutLog``
and the ``On*`` hooks: the words of each line; ``OnLoad``: the default path and the
time stamp ``[%H:%M:%S]``, in the ZNC user's time zone, followed by one space).

Files, by where the module is loaded (``OnLoad``): as a network module (the usual way)
``<znc>/users/<user>/networks/<network>/moddata/log/<#channel>/<YYYY-MM-DD>.log``; as
a user module ``.../users/<user>/moddata/log/<network>/<#channel>/<YYYY-MM-DD>.log``;
as a global one ``<znc>/moddata/log/<user>/<network>/<#channel>/<YYYY-MM-DD>.log``.
Always ``<#channel>/<YYYY-MM-DD>.log`` at the end: the channel (lower case; ``/`` and
``\\`` made ``-``) is the folder, the date the file's name.  A file whose name is not a
date is not read (its lines have no date): the report names it.

Bodies::

    <nick> text                  message        * nick text         action
    -nick- text                  notice
    *** Joins: nick (ident@host)
    *** Parts: nick (ident@host) (reason)         ("()" without one)
    *** Quits: nick (ident@host) (reason)
    *** bob was kicked by op (reason)
    *** old is now known as new
    *** op sets mode: +o bob
    *** op changes topic to 'topic'

Left out, counted: ``Connected to IRC (...)``, ``Disconnected from IRC (...)`` and
``Broadcast: ...`` (ZNC's own status lines, normally in its status window's file).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from pathlib import Path

from logbot.archive.imports.source import (
    FileName,
    Item,
    Left,
    Source,
    Unread,
    channel_like,
    split_userhost,
)

__all__ = ["PRECISION", "PROGRAM", "name_of", "parse"]

PROGRAM = "znc"
#: Seconds a line's time may be off from when it happened: its stamp has seconds.
PRECISION = 1

_DAY_NAME = re.compile(r"(\d{4})-(\d\d)-(\d\d)\.log")
_TIME = re.compile(r"\[(\d\d):(\d\d):(\d\d)\] ")
_MESSAGE = re.compile(r"<([^\s<>]+)>(?: (.*))?")
_ACTION = re.compile(r"\* (\S+)(?: (.*))?")
_NOTICE = re.compile(r"-(\S+?)-(?: (.*))?")
_WHO = r"(?P<n>\S+) \((?P<uh>[^()\s]*)\)"
_EVENTS: list[tuple[str, re.Pattern[str]]] = [
    ("join", re.compile(rf"Joins: {_WHO}")),
    ("part", re.compile(rf"Parts: {_WHO} \((?P<t>.*)\)")),
    ("quit", re.compile(rf"Quits: {_WHO} \((?P<t>.*)\)")),
    ("kick", re.compile(r"(?P<v>\S+) was kicked by (?P<n>\S+) \((?P<t>.*)\)")),
    ("nick", re.compile(r"(?P<n>\S+) is now known as (?P<v>\S+)")),
    ("mode", re.compile(r"(?P<n>\S+) sets mode: (?P<t>.*)")),
    ("topic", re.compile(r"(?P<n>\S+) changes topic to '(?P<t>.*)'")),
]
_STATUS = re.compile(r"(?:Connected to IRC|Disconnected from IRC) \(.*\)|Broadcast: .*")


def name_of(path: Path) -> FileName | None:
    """The channel (its folder) and the day (its name) of a ``<YYYY-MM-DD>.log`` file;
    a ``.log`` file of another name has neither; None when not a ``.log`` file."""
    if not path.name.endswith(".log"):
        return None
    folder = path.parent.name
    channel = folder if channel_like(folder) else None
    m = _DAY_NAME.fullmatch(path.name)
    if m is None:
        return FileName(channel)
    try:
        return FileName(channel, date(int(m[1]), int(m[2]), int(m[3])))
    except ValueError:
        return FileName(channel)


def parse(lines: Iterable[tuple[int, str]], src: Source) -> Iterator[Item]:
    """The records (and what was left out or not understood) of a file's lines; the
    date is the file's (``src.day``), which the caller checked is there."""
    day = src.day
    assert day is not None, "a ZNC log's date is its file's name"
    for number, line in lines:
        m = _TIME.match(line)
        if m is None:
            yield Unread(number, "no ZNC time stamp ([HH:MM:SS]) at the start", line)
            continue
        try:
            naive = datetime(day.year, day.month, day.day, int(m[1]), int(m[2]), int(m[3]))
            when = src.local(naive)
        except ValueError:
            yield Unread(number, "not a valid time", line)
            continue
        item = _body(line[m.end() :], when, src, number)
        yield Unread(number, "not a ZNC log line", line) if item is None else item


def _body(body: str, when: datetime, src: Source, number: int) -> Item | None:
    if body.startswith("*** "):
        return _event(body[4:], when, src)
    if _STATUS.fullmatch(body):
        return Left(number, "bouncer status line")
    for regex, kind in ((_MESSAGE, "message"), (_ACTION, "action"), (_NOTICE, "notice")):
        m = regex.fullmatch(body)
        if m is not None:
            return src.record(when, kind, m[1], text=m[2] or "")
    return None


def _event(rest: str, when: datetime, src: Source) -> Item | None:
    for kind, regex in _EVENTS:
        m = regex.fullmatch(rest)
        if m is None:
            continue
        g = m.groupdict()
        nick, reason = g["n"], g.get("t") or None
        if kind in ("kick", "nick"):
            return src.record(when, kind, nick, target=g["v"], text=reason)
        if kind in ("mode", "topic"):
            text = g["t"].rstrip(" ") if kind == "mode" else g["t"]
            return src.record(when, kind, nick, text=text)
        user, host = split_userhost(g["uh"])
        return src.record(when, kind, nick, user=user, host=host, text=reason)
    return None
