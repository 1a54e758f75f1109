"""Search hits for people (a terminal) and for programs (``--json``, one object a line).

Why every field passes :func:`visible`: the lines were written by anyone on IRC (and
the files may have been edited), and a terminal obeys what it is sent.  An escape
sequence in a message could move the cursor, rewrite the lines above, set the window
title or the clipboard (OSC 52); a bidirectional override could make a line read as
another.  So the mIRC formatting codes (bold, colours...) are taken out, and every other
control character, C0 and C1, DEL, the line and paragraph separators, the bidi
controls and lone surrogates are shown as ``\\xHH`` or ``\\uXXXX``.  The colours this
module adds are the only escape sequences written.  The JSON output escapes the same
characters (JSON allows ``\\u`` escapes anywhere in a string), so ``jq`` or a pager
shows them inert too.
"""

from __future__ import annotations

import json
import re
import zlib
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from logbot.archive.model import Hit
from logbot.archive.search.match import Matcher

__all__ = ["GROUP_SEPARATOR", "hit_json", "hit_lines", "record_line", "visible"]

#: Printed between the groups of lines of two hits when context lines are shown.
GROUP_SEPARATOR = "--"

_RESET = "\x1b[0m"
_HIGHLIGHT = "\x1b[1;31m"  # bold red, as grep shows a match
_PLACE = "\x1b[36m"  # network, channel and time: cyan
_DIM = "\x1b[2m"  # context lines
#: Nick colours (a nick keeps its colour from one run to the next: CRC-32 of it).
_NICK_COLOURS = ("\x1b[32m", "\x1b[33m", "\x1b[34m", "\x1b[35m", "\x1b[92m", "\x1b[93m",
                 "\x1b[94m", "\x1b[95m")  # fmt: skip

#: mIRC formatting: colour (``\x03`` with up to two numbers), hex colour, and the codes
#: without parameters (bold, reset, monospace, reverse, italic, strikethrough, underline).
_FORMATTING = re.compile(
    "\x03(?:[0-9]{1,2}(?:,[0-9]{1,2})?)?"
    "|\x04(?:[0-9a-fA-F]{6}(?:,[0-9a-fA-F]{6})?)?"
    "|[\x02\x0f\x11\x16\x1d\x1e\x1f]"
)
#: Bidi controls, line and paragraph separators, lone surrogates: not controls to a
#: terminal, but they can make a line read as another, or not encode at all.
_TRICKY = "\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff"
#: What a terminal could act on, or what could make a line look like another.
_UNSAFE = re.compile(f"[\x00-\x1f\x7f-\x9f{_TRICKY}]")
#: The same, less what JSON escapes itself (C0, as \\uXXXX).
_JSON_UNSAFE = re.compile(f"[\x7f-\x9f{_TRICKY}]")


def _shown(m: re.Match[str]) -> str:
    code = ord(m[0])
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _json_escape(m: re.Match[str]) -> str:
    return f"\\u{ord(m[0]):04x}"


def visible(text: str) -> str:
    """``text`` safe to write to a terminal: formatting codes out, controls shown."""
    if text.isprintable():
        return text
    return _UNSAFE.sub(_shown, _FORMATTING.sub("", text))


def _field(record: Mapping[str, Any], name: str, missing: str = "?") -> str:
    value = record.get(name)
    return visible(value) if isinstance(value, str) else missing


def _when(record: Mapping[str, Any]) -> str:
    """``YYYY-MM-DD HH:MM:SS`` of the record's time as written (the channel's zone)."""
    time = record.get("time")
    if isinstance(time, str) and re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", time):
        return f"{time[:10]} {time[11:19]}"
    ms = record.get("time_ms")
    if isinstance(ms, int):
        try:
            return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S")
        except (OverflowError, OSError, ValueError):
            pass
    return "????-??-?? ??:??:??"


def _reason(text: str) -> list[tuple[str, str]]:
    return [("plain", " ("), ("text", text), ("plain", ")")] if text else []


