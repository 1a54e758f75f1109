"""A jsonl line as an event for the PostgreSQL archive: parsed, checked, keyed.

Why two keys per line:

- ``line_hash`` (16 bytes of BLAKE2b over the line's bytes) names *this bot's line*:
  the feed records (instance, line_hash) for every line it stores or matches, so a
  line read again (after ``kill -9`` between the database's commit and the feed
  state's, a lost feed state, a rotation that renamed the file) is recognised and
  skipped.  One bot never writes the same line twice (its records carry the time to
  the millisecond), so the hash is as good as a position that no rename can change.
- ``match_key`` (8 bytes of BLAKE2b, as a signed 64-bit integer) is what *two bots*
  agree on for one event: network, channel key, type, folded nick, text and target.
  Not the time: without ``server-time`` each bot stamps a line with its own clock;
  the feed compares times within ``dedupe_window`` (:mod:`.matching`).  Not the user
  and host, nor the account (a bot without ``account-tag`` does not know it), nor the
  tags.

A line is an event when it is a JSON object with an integer ``time_ms`` in the
schema's range, a ``time`` whose date can be read, and non-empty string ``network``,
``channel`` and ``type`` (the rule of the SQLite index); anything else is a bad line,
counted and skipped.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from logbot.archive.index.records import clean, essentials, fold
from logbot.logs.record import MARKERS

__all__ = ["Event", "gap_start_ms", "match_key", "parse_event"]


@dataclass(slots=True)
class Event:
    """One line of one bot, ready for the database."""

    line_hash: bytes
    network: str
    channel: str  # the key (RFC 1459 folding)
    name: str
    day: str
    time_ms: int
    type: str
    nick: str | None
    nick_key: str | None
    text: str | None
    msgid: str | None
    match_key: int
    marker: bool
    gap_from_ms: int | None
    record: str


def _text(value: str) -> str:
    """``value`` as PostgreSQL can store it: no lone surrogates (:func:`clean`) and no
    NUL (a JSON ``\\u0000`` escape), which no PostgreSQL text may hold: U+FFFD instead."""
    value = clean(value)
    return value.replace("\0", "\ufffd") if "\0" in value else value


def _str(value: Any) -> str | None:
    return _text(value) if type(value) is str else None


def match_key(
    network: str, channel: str, kind: str, nick_key: str | None, text: str | None, target: Any
) -> int:
    """The 64-bit key two bots' copies of one event share (the module's docstring)."""
    aim = target if type(target) is str else ""
    parts = (network, channel, kind, nick_key or "", text or "", aim)
    digest = hashlib.blake2b("\0".join(parts).encode("utf-8", "replace"), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def gap_start_ms(record: dict[str, Any]) -> int | None:
    """A gap line's start: its ``target`` (an ISO 8601 time) in Unix milliseconds."""
    target = record.get("target")
    if type(target) is not str:
        return None
    try:
        when = datetime.datetime.fromisoformat(target.replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.UTC)
    return int(when.timestamp() * 1000)


def parse_event(raw: bytes) -> Event | None:
    """``raw`` (one jsonl line, without its newline) as an :class:`Event`; None for a
    bad line."""
    try:
        line = raw.decode("utf-8")
        record = json.loads(line)
    except (ValueError, RecursionError):
        return None
    fields = essentials(record)
    if fields is None:
        return None
    ms, network, name, kind, day = fields
    network, name, kind = _text(network), _text(name), _text(kind)
    nick, text = _str(record.get("nick")), _str(record.get("text"))
    msgid = _str(record.get("msgid"))
    channel = fold(name)
    nick_key = None if nick is None else fold(nick)
    marker = kind in MARKERS
    return Event(
        line_hash=hashlib.blake2b(raw, digest_size=16).digest(),
        network=network,
        channel=channel,
        name=name,
        day=day,
        time_ms=ms,
        type=kind,
        nick=nick,
        nick_key=nick_key,
        text=text,
        msgid=None if marker else msgid,
        match_key=match_key(network, channel, kind, nick_key, text, record.get("target")),
        marker=marker,
        gap_from_ms=gap_start_ms(record) if kind == "gap" else None,
        record=clean(line),
    )
