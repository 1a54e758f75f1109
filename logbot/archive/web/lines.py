"""One log line (a jsonl record) as one row of HTML: the hot loop of a day page.

Why its own module: a day of 10,000 lines must be served in well under 200 ms, so a
row is a handful of string operations (a mIRC parse only for text that holds a control
character, a URL search only for text that holds ``://``, nick classes cached), and
this is where that care lives.

Every value from the record is treated as hostile: a field that is not a string is
treated as absent, nicks and targets are escaped without formatting (:func:`plain`),
texts are rendered by :func:`~logbot.archive.web.mirc.render`, and each nick and text
sits in ``<bdi>``, so a right-to-left mark in one cannot reorder the rest of the page.
A text longer than :data:`MAX_TEXT_CHARS` is cut (a corrupt file can hold anything).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Any

from logbot.archive.web.mirc import esc, nick_class, plain, render

__all__ = ["MAX_TEXT_CHARS", "row", "time_of"]

#: The most characters of one line's text shown; an IRC line is at most 512 bytes (a
#: few KiB with multiline batches), so only a damaged or forged record is ever cut.
MAX_TEXT_CHARS = 20_000

_TIME = re.compile(r"\d{4}-\d\d-\d\dT(\d\d:\d\d:\d\d)")

_SAID = {
    "message": ("msg", "&lt;", "&gt;"),
    "action": ("act", "* ", ""),
    "notice": ("ntc", "-", "-"),
}
_SYSTEM = frozenset({"connect", "disconnect", "gap", "recovered", "opted_out"})
_ARROWS = {"join": "→", "part": "←", "quit": "←", "kick": "←"}

_cached_class = functools.lru_cache(maxsize=4096)(nick_class)


def _str(record: Mapping[str, Any], key: str) -> str:
    value = record.get(key)
    return value if isinstance(value, str) else ""


def time_of(record: Mapping[str, Any]) -> str:
    """``HH:MM:SS`` of the record's ``time`` as written (the channel's time zone)."""
    time = record.get("time")
    match = _TIME.match(time) if isinstance(time, str) else None
    return match.group(1) if match else "--:--:--"


def _text(record: Mapping[str, Any]) -> str:
    text = _str(record, "text")
    if len(text) > MAX_TEXT_CHARS:
        text = text[:MAX_TEXT_CHARS] + "…"
    return render(text) if text else ""


def _who(nick: str) -> str:
    if not nick:
        return "<bdi>someone</bdi>"
    return f'<bdi class="{_cached_class(nick)}">{plain(nick)}</bdi>'


def _event(kind: str, record: Mapping[str, Any]) -> str:
    """The sentence of an event line (join, part, kick, topic, ...), made safe."""
    who = _who(_str(record, "nick"))
    text = _text(record)
    reason = f" (<bdi>{text}</bdi>)" if text else ""
    target = _str(record, "target")
    if kind == "join":
        return f"{who} joined"
    if kind == "part":
        return f"{who} left{reason}"
    if kind == "quit":
        return f"{who} quit{reason}"
    if kind == "kick":
        return f"{who} kicked {_who(target)}{reason}"
    if kind == "nick":
        return f"{who} is now known as {_who(target)}"
    if kind == "mode":
        return f"{who} set mode <bdi>{text}</bdi>"
    if kind == "topic":
        return f"{who} changed the topic to: <bdi>{text}</bdi>"
    if kind == "topic_info":
        by = f" (set by {who})" if _str(record, "nick") else ""
        return f"Topic: <bdi>{text}</bdi>{by}"
    if kind == "chghost":
        return f"{who} changed host to <bdi>{plain(target)}</bdi>"
    if kind == "setname":
        return f"{who} changed their real name to <bdi>{text}</bdi>"
    if kind == "away":
        return f"{who} is away" + (f": <bdi>{text}</bdi>" if text else "")
    if kind == "back":
        return f"{who} is back"
    if kind in ("renamed_to", "renamed_from"):  # a channel rename: no one named, maybe
        by = f" by {who}" if _str(record, "nick") else ""
        way = "to" if kind == "renamed_to" else "from"
        return f"the channel was renamed {way} <bdi>{plain(target)}</bdi>{by}{reason}"
    return f"[{plain(kind)}] {who}" + (f" <bdi>{text}</bdi>" if text else "")


def row(seq: int, record: Mapping[str, Any], link: str | None = None) -> str:
    """The row of line ``seq``: ``id="L<seq>"`` and a time linking to ``#L<seq>`` on a
    day page (``link`` None), or, elsewhere (search results), a time linking to
    ``link`` and no id (ids must be unique in a page)."""
    kind = _str(record, "type")
    if link is None:
        start = f'<div class="l {{0}}" id="L{seq}"><a class="t" href="#L{seq}">'
    else:
        start = f'<div class="l {{0}}"><a class="t" href="{esc(link)}">'
    replayed = ' <span class="rp" title="recovered from history">↺</span>'
    tail = replayed if record.get("replayed") is True else ""
    said = _SAID.get(kind)
    if said is not None:
        css, before, after = said
        nick = _str(record, "nick")
        who = (
            f'<span class="nk {_cached_class(nick)}">{before}<bdi>{plain(nick)}</bdi>{after}</span>'
        )
        body = f'{who} <bdi class="tx">{_text(record)}</bdi>{tail}'
    elif kind in _SYSTEM:
        css = "sys"
        text = _text(record) or plain(kind)
        body = f'<span class="nk">—</span> <span class="tx"><bdi>{text}</bdi>{tail}</span>'
    else:
        css = "ev"
        arrow = _ARROWS.get(kind, "•")
        body = (
            f'<span class="nk">{arrow}</span> <span class="tx">{_event(kind, record)}{tail}</span>'
        )
    return f"{start.format(css)}{time_of(record)}</a> {body}</div>\n"
