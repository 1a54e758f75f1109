"""The web view's URLs: strict decoding of what comes in, quoting of what goes out.

Why strict: a path or query that is not exactly what our own links produce is an
error (:class:`BadURL`, answered ``400``), never guessed at.  A segment is split on
``/`` *before* it is percent-decoded (so ``%2F`` in a channel's name stays in its
segment), a ``%`` must start two hex digits, the bytes must be UTF-8, and no control
character (``%00`` included) may come out.  Nothing decoded here is ever used as a file
name: a segment is looked up among the names the index knows, or it is a ``404``.

Links are built with :func:`quote` (every byte but unreserved ones percent-encoded),
so a channel named ``#a/../b?x`` is one segment, ``%23a%2F..%2Fb%3Fx``.
"""

from __future__ import annotations

import re
import urllib.parse

__all__ = [
    "MAX_QUERY_FIELDS",
    "PART_LINES",
    "BadURL",
    "channel_url",
    "day_url",
    "decode",
    "parse_query",
    "quote",
    "split_path",
]

#: The most lines one day page shows: a longer day (a flood, a bot gone wild) is split
#: into parts, ``?part=2`` and on, so one page never holds the whole of it in memory.
#: A quiet day has a few hundred lines; a busy one a few thousand.
PART_LINES = 20_000
#: Fields a query string may have (``/search`` has 8): more is not one of our forms.
MAX_QUERY_FIELDS = 16

_PERCENT = re.compile(r"%([0-9A-Fa-f]{2})")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class BadURL(ValueError):
    """A path or query string that cannot be decoded: answered ``400``."""


def decode(text: str, *, plus: bool = False) -> str:
    """Percent-decode ``text`` strictly (``plus``: ``+`` is a space, as in a query)."""
    if plus:
        text = text.replace("+", " ")
    if "%" in text:
        if text.count("%") != len(_PERCENT.findall(text)):
            raise BadURL("a '%' not followed by two hex digits")
        try:
            text = urllib.parse.unquote_to_bytes(text).decode("utf-8")
        except UnicodeDecodeError:
            raise BadURL("percent-encoded bytes that are not UTF-8") from None
    if _CONTROL.search(text):
        raise BadURL("a control character")
    return text


def split_path(path: str) -> list[str]:
    """``/a/%23b/`` -> ``["a", "#b", ""]``: the decoded segments after the first ``/``."""
    if not path.startswith("/"):
        raise BadURL("the path does not start with '/'")
    return [decode(segment) for segment in path[1:].split("/")]


def parse_query(target: str) -> dict[str, str]:
    """The query string of a request target as ``{name: value}``: empty fields are
    skipped, a name given twice is an error, as is a field without ``=``."""
    query = target.partition("?")[2]
    fields: dict[str, str] = {}
    if not query:
        return fields
    parts = [part for part in query.split("&") if part]
    if len(parts) > MAX_QUERY_FIELDS:
        raise BadURL("too many query fields")
    for part in parts:
        name, equals, value = part.partition("=")
        if not equals:
            raise BadURL("a query field without '='")
        name = decode(name, plus=True)
        if name in fields:
            raise BadURL("a query field given twice")
        fields[name] = decode(value, plus=True)
    return fields


def quote(segment: str) -> str:
    """One path segment or query value, percent-encoded (nothing but ``A-Za-z0-9_.-~``
    is left as it is); a lone surrogate becomes ``?``."""
    return urllib.parse.quote(segment, safe="", errors="replace")


def channel_url(network: str, channel_key: str) -> str:
    """The calendar of a channel."""
    return f"/{quote(network)}/{quote(channel_key)}/"


def day_url(network: str, channel_key: str, day: str, seq: int | None = None, part: int = 1) -> str:
    """A channel's day page (its ``part``), or the permalink of its line ``seq`` (in the
    part that holds it)."""
    url = f"/{quote(network)}/{quote(channel_key)}/{day}"
    if seq is not None:
        part = (seq - 1) // PART_LINES + 1
    if part > 1:
        url += f"?part={part}"
    return url if seq is None else f"{url}#L{seq}"
