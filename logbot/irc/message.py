"""One IRC message: parse a line into a :class:`Message`, format it back.

This module only turns text into structure and back.  It never sees bytes (see
:mod:`logbot.irc.framing`) and keeps no state.  The grammar follows the modern
client protocol (modern.ircdocs.horse) and IRCv3 message-tags
(ircv3.net/specs/extensions/message-tags):

    [@tags SPACE] [:source SPACE] command [params] [SPACE :trailing]

Choices, each checked by the ircdocs parser tests:

* Parsing is lenient, as a logger must be: runs of spaces separate tokens (RFC
  1459, not 2812), a trailing space is ignored, any non-space token is a
  command.  Only a line with no command at all is a :class:`ParseError`.
* Formatting is strict: it refuses what would not parse back to the same
  message (a space in a middle parameter, CR/LF/NUL anywhere, a bad tag key),
  so ``parse(format(m)) == m`` holds for every message ``format`` accepts.
* A tag with a missing value and a tag with an empty value are the same thing
  (message-tags spec).  ``Message`` stores both as ``None``, so equality does
  not depend on how the server spelled it.
* Commands are upper-cased (ASCII only, so the length never changes); the
  rest keeps its case.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import NamedTuple

from logbot.irc.casemap import casefold, upper_ascii

__all__ = [
    "Hostmask",
    "Message",
    "ParseError",
    "SourceParts",
    "escape_tag_value",
    "format",
    "mask_match",
    "parse",
    "split_userhost",
    "unescape_tag_value",
]


class ParseError(ValueError):
    """A line that holds no IRC message (empty, tags only, source only)."""


_ASCII_UPPER = str.maketrans("abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_FORBIDDEN = re.compile("[\r\n\0]")
_TAG_KEY = re.compile(r"\+?(?:[A-Za-z0-9.-]+/)?[A-Za-z0-9-]+\Z")
_COMMAND = re.compile(r"[A-Za-z]+\Z|[0-9]{3}\Z")


@dataclass(frozen=True, slots=True)
class Message:
    """A parsed IRC message.  ``params`` is a tuple; a list is accepted."""

    command: str
    params: tuple[str, ...] = ()
    source: str | None = None
    tags: Mapping[str, str | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Normalise so that two spellings of one message compare equal.
        object.__setattr__(self, "command", self.command.translate(_ASCII_UPPER))
        object.__setattr__(self, "params", tuple(self.params))
        tags = {key: (value or None) for key, value in self.tags.items()}
        object.__setattr__(self, "tags", tags)

    __hash__ = None  # type: ignore[assignment]  # tags is a dict

    @property
    def nick(self) -> str | None:
        """The nick part of ``source`` (the whole source for a server)."""
        if self.source is None:
            return None
        return split_userhost(self.source).nick


#: The tags of a message without any: one shared read-only mapping.
NO_TAGS: Mapping[str, str | None] = MappingProxyType({})
_new = object.__new__
_set_command = vars(Message)["command"].__set__
_set_params = vars(Message)["params"].__set__
_set_source = vars(Message)["source"].__set__
_set_tags = vars(Message)["tags"].__set__


def _message(
    command: str, params: tuple[str, ...], source: str | None, tags: Mapping[str, str | None]
) -> Message:
    """A Message from parts that are already normalised: the parser's fast way,
    without ``__init__``/``__post_init__`` (which copy and re-check every field
    and set each through ``object.__setattr__``).  It sets the slots directly."""
    msg = _new(Message)
    _set_command(msg, command)
    _set_params(msg, params)
    _set_source(msg, source)
    _set_tags(msg, tags)
    return msg


# -- tag values -------------------------------------------------------------

_ESCAPES = {";": "\\:", " ": "\\s", "\\": "\\\\", "\r": "\\r", "\n": "\\n"}
_UNESCAPES = {":": ";", "s": " ", "\\": "\\", "r": "\r", "n": "\n"}


def escape_tag_value(value: str) -> str:
    """Escape a tag value for the wire (message-tags, "Escaping values")."""
    return "".join(_ESCAPES.get(char, char) for char in value)


def unescape_tag_value(raw: str) -> str:
    """Undo :func:`escape_tag_value`, character by character.

    Per spec a backslash before any other character is dropped, and a lone
    backslash at the end is dropped.  Scanning one character at a time stops
    ``\\\\n`` from becoming a newline (a bug of naive chained ``replace``).
    """
    if "\\" not in raw:
        return raw
    out: list[str] = []
    chars = iter(raw)
    for char in chars:
        if char == "\\":
            nxt = next(chars, "")
            out.append(_UNESCAPES.get(nxt, nxt))
        else:
            out.append(char)
    return "".join(out)


def _parse_tags(raw: str) -> dict[str, str | None]:
    tags: dict[str, str | None] = {}
    if "\\" not in raw:  # no escapes anywhere (nearly always): no unescaping to do
        for item in raw.split(";"):
            key, _, value = item.partition("=")
            if key:
                tags[key] = value or None
        return tags
    for item in raw.split(";"):
        key, _, value = item.partition("=")
        if key:  # an empty key ("@;a=b") carries nothing: skip it
            tags[key] = unescape_tag_value(value) or None  # last one wins
    return tags


# -- parse / format ---------------------------------------------------------


def parse(line: str) -> Message:
    """Parse one line (without its CRLF) into a :class:`Message`.

    Raises :class:`ParseError` (and nothing else) when there is no command.
    """
    # Fast paths: single spaces between tokens (what servers send), after the tags
    # if any.  Anything else (runs of spaces, an empty source, no command) takes the
    # general path, :func:`_parse`, which is the definition.
    tags = NO_TAGS
    rest = line
    if line[:1] == "@":
        raw_tags, sep, rest = line[1:].partition(" ")
        if not sep or rest[:1] == " ":
            return _parse(line)
        tags = _parse_tags(raw_tags) or NO_TAGS
    if rest[:1] == ":":  # the commonest shape of all: ":source COMMAND target :text"
        parts = rest.split(" ", 3)
        if len(parts) == 4:
            source, command, target, text = parts
            if text[:1] == ":" and len(source) > 1 and command and target and target[0] != ":":
                if not command.isupper():
                    command = upper_ascii(command)
                msg = _new(Message)  # _message(), inlined
                _set_command(msg, command)
                _set_params(msg, (target, text[1:]))
                _set_source(msg, source[1:])
                _set_tags(msg, tags)
                return msg
    head, sep, trailing = rest.partition(" :")
    tokens = head.split(" ")
    if "" not in tokens:
        first = tokens[0]
        if first[:1] == ":":
            if len(first) > 1 and len(tokens) > 1:
                command = tokens[1]
                if not command.isupper():
                    command = upper_ascii(command)
                if sep:
                    tokens.append(trailing)
                return _message(command, tuple(tokens[2:]), first[1:], tags)
        else:
            if not first.isupper():
                first = upper_ascii(first)
            if sep:
                tokens.append(trailing)
            return _message(first, tuple(tokens[1:]), None, tags)
    return _parse(line)


def _parse(line: str) -> Message:
    rest = line.lstrip(" ")
    tags: Mapping[str, str | None] = NO_TAGS
    source: str | None = None
    if rest.startswith("@"):
        raw_tags, _, rest = rest[1:].partition(" ")
        tags = _parse_tags(raw_tags) or NO_TAGS
        rest = rest.lstrip(" ")
    if rest.startswith(":"):
        source, _, rest = rest[1:].partition(" ")
        rest = rest.lstrip(" ")
        if not source:
            raise ParseError(f"empty source in {line!r}")
    trailing: str | None = None
    head, sep, tail = rest.partition(" :")
    if sep:
        trailing = tail
    # Runs of spaces separate tokens (RFC 1459).  Not str.split(): IRC
    # separates on 0x20 only, a tab belongs to the token.
    tokens = [token for token in head.split(" ") if token]
    if not tokens:
        raise ParseError(f"no command in {line!r}")
    params = tokens[1:]
    if trailing is not None:
        params.append(trailing)
    return _message(upper_ascii(tokens[0]), tuple(params), source, tags)


def _check_text(what: str, text: str) -> None:
    if _FORBIDDEN.search(text):
        raise ValueError(f"{what} contains CR, LF or NUL: {text!r}")


def format(msg: Message) -> str:
    """Format a message as one line, without CRLF.

    Raises ``ValueError`` for a message that would not parse back to itself.
    """
    parts: list[str] = []
    if msg.tags:
        items = []
        for key, value in msg.tags.items():
            if not _TAG_KEY.match(key):
                raise ValueError(f"invalid tag key {key!r}")
            if value is None:
                items.append(key)
            else:
                if "\0" in value:
                    raise ValueError(f"tag {key!r} value contains NUL")
                items.append(f"{key}={escape_tag_value(value)}")
        parts.append("@" + ";".join(items))
    if msg.source is not None:
        if not msg.source or " " in msg.source:
            raise ValueError(f"invalid source {msg.source!r}")
        _check_text("source", msg.source)
        parts.append(":" + msg.source)
    if not _COMMAND.match(msg.command):
        raise ValueError(f"invalid command {msg.command!r}")
    parts.append(msg.command)
    params = msg.params
    for param in params[:-1]:
        if not param or " " in param or param.startswith(":"):
            raise ValueError(f"invalid middle parameter {param!r}")
        _check_text("parameter", param)
        parts.append(param)
    if params:
        last = params[-1]
        _check_text("parameter", last)
        if not last or " " in last or last.startswith(":"):
            last = ":" + last
        parts.append(last)
    return " ".join(parts)


# -- sources and masks ------------------------------------------------------


class Hostmask(NamedTuple):
    """The parts of ``nick!user@host``; a missing or empty part is ``None``."""

    nick: str | None
    user: str | None
    host: str | None


def split_userhost(source: str) -> Hostmask:
    """Split ``nick!user@host`` (any part may be missing) into a Hostmask."""
    rest, _, host = source.partition("@")
    nick, _, user = rest.partition("!")
    return Hostmask(nick or None, user or None, host or None)


class SourceParts(dict[str, tuple[str, str, str]]):
    """``parts[source]`` is ``(nick, user, host)`` of ``nick!user@host`` ("" for a part
    that is missing), split once per source: a channel's talk is a few people saying
    many lines, and the records and the plugins' contexts both want the parts of every
    line's source.  Emptied when it reaches ``limit`` sources."""

    def __init__(self, limit: int = 4096) -> None:
        super().__init__()
        self.limit = limit

    def __missing__(self, source: str) -> tuple[str, str, str]:
        rest, _, host = source.partition("@")
        nick, _, user = rest.partition("!")
        if len(self) >= self.limit:
            self.clear()
        parts = self[source] = (nick, user, host)
        return parts


def mask_match(mask: str, name: str, casemapping: str = "rfc1459") -> bool:
    """True if ``name`` matches the glob ``mask`` (``*`` any run, ``?`` one char).

    Both are case-folded with ``casemapping`` first.  The matcher is the
    classic two-pointer walk that backtracks only to the last ``*``: linear in
    practice and never exponential, unlike a translated regular expression.
    """
    pattern = casefold(mask, casemapping)
    text = casefold(name, casemapping)
    p = t = 0
    star_p, star_t = -1, 0
    while t < len(text):
        if p < len(pattern) and pattern[p] in ("?", text[t]) and pattern[p] != "*":
            p += 1
            t += 1
        elif p < len(pattern) and pattern[p] == "*":
            star_p, star_t = p, t
            p += 1
        elif star_p >= 0:
            star_t += 1
            p, t = star_p + 1, star_t
        else:
            return False
    while p < len(pattern) and pattern[p] == "*":
        p += 1
    return p == len(pattern)
