"""The two log line formats: ``text`` for people and ``jsonl`` for programs.

``text`` is one line per record, ``<time> <body>``, with the time in the channel's
timezone to the second and a body per record type in the traditional IRC-client
shape (``<nick> hello``, ``*** nick <nick!user@host> has joined #c``).  A log is
read line by line, so a CR, LF or NUL that slipped into a field is written as
``\\r``, ``\\n``, ``\\0`` (two characters, no space); everything else, colour codes
included, is written as received.

``jsonl`` is one JSON object per line with every field of the record, the time
to the millisecond, so nothing is lost to the ``text`` rendering.

Both run for every logged line (the bench aims at 150K lines/s), hence the
shortcuts: a dict from type to a small function, a one-entry cache of the last
timestamp's rendering (lines come in bursts from the same second), and the JSON
object assembled from pre-encoded keys with the C string encoder ``json`` itself
uses.  The output is byte for byte that of ``json.dumps(obj, ensure_ascii=False,
separators=(",", ":"))``; the tests check that.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable
from json.encoder import encode_basestring  # the C version when _json is there

from logbot.bot.record import MARKERS, TYPES, LogRecord

__all__ = ["FORMATTERS", "format_jsonl", "format_text"]

# ---------------------------------------------------------------------- text

_LINE_ESCAPES = str.maketrans({"\r": "\\r", "\n": "\\n", "\0": "\\0"})


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
        f'*** topic for {r.channel} is "{r.text or ""}"'
        + (f" (set by {r.nick})" if r.nick else "")
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

# (time, tz, rendering) of the last call: a tuple, replaced in one assignment
_text_time: tuple[object, object, str] = (None, None, "")


def format_text(record: LogRecord, tz: datetime.tzinfo) -> str:
    """``<time> <body>\\n``: one physical line, the time in ``tz`` to the second."""
    global _text_time
    try:
        body = _BODIES[record.type](record)
    except KeyError:
        if record.type in _BODIES:
            raise
        raise ValueError(f"unknown log record type {record.type!r}") from None
    if "\n" in body or "\r" in body or "\0" in body:
        body = body.translate(_LINE_ESCAPES)
    when, when_tz, stamp = _text_time
    if when != record.time or when_tz is not tz:
        stamp = record.time.astimezone(tz).isoformat(timespec="seconds")
        _text_time = (record.time, tz, stamp)
    return f"{stamp} {body}\n"


# --------------------------------------------------------------------- jsonl

_json_time: tuple[object, object, str] = (None, None, "")
_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def _string_or_null(value: str | None) -> str:
    return "null" if value is None else encode_basestring(value)


def _tags(tags: object) -> str:
    if not tags:
        return "{}"
    return "{" + ",".join(
        f"{encode_basestring(k)}:{'null' if v is None else encode_basestring(v)}"
        for k, v in tags.items()  # type: ignore[attr-defined]
    ) + "}"


def format_jsonl(record: LogRecord, tz: datetime.tzinfo) -> str:
    """One JSON object and ``\\n``: time (to the millisecond, in ``tz``), time_source, type,
    network, channel, nick, user, host, account, text, target (only when not None), msgid,
    tags, in that order; None is null."""
    global _json_time
    if record.type not in TYPES:
        raise ValueError(f"unknown log record type {record.type!r}")
    when, when_tz, stamp = _json_time
    if when != record.time or when_tz is not tz:
        stamp = encode_basestring(record.time.astimezone(tz).isoformat(timespec="milliseconds"))
        _json_time = (record.time, tz, stamp)
    try:
        target = record.target
        return (
            f'{{"time":{stamp},"time_source":{encode_basestring(record.time_source)}'
            f',"type":{encode_basestring(record.type)}'
            f',"network":{encode_basestring(record.network)}'
            f',"channel":{encode_basestring(record.channel)}'
            f',"nick":{_string_or_null(record.nick)}'
            f',"user":{_string_or_null(record.user)}'
            f',"host":{_string_or_null(record.host)}'
            f',"account":{_string_or_null(record.account)}'
            f',"text":{_string_or_null(record.text)}'
            + ("" if target is None else f',"target":{encode_basestring(target)}')
            + f',"msgid":{_string_or_null(record.msgid)},"tags":{_tags(record.tags)}}}\n'
        )
    except TypeError:  # a field that is not a str: let json render (or refuse) it
        return _JSON.encode(_as_dict(record, tz)) + "\n"


def _as_dict(record: LogRecord, tz: datetime.tzinfo) -> dict[str, object]:
    obj: dict[str, object] = {
        "time": record.time.astimezone(tz).isoformat(timespec="milliseconds"),
        "time_source": record.time_source,
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
