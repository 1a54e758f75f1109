"""The two log line formats: ``text`` for people and ``jsonl`` for programs.

``text`` is one line per record, ``<time> <body>``, with the time in the channel's
timezone to the second and a body per record type in the traditional IRC-client
shape (``<nick> hello``, ``*** nick <nick!user@host> has joined #c``).  A log is
read line by line, so a CR, LF or NUL that slipped into a field is written as
``\\r``, ``\\n``, ``\\0`` (two characters, no space).  And a log is read in a
terminal (``cat``, ``tail -f``, ``less -R``), where anyone on the channel could
otherwise set the window title, clear the screen, hide text or write the
operator's clipboard (OSC 52) with an escape sequence: so every other C0 control
character, DEL and every C1 one (U+0080..U+009F, which some terminals obey like ESC)
is written as ``\\xHH`` (lower-case hex), except the mIRC formatting codes (bold,
colour, hex colour, reset, monospace, reverse, italic, strikethrough, underline),
which terminals ignore and log readers such as irclog2html render.

The escaping can be undone: a backslash that is already in the text is doubled when,
and only when, what follows it would otherwise read as one of these escapes (another
backslash, ``r``, ``n``, ``0``, ``x``, or an escaped character).  So ``\\o/`` and
``C:\\Users`` stay as they were, and reading ``\\\\`` as ``\\``, ``\\r``, ``\\n``,
``\\0``, ``\\xHH`` as the characters they stand for, and any other backslash as
itself gives back the text exactly.

``jsonl`` is one JSON object per line with every field of the record, the time
to the millisecond, so nothing is lost to the ``text`` rendering: when a server-time
stamp was not used (``record.server_time``), it follows ``time_source`` with why; a
line recovered from history after a gap follows with ``"replayed":true`` and its
``replay_source``.

Both run for every logged line (the bench aims at 150K lines/s), hence the
shortcuts: a dict from type to a small function, the text escapes skipped for a line
with nothing to escape (``in`` and ``str.isprintable``, both C loops: an ordinary line
pays about 0.1 us for the check and nothing more; one with colour codes or ``\\o/``
0.2 us more for a regex search; ``bench/bench_formats.py``), a one-entry cache of the last
timestamp's rendering (lines come in bursts from the same second), and the JSON
object assembled from pre-encoded keys with the C string encoder ``json`` itself
uses.  The output is byte for byte that of ``json.dumps(obj, ensure_ascii=False,
separators=(",", ":"))``; the tests check that.
"""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Callable
from json.encoder import encode_basestring  # the C version when _json is there

from logbot.logs.record import MARKERS, TYPES, LogRecord

__all__ = ["ESCAPED", "FORMATTERS", "MIRC_CODES", "format_jsonl", "format_text"]

# ---------------------------------------------------------------------- text

#: The mIRC formatting codes, kept as received: bold, colour, hex colour, reset,
#: monospace, reverse, italic, strikethrough, underline.  Terminals ignore them.
MIRC_CODES = "\x02\x03\x04\x0f\x11\x16\x1d\x1e\x1f"
#: What the text format writes escaped: C0 but the mIRC codes, DEL, C1.
ESCAPED = "".join(
    c for c in map(chr, [*range(0x20), 0x7F, *range(0x80, 0xA0)]) if c not in MIRC_CODES
)
_ESCAPES = {c: f"\\x{ord(c):02x}" for c in ESCAPED} | {"\r": "\\r", "\n": "\\n", "\0": "\\0"}
_CLASS = "".join(f"\\x{ord(c):02x}" for c in ESCAPED)
_CONTROL = re.compile(f"[{_CLASS}]")
# A backslash that would read as the start of an escape: doubled (see the docstring).
_AMBIGUOUS_BACKSLASH = re.compile(f"\\\\(?=[\\\\rn0x{_CLASS}])")


def _escape_one(match: re.Match[str]) -> str:
    return _ESCAPES[match[0]]


def _double(match: re.Match[str]) -> str:
    return "\\\\"


def _mask(r: LogRecord) -> str:
    user = "?" if r.user is None else r.user
    host = "?" if r.host is None else r.host
    return f"{r.nick or '?'}!{user}@{host}"


