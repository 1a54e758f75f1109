"""irssi's autolog files, read into records.

Where the layout comes from (irssi's source, irssi/irssi): ``src/core/log.c`` (the
settings ``log_timestamp`` ``%H:%M ``, ``log_open_string`` ``--- Log opened %a %b %d
%H:%M:%S %Y``, ``log_close_string`` ``--- Log closed ...``, ``log_day_changed``
``--- Day changed %a %b %d %Y``, all in local time), ``src/fe-common/core/fe-log.c``
(``autolog_path`` ``~/irclogs/$tag/$0.log``; the target with ``/`` made ``_`` and
lower-cased), ``src/fe-common/core/module-formats.c`` and
``src/fe-common/irc/module-formats.c`` (the words of each event) and
``themes/default.theme`` (what the templates print: ``line_start`` ``-!- ``,
``msgnick`` ``<`` mode nick ``> ``, ``action`` `` * ``, ``reason``/``mode``/
``nickhost`` in ``[...]``, ``notice`` ``-nick:#c- ``).  Colours are stripped
(``autolog_colors`` off).

Files: ``~/irclogs/<network tag>/<#channel>.log``, one file for all time.  A line has
only ``HH:MM``: its date is that of the last ``--- Log opened`` or ``--- Day changed``
line above it, and a line before any is reported as not understood.  Times are to the
minute (:data:`PRECISION`).

Bodies::

    <@nick> text    < nick> text    <nick> text              message (nick mode kept out)
     * nick text                                             action
    -nick:#c- text                                           notice
    -!- nick [user@host] has joined #c
    -!- nick [user@host] has left #c [reason]                ("[]" without one)
    -!- nick [user@host] has quit [reason]
    -!- bob was kicked from #c by op [reason]
    -!- old is now known as new
    -!- mode/#c [+o bob] by op        -!- ServerMode/#c [+nt] by irc.server
    -!- op changed the topic of #c to: topic      -!- Topic unset by op on #c
    -!- Topic for #c: topic           (the topic shown on joining: topic_info)
    -!- Topic set by op [user@host] [date]        (its setter, put on that record)
    -!- Netsplit a.net <-> b.net quits: n1, n2    (a quit for each nick named,
                                                   reason "a.net b.net", as the server's)
    -!- Netsplit over, joins: n1, n2              (a join for each)

Left out, counted: the open/close/day lines; ``-!- You're now known as x`` (the old
nick is not in the line); ``-!- mode/#c [+nt]`` (the modes shown on joining);
``-!- Irssi: ...`` (the client's own notes); names lists (``[Users #c]``, ``[@op]
[ bob]``); irssi's own notices ``[notice(#c)] text`` (they do not name the sender).
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
from logbot.config.text_layout import MONTHS
from logbot.logs.record import LogRecord

__all__ = ["PRECISION", "PROGRAM", "name_of", "parse"]

PROGRAM = "irssi"
#: Seconds a line's time may be off from when it happened: irssi writes no seconds.
PRECISION = 60

_DAYS = r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)"
_MONTH = r"(?P<mon>[A-Z][a-z]{2})"
_OPENED = re.compile(
    rf"--- Log (?:opened|closed) {_DAYS} {_MONTH} (?P<d>\d\d) \d\d:\d\d:\d\d (?P<y>\d{{4}})"
)
_DAY_CHANGED = re.compile(rf"--- Day changed {_DAYS} {_MONTH} (?P<d>\d\d) (?P<y>\d{{4}})")
_TIME = re.compile(r"(\d\d):(\d\d) ")

_MESSAGE = re.compile(r"<[~&@%+ ]?([^\s<>]+)>(?: (.*))?")
_ACTION = re.compile(r" \* (\S+)(?: (.*))?")
_NOTICE = re.compile(r"-([^\s:]+):[#&+!]\S*-(?: (.*))?")
_UH = r"\[(?P<uh>[^\]\s]*)\]"
_EVENTS: list[tuple[str, re.Pattern[str]]] = [
    ("join", re.compile(rf"(?P<n>\S+) {_UH} has joined \S+")),
    ("part", re.compile(rf"(?P<n>\S+) {_UH} has left \S+ \[(?P<t>.*)\]")),
    ("quit", re.compile(rf"(?P<n>\S+) {_UH} has quit \[(?P<t>.*)\]")),
    ("kick", re.compile(r"(?P<v>\S+) was kicked from \S+ by (?P<n>\S+) \[(?P<t>.*)\]")),
    ("own nick change", re.compile(r"You're now known as \S+")),
    ("nick", re.compile(r"(?P<n>\S+) is now known as (?P<v>\S+)")),
    ("mode", re.compile(r"(?:mode|ServerMode)/\S+ \[(?P<t>.*)\] by (?P<n>\S+)")),
    ("channel modes", re.compile(r"mode/\S+ \[.*\]")),
    ("topic", re.compile(r"(?P<n>\S+) changed the topic of \S+ to: (?P<t>.*)")),
    ("unset", re.compile(r"Topic unset by (?P<n>\S+) on \S+")),
    ("topic_info", re.compile(r"Topic for \S+: (?P<t>.*)")),
    ("no topic", re.compile(r"No topic set for \S+")),
    ("setter", re.compile(r"Topic set by (?P<n>[^\s\[]+)(?: \[(?P<uh>[^\]]*)\])?(?: \[.*\])?")),
    ("netsplit", re.compile(r"Netsplit (?P<a>\S+) <-> (?P<b>\S+) quits: (?P<l>.*)")),
    ("netjoin", re.compile(r"Netsplit over, joins: (?P<l>.*)")),
    ("client note", re.compile(r"Irssi: .*")),
]
#: Kinds of ``-!-`` lines that give no record.
_LEFT = frozenset({"own nick change", "channel modes", "client note", "no topic"})
_MORE = re.compile(r" \(\+\d+ more(?:, [^)]*)?\)$")


def name_of(path: Path) -> FileName | None:
    """The channel a ``<#channel>.log`` name gives (else its folder's); None when it is
    not a ``.log`` file."""
    if not path.name.endswith(".log"):
        return None
    stem = path.name[: -len(".log")]
    if channel_like(stem):
        return FileName(stem)
    folder = path.parent.name
    return FileName(folder if channel_like(folder) else None)


def _date(m: re.Match[str]) -> date | None:
    if m["mon"] not in MONTHS:
        return None
    try:
        return date(int(m["y"]), MONTHS.index(m["mon"]) + 1, int(m["d"]))
    except ValueError:
        return None


def parse(lines: Iterable[tuple[int, str]], src: Source) -> Iterator[Item]:
    """The records (and what was left out or not understood) of a file's lines."""
    day: date | None = None
    held: LogRecord | None = None  # a topic_info waiting for its "Topic set by" line
    for number, line in lines:
        if line.startswith("--- "):
            m = _OPENED.fullmatch(line) or _DAY_CHANGED.fullmatch(line)
            found = None if m is None else _date(m)
            if found is None:
                yield Unread(number, "not an irssi log open or day change line", line)
            else:
                day = found
                yield Left(number, "log opened/closed" if "Log" in line[:8] else "day changed")
            continue
        m = _TIME.match(line)
        if m is None or int(m[1]) > 23 or int(m[2]) > 59:
            yield Unread(number, "no irssi time stamp (HH:MM) at the start", line)
            continue
        if day is None:
            yield Unread(number, "no date yet (no 'Log opened' or 'Day changed' above)", line)
            continue
        try:
            when = src.local(datetime(day.year, day.month, day.day, int(m[1]), int(m[2])))
        except ValueError:
            yield Unread(number, "not a valid date or time", line)
            continue
        items = list(_body(line[m.end() :], when, src, number))
        if held is not None:
            first = items[0] if len(items) == 1 else None
            if isinstance(first, tuple):
                nick, user, host = first
                held = src.record(held.time, "topic_info", nick, user=user, host=host,
                                  text=held.text)  # fmt: skip
                yield held
                held = None
                yield Left(number, "topic setter (put on the topic's record)")
                continue
            yield held
            held = None
        for item in items:
            if isinstance(item, LogRecord) and item.type == "topic_info":
                held = item
            elif isinstance(item, tuple):
                yield Left(number, "topic setter without a topic")
            elif item is None:
                yield Unread(number, "not an irssi line", line)
            else:
                yield item
    if held is not None:
        yield held


