"""WeeChat's logger files, read into records.

Where the layout comes from (WeeChat's source, weechat/weechat):
``src/plugins/logger/logger-config.c`` (the defaults: ``logger.file.path``
``${weechat_data_dir}/logs``, ``logger.file.mask`` ``$plugin.$name.weechatlog``,
``name_lower_case`` on, ``replacement_char`` ``_``, ``time_format`` ``%Y-%m-%d
%H:%M:%S``, ``info_lines`` off, ``nick_prefix``/``nick_suffix`` empty),
``src/plugins/logger/logger.c`` (``logger_print_cb``: ``<time>\\t<prefix>\\t<message>``,
colours stripped), ``src/plugins/logger/logger-buffer.c`` (the ``****  Beginning of
log  ****`` and ``****  End of log  ****`` info lines, two fields only) and
``src/plugins/irc/irc-protocol.c`` (the words of each event) and
``src/core/wee-config.c`` (the prefixes: ``weechat.look.prefix_join`` ``-->``,
``prefix_quit`` ``<--``, ``prefix_network`` ``--``, ``prefix_action`` `` *``).

Files: ``~/.local/share/weechat/logs/irc.<server>.<#channel>.weechatlog`` (WeeChat
3.2 and later; ``~/.weechat/logs/`` before), lower case, and its size rotations
``...weechatlog.1``, ``.2`` (older the higher; compressed ones are not read).  The
server is what comes before the first ``.`` + channel prefix.

Lines, ``<time>\\t<prefix>\\t<message>``::

    @op / +voiced / nick   text                          message (the nick mode kept out)
     *     nick text                                     action
    -->    nick [account] (realname) (user@host) has joined #c   (the [...] and first
                                                         (...) only with extended-join)
    <--    nick (user@host) has left #c (reason)         ("(reason)" only with one)
    <--    nick (user@host) has quit (reason)
    <--    op has kicked bob (reason)
    --     old is now known as new
    --     Mode #c [+o bob] by op
    --     op has changed topic for #c to "new"          (also: from "old" to "new")
    --     op has unset topic for #c                     (also: (old topic: "..."))
    --     Topic for #c is "topic"   then   Topic set by op (user@host) on <date>
    --     Notice(nick) -> #c: text                      notice
    --     Msg(nick) -> @#c: text                        message to the ops: target @#c

Left out, counted: the info lines, ``You are now known as x`` (the old nick is not in
the line), ``Mode #c [+nt]`` (the modes shown on joining), the client's notes on
joining (``Channel #c: ... nicks``, ``Nicks #c: [...]``, ``Channel created on ...``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from datetime import datetime
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
from logbot.logs.record import LogRecord

__all__ = ["PRECISION", "PROGRAM", "name_of", "parse"]

PROGRAM = "weechat"
#: Seconds a line's time may be off from when it happened: its stamp has seconds.
PRECISION = 1

_NAME = re.compile(r"irc\.(?P<server>[^#&+!]+?)\.(?P<channel>[#&+!].*)\.weechatlog(?:\.(\d+))?")
_TIME = re.compile(r"(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)")
_INFO = re.compile(r"\*\*\*\*\s+(?:Beginning|End) of log\s+\*\*\*\*")
_NICK_PREFIX = re.compile(r"[~&@%+!]?([A-Za-z\[\]\\`_^{|}][A-Za-z0-9\[\]\\`_^{|}-]*)")
_HOST = r"(?: \((?P<uh>[^()\s]*)\))?"
_JOINS: list[tuple[str, re.Pattern[str]]] = [
    (
        "join",
        re.compile(
            r"(?P<n>\S+)(?: \[(?P<a>[^\]]*)\])?(?: \((?P<real>.*?)\))??"
            rf"{_HOST} has joined \S+"
        ),
    ),
]
_QUITS: list[tuple[str, re.Pattern[str]]] = [
    ("part", re.compile(rf"(?P<n>\S+){_HOST} has left \S+(?: \((?P<t>.*)\))?")),
    ("quit", re.compile(rf"(?P<n>\S+){_HOST} has quit(?: \((?P<t>.*)\))?")),
    ("kick", re.compile(r"(?P<n>\S+) has kicked (?P<v>\S+)(?: \((?P<t>.*)\))?")),
]
_NETWORK: list[tuple[str, re.Pattern[str]]] = [
    ("own nick change", re.compile(r"You are now known as \S+")),
    ("nick", re.compile(r"(?P<n>\S+) is now known as (?P<v>\S+)")),
    ("mode", re.compile(r"Mode \S+ \[(?P<t>.*)\] by (?P<n>\S+)")),
    ("channel modes", re.compile(r"Mode \S+ \[.*\]")),
    ("topic", re.compile(r'(?P<n>\S+) has changed topic for \S+ (?:from ".*" )?to "(?P<t>.*)"')),
    ("unset", re.compile(r'(?P<n>\S+) has unset topic for \S+(?: \(old topic: ".*"\))?')),
    ("topic_info", re.compile(r'Topic for \S+ is "(?P<t>.*)"')),
    ("setter", re.compile(r"Topic set by (?P<n>\S+?)(?: \((?P<uh>[^()\s]*)\))?(?: on .*)?")),
    ("notice", re.compile(r"Notice\([~&@%+!]?(?P<n>[^()\s]+)\) -> [#&+!]\S*: (?P<t>.*)")),
    ("statusmsg", re.compile(r"Msg\([~&@%+!]?(?P<n>[^()\s]+)\) -> (?P<v>\S+): (?P<t>.*)")),
    ("client note", re.compile(r"Channel \S+: \d+ nicks? .*|Nicks \S+: .*|Channel created on .*")),
]
_LEFT = frozenset({"own nick change", "channel modes", "client note"})
_TABLES = {"-->": _JOINS, "<--": _QUITS, "--": _NETWORK}


def name_of(path: Path) -> FileName | None:
    """The channel of an ``irc.<server>.<#channel>.weechatlog[.N]`` file, rotations
    ranked older than the live file; a ``.weechatlog`` file of another name (a server
    or private buffer) has none; None for anything else."""
    name = path.name
    if ".weechatlog" not in name:
        return None
    m = _NAME.fullmatch(name)
    if m is None:
        return FileName(None) if re.search(r"\.weechatlog(?:\.\d+)?$", name) else None
    channel = m["channel"]
    rank = -int(m[3]) if m[3] else 0
    return FileName(channel if channel_like(channel) else None, rank=rank)


def parse(lines: Iterable[tuple[int, str]], src: Source) -> Iterator[Item]:
    """The records (and what was left out or not understood) of a file's lines."""
    held: LogRecord | None = None  # a topic_info waiting for its "Topic set by" line
    for number, line in lines:
        fields = line.split("\t", 2)
        m = _TIME.fullmatch(fields[0])
        if m is None:
            yield Unread(number, "no WeeChat time stamp (YYYY-MM-DD HH:MM:SS) at the start", line)
            continue
        y, mo, d, h, mi, s = (int(x) for x in m.groups())
        try:
            when = src.local(datetime(y, mo, d, h, mi, s))
        except ValueError:
            yield Unread(number, "not a valid date or time", line)
            continue
        if len(fields) == 2 and _INFO.fullmatch(fields[1]):
            yield Left(number, "log opened/closed")
            continue
        if len(fields) != 3:
            yield Unread(number, "not <time> TAB <prefix> TAB <message>", line)
            continue
        prefix, message = fields[1], fields[2]
        item = _line(prefix, message, when, src, number)
        if isinstance(item, tuple):
            if held is not None:
                nick, user, host = item
                yield src.record(held.time, "topic_info", nick, user=user, host=host,
                                 text=held.text)  # fmt: skip
                held = None
                yield Left(number, "topic setter (put on the topic's record)")
            else:
                yield Left(number, "topic setter without a topic")
            continue
        if held is not None:
            yield held
            held = None
        if isinstance(item, LogRecord) and item.type == "topic_info":
            held = item
        elif item is None:
            yield Unread(number, "not a WeeChat IRC line", line)
        else:
            yield item
    if held is not None:
        yield held


