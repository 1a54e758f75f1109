"""How the test IRC server (:mod:`logbot.testing.ircd`) writes a line: words, cut, tags.

Apart from the server so that the server module stays short; the rules themselves are
explained in that module's docstring ("Wire choices").  Which tags a line carries
depends on the capabilities of the user it goes to, so :func:`tag_prefix` is computed
per recipient.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping

from logbot.irc.message import escape_tag_value

__all__ = ["MAX_INPUT", "MAX_LINE", "META_CAPS", "fit", "format_line", "tag_prefix"]

MAX_LINE = 510  # bytes of a line after its tags, without CRLF (RFC 1459)
MAX_INPUT = 4096 + MAX_LINE + 2  # client tags (4094 bytes, message-tags) plus the line
#: The capability each server tag needs, in the order they are written.
META_CAPS = {
    "time": "server-time",
    "msgid": "message-tags",
    "batch": "batch",
    "account": "account-tag",
}


def fit(line: str) -> str:
    """Cut a line to ``MAX_LINE`` bytes without splitting a UTF-8 character."""
    data = line.encode("utf-8")
    if len(data) <= MAX_LINE:
        return line
    return data[:MAX_LINE].decode("utf-8", "ignore")


def format_line(source: str, command: str, params: tuple[str, ...]) -> str:
    """``:source COMMAND p1 p2 :last`` (see the server's docstring for the colon).

    Raises ``ValueError`` for what would not be one well-formed line: the handlers
    only build lines from checked names, so this is a bug guard, not a filter.
    """
    for text in (source, command, *params):
        if "\r" in text or "\n" in text or "\0" in text:
            raise ValueError(f"CR, LF or NUL in {text!r}")
    for param in params[:-1]:
        if not param or " " in param or param.startswith(":"):
            raise ValueError(f"invalid middle parameter {param!r} in {command}")
    parts = [f":{source}", command, *params[:-1]]
    if params:
        parts.append(":" + params[-1])
    return " ".join(parts)


def tag_prefix(
    caps: Collection[str],
    now: Callable[[], str],
    meta: Mapping[str, str | None],
    account: str | None,
    client_tags: Mapping[str, str | None] | None,
) -> str:
    """``"@tag=value;... "`` for a user with ``caps``, or ``""`` when no tag applies.

    ``meta`` holds server tags (``time``, ``msgid``, ``batch``, ``account``); a line
    without its own ``time`` gets ``now()``, and without its own ``account`` the
    sender's ``account``.  ``client_tags`` go only with message-tags.
    """
    tags: dict[str, str | None] = {}
    for key, cap in META_CAPS.items():
        if cap not in caps:
            continue
        value = meta.get(key)
        if key == "time":
            value = value or now()
        elif key == "account":
            value = value or account
        if value:
            tags[key] = value
    if client_tags and "message-tags" in caps:
        tags.update(client_tags)
    if not tags:
        return ""
    return (
        "@"
        + ";".join(
            key if value is None else f"{key}={escape_tag_value(value)}"
            for key, value in tags.items()
        )
        + " "
    )