def _body(record: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The line's body as (kind, text) pieces: ``nick``, ``text`` (the record's text,
    which highlighting applies to) or ``plain``; not yet made visible."""
    kind = record.get("type")
    raw_nick = record.get("nick")
    nick = ("nick", raw_nick if isinstance(raw_nick, str) else "?")
    raw_text = record.get("text")
    text = raw_text if isinstance(raw_text, str) else ""
    said = ("text", text)
    target = record.get("target")
    other = target if isinstance(target, str) else "?"
    if kind == "message":
        return [("plain", "<"), nick, ("plain", "> "), said]
    if kind == "action":
        return [("plain", "* "), nick, ("plain", " "), said]
    if kind == "notice":
        return [("plain", "-"), nick, ("plain", "- "), said]
    stars = ("plain", "*** ")
    simple = {
        "join": " joined",
        "back": " is back",
        "nick": f" is now known as {other}",
        "chghost": f" changed host to {other}",
    }
    if kind in simple:
        return [stars, nick, ("plain", simple[kind])]
    if kind in ("part", "quit", "away"):
        verb = {"part": " left", "quit": " quit", "away": " is away"}[kind]
        return [stars, nick, ("plain", verb), *_reason(text)]
    if kind == "kick":
        return [stars, nick, ("plain", f" kicked {other}"), *_reason(text)]
    if kind == "mode":
        return [stars, nick, ("plain", " sets mode "), said]
    if kind == "topic":
        return [stars, nick, ("plain", " changed the topic to: "), said]
    if kind == "setname":
        return [stars, nick, ("plain", " changed realname to: "), said]
    if kind == "topic_info":
        by = [("plain", " (set by "), nick, ("plain", ")")] if isinstance(raw_nick, str) else []
        return [stars, ("plain", "topic: "), said, *by]
    name = kind if isinstance(kind, str) else "?"
    return [stars, ("plain", f"{name}: "), said]  # the bot's own lines, or a type unknown


def _nick_colour(nick: str) -> str:
    return _NICK_COLOURS[zlib.crc32(nick.casefold().encode("utf-8", "replace")) % 8]


def _highlighted(text: str, matcher: Matcher | None, colour: str) -> str:
    """``text`` made visible, what the query looked for highlighted; ``colour`` is the
    escape sequence the rest of the line is in."""
    text = _FORMATTING.sub("", text)
    spans = matcher.spans(text) if matcher is not None else []
    out = []
    at = 0
    for start, end in spans:
        out.append(visible(text[at:start]))
        out.append(f"{_HIGHLIGHT}{visible(text[start:end])}{_RESET}{colour}")
        at = end
    out.append(visible(text[at:]))
    return "".join(out)


def record_line(
    record: Mapping[str, Any], *, color: bool = False, matcher: Matcher | None = None,
    dim: bool = False,
) -> str:  # fmt: skip
    """One record as ``network #channel YYYY-MM-DD HH:MM:SS <nick> text``; with
    ``color``, the place cyan, the nick in its colour and (given a ``matcher``) what
    was looked for highlighted, or all of it dimmed (a context line)."""
    place = f"{_field(record, 'network')} {_field(record, 'channel')} {_when(record)}"
    pieces = _body(record)
    if not color:
        return f"{place} " + "".join(visible(text) for _, text in pieces)
    if dim:
        return f"{_DIM}{place} " + "".join(visible(text) for _, text in pieces) + _RESET
    out = [f"{_PLACE}{place}{_RESET} "]
    for kind, text in pieces:
        if kind == "nick":
            out.append(f"{_nick_colour(text)}{visible(text)}{_RESET}")
        elif kind == "text":
            out.append(_highlighted(text, matcher, ""))
        else:
            out.append(visible(text))
    return "".join(out) + _RESET


def hit_lines(hit: Hit, *, color: bool = False, matcher: Matcher | None = None) -> list[str]:
    """The terminal lines of one hit: its line alone, or with its context lines
    (indented by two spaces, dimmed with ``color``) around it, oldest first."""
    shown = record_line(hit.record, color=color, matcher=matcher)
    if not hit.context:
        return [shown]
    at = next(
        (i for i, line in enumerate(hit.context)
         if line.seq == hit.seq and line.record == hit.record),
        None,
    )  # fmt: skip
    around = [(line.seq, "  " + record_line(line.record, color=color, dim=True))
              for i, line in enumerate(hit.context) if i != at]  # fmt: skip
    if at is not None:  # the hit among its context, in its place
        return [text for _, text in around[:at]] + [shown] + [text for _, text in around[at:]]
    earlier = [text for seq, text in around if seq < hit.seq]
    return earlier + [shown] + [text for seq, text in around if seq >= hit.seq]


def hit_json(hit: Hit, *, context: bool = False) -> str:
    """One hit as one line of JSON: its record with ``day`` and ``seq`` and, with
    ``context``, ``"context"``: the records around it, oldest first, the hit among
    them, each with its ``seq``."""
    obj: dict[str, Any] = dict(hit.record)
    obj["day"] = hit.day
    obj["seq"] = hit.seq
    if context:
        obj["context"] = [dict(line.record) | {"seq": line.seq} for line in hit.context]
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), default=str)
    return _JSON_UNSAFE.sub(_json_escape, text)