_Out = Item | tuple[str, str | None, str | None] | None


def _body(body: str, when: datetime, src: Source, number: int) -> Iterator[_Out]:
    """What one body gives: items, a (nick, user, host) "Topic set by" setter, or None
    for a line not understood."""
    if body.startswith("-!- "):
        yield from _event(body[4:], when, src, number)
        return
    if body.startswith("[") and not body.startswith("[notice("):
        yield Left(number, "names list")
        return
    if body.startswith("[notice("):
        yield Left(number, "own notice (sender not in the line)")
        return
    for regex, kind in ((_MESSAGE, "message"), (_ACTION, "action"), (_NOTICE, "notice")):
        m = regex.fullmatch(body)
        if m is not None:
            yield src.record(when, kind, m[1], text=m[2] or "")
            return
    yield None


def _nicks(listed: str) -> list[str]:
    return [n for n in _MORE.sub("", listed).split(", ") if n and " " not in n]


def _event(rest: str, when: datetime, src: Source, number: int) -> Iterator[_Out]:
    for kind, regex in _EVENTS:
        m = regex.fullmatch(rest)
        if m is None:
            continue
        g = m.groupdict()
        if kind in _LEFT:
            yield Left(number, kind)
        elif kind == "setter":
            user, host = split_userhost(g["uh"] or "")
            yield (g["n"], user, host)
        elif kind == "netsplit":
            reason = f"{g['a']} {g['b']}"
            for nick in _nicks(g["l"]):
                yield src.record(when, "quit", nick, text=reason)
        elif kind == "netjoin":
            for nick in _nicks(g["l"]):
                yield src.record(when, "join", nick)
        else:
            yield _simple(kind, g, when, src)
        return
    yield None


def _simple(kind: str, g: dict[str, str], when: datetime, src: Source) -> LogRecord:
    nick = g.get("n")
    user, host = split_userhost(g["uh"]) if g.get("uh") else (None, None)
    if kind == "unset":
        return src.record(when, "topic", nick, text="")
    if kind in ("kick", "nick"):
        return src.record(when, kind, nick, target=g["v"], text=g.get("t") or None)
    if kind in ("mode", "topic", "topic_info"):
        return src.record(when, kind, nick, text=g["t"])
    return src.record(when, kind, nick, user=user, host=host, text=g.get("t") or None)