def _reason(text: str | None) -> str:
    return f" ({text})" if text else ""


# A missing text is written as nothing, a missing nick or target as "?".
_BODIES: dict[str, Callable[[LogRecord], str]] = {
    "message": lambda r: f"<{r.nick or '?'}> {r.text or ''}",
    "action": lambda r: f"* {r.nick or '?'} {r.text or ''}",
    "notice": lambda r: f"-{r.nick or '?'}- {r.text or ''}",
    "join": lambda r: f"*** {r.nick or '?'} <{_mask(r)}> has joined {r.channel}",
    "part": lambda r: f"*** {r.nick or '?'} <{_mask(r)}> has left {r.channel}{_reason(r.text)}",
    "quit": lambda r: f"*** {r.nick or '?'} <{_mask(r)}> has quit IRC{_reason(r.text)}",
    "nick": lambda r: f"*** {r.nick or '?'} is now known as {r.target or '?'}",
    "kick": lambda r: f"*** {r.target or '?'} was kicked by {r.nick or '?'}{_reason(r.text)}",
    "mode": lambda r: f"*** {r.nick or '?'} sets mode: {r.text or ''}",
    "topic": lambda r: f'*** {r.nick or "?"} changes topic to "{r.text or ""}"',
    "topic_info": lambda r: (
        f'*** topic for {r.channel} is "{r.text or ""}"' + (f" (set by {r.nick})" if r.nick else "")
    ),
    "chghost": lambda r: f"*** {r.nick or '?'} changed host to {r.target or '?'}",
    "setname": lambda r: f'*** {r.nick or "?"} changed realname to "{r.text or ""}"',
    "away": lambda r: f"*** {r.nick or '?'} is away{_reason(r.text)}",
    "back": lambda r: f"*** {r.nick or '?'} is back",
}
for _marker in MARKERS:
    _BODIES[_marker] = lambda r: f"*** logbot: {r.text or ''}"
del _marker
assert _BODIES.keys() == TYPES, "every record type needs a text body"

# (time, tz, text stamp, JSON stamp) of the last time rendered, shared by both formats
# (a line is usually written in both): one isoformat() per time, replaced in one
# assignment.  The text stamp is the JSON one without its milliseconds.
_stamps: tuple[object, object, str, str] = (None, None, "", "")
_UTC = datetime.UTC  # what rotation.zone("UTC") gives


def _stamp(record: LogRecord, tz: datetime.tzinfo) -> tuple[object, object, str, str]:
    global _stamps
    when = record.time
    raw = record.tags.get("time") if tz is _UTC and record.time_source == "server" else None
    if (
        raw is not None
        and len(raw) == 24
        and raw[23] == "Z"
        and raw[19] == "."
        and raw[10] == "T"
        and raw[13] == raw[16] == ":"
        and raw.isascii()
    ):
        # The server's own "2026-11-27T10:00:05.123Z" is already the UTC rendering:
        # isoformat() would cost more than all the rest of the line's formatting.  It
        # parsed as a time (record.time), so it holds digits and these separators only.
        full = raw[:23] + "+00:00"
    else:
        full = when.astimezone(tz).isoformat(timespec="milliseconds")  # ....123+01:00
    _stamps = (when, tz, full[:19] + full[23:], f'"{full}"')  # digits, T, :, ., +: no escapes
    return _stamps


def format_text(record: LogRecord, tz: datetime.tzinfo) -> str:
    """``<time> <body>\\n``: one physical line, the time in ``tz`` to the second."""
    try:
        body = _BODIES[record.type](record)
    except KeyError:
        if record.type in _BODIES:
            raise
        raise ValueError(f"unknown log record type {record.type!r}") from None
    # Searched before any substitution, which costs several times more even when it
    # finds nothing (str.translate with these multi-character escapes has no fast path:
    # 1.3 us for a coloured line); isprintable() is False for every control character
    # (and for a few harmless ones, NBSP, ZWJ...: the search finds nothing, the line
    # is kept).
    if "\\" in body and _AMBIGUOUS_BACKSLASH.search(body) is not None:
        body = _AMBIGUOUS_BACKSLASH.sub(_double, body)  # first: on the text as received
    if not body.isprintable() and _CONTROL.search(body) is not None:
        body = _CONTROL.sub(_escape_one, body)
    stamps = _stamps
    if stamps[0] != record.time or stamps[1] is not tz:
        stamps = _stamp(record, tz)
    return f"{stamps[2]} {body}\n"