_Out = Item | tuple[str, str | None, str | None] | None


def _line(prefix: str, message: str, when: datetime, src: Source, number: int) -> _Out:
    if prefix in (" *", "*"):  # " *" by default, "*" in old versions
        actor, _, text = message.partition(" ")
        return src.record(when, "action", actor, text=text) if actor else None
    table = _TABLES.get(prefix)
    if table is None:
        m = _NICK_PREFIX.fullmatch(prefix)
        return None if m is None else src.record(when, "message", m[1], text=message)
    for kind, regex in table:
        m = regex.fullmatch(message)
        if m is None:
            continue
        g = m.groupdict()
        if kind in _LEFT:
            return Left(number, kind)
        nick = g.get("n")
        if kind == "setter":
            user, host = split_userhost(g["uh"] or "")
            return (g["n"], user, host)
        if kind == "unset":
            return src.record(when, "topic", nick, text="")
        if kind == "statusmsg":
            return src.record(when, "message", nick, text=g["t"], target=g["v"])
        if kind in ("kick", "nick"):
            return src.record(when, kind, nick, target=g["v"], text=g.get("t") or None)
        if kind in ("mode", "topic", "topic_info", "notice"):
            return src.record(when, kind, None if kind == "topic_info" else nick, text=g["t"])
        user, host = split_userhost(g.get("uh") or "")
        account = g.get("a") or None
        return src.record(
            when, kind, nick, user=user, host=host, account=account, text=g.get("t") or None
        )
    return None