# --------------------------------------------------------------------- jsonl

_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def _tags(tags: object) -> str:
    if not tags:
        return "{}"
    enc = encode_basestring
    return (
        "{"
        + ",".join(
            [
                enc(k) + ":" + ("null" if v is None else enc(v))
                for k, v in tags.items()  # type: ignore[attr-defined]
            ]
        )
        + "}"
    )


def _rejected(server_time: str, why: str | None) -> str:
    """The keys after ``time_source`` of a record whose server-time was not used."""
    enc = encode_basestring
    return f',"server_time":{enc(server_time)},"server_time_rejected":{enc(why or "invalid")}'


def format_jsonl(record: LogRecord, tz: datetime.tzinfo) -> str:
    """One JSON object and ``\\n``: time (to the millisecond, in ``tz``), time_source,
    server_time and server_time_rejected (only when the server's stamp was not used),
    replayed (true) and replay_source (only for a line recovered from history), type,
    network, channel, nick, user, host, account, text, target (only when not None), msgid,
    tags, in that order; None is null."""
    if record.type not in TYPES:
        raise ValueError(f"unknown log record type {record.type!r}")
    stamps = _stamps
    if stamps[0] != record.time or stamps[1] is not tz:
        stamps = _stamp(record, tz)
    stamp = stamps[3]
    enc = encode_basestring  # "null" if None else enc(...), written out: every line
    try:
        nick, user, host, account = record.nick, record.user, record.host, record.account
        text, target, msgid = record.text, record.target, record.msgid
        source = enc(record.time_source)
        if record.server_time is not None:  # a stamp not used: two keys more, then
            source += _rejected(record.server_time, record.server_time_rejected)
        if record.replayed is not None:  # recovered from history: two keys more
            source += f',"replayed":true,"replay_source":{enc(record.replayed)}'
        return (
            f'{{"time":{stamp},"time_source":{source}'
            f',"type":{enc(record.type)},"network":{enc(record.network)}'
            f',"channel":{enc(record.channel)}'
            f',"nick":{"null" if nick is None else enc(nick)}'
            f',"user":{"null" if user is None else enc(user)}'
            f',"host":{"null" if host is None else enc(host)}'
            f',"account":{"null" if account is None else enc(account)}'
            f',"text":{"null" if text is None else enc(text)}'
            + ("" if target is None else f',"target":{enc(target)}')
            + f',"msgid":{"null" if msgid is None else enc(msgid)}'
            f',"tags":{_tags(record.tags)}}}\n'
        )
    except TypeError:  # a field that is not a str: let json render (or refuse) it
        return _JSON.encode(_as_dict(record, tz)) + "\n"


def _as_dict(record: LogRecord, tz: datetime.tzinfo) -> dict[str, object]:
    obj: dict[str, object] = {
        "time": record.time.astimezone(tz).isoformat(timespec="milliseconds"),
        "time_source": record.time_source,
    }
    if record.server_time is not None:
        obj["server_time"] = record.server_time
        obj["server_time_rejected"] = record.server_time_rejected or "invalid"
    if record.replayed is not None:
        obj["replayed"] = True
        obj["replay_source"] = record.replayed
    obj |= {
        "type": record.type,
        "network": record.network,
        "channel": record.channel,
        "nick": record.nick,
        "user": record.user,
        "host": record.host,
        "account": record.account,
        "text": record.text,
    }
    if record.target is not None:
        obj["target"] = record.target
    obj["msgid"] = record.msgid
    obj["tags"] = dict(record.tags)
    return obj


FORMATTERS: dict[str, Callable[[LogRecord, datetime.tzinfo], str]] = {
    "text": format_text,
    "jsonl": format_jsonl,
}
