"""Is this message a command?  Pure functions: text and settings in, data out.

A command is recognised three ways, as people use bots on IRC:

- with the prefix: ``!seen bob`` (the prefix is configurable);
- by addressing the bot: ``logbot: seen bob`` or ``logbot, seen bob`` (the nick
  compared with the server's CASEMAPPING; a prefix after it is allowed too:
  ``logbot: !seen bob``);
- in a private message, where every line is for the bot: ``seen bob``.

Unknown words are not commands (``!`` is shared with other bots in most
channels), so the caller looks the name up and stays silent when it is not one.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["Invocation", "parse_command"]

_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*\Z")


@dataclass(frozen=True)
class Invocation:
    name: str  # lower-cased
    argtext: str  # the rest, stripped
    args: tuple[str, ...]  # argtext split on whitespace
    how: str  # "prefix", "address" or "private"


def parse_command(
    text: str, *, prefix: str, nick: str, private: bool, fold: Callable[[str], str] = str.lower
) -> Invocation | None:
    """The command in ``text`` (a channel message if not ``private``), or None."""
    how = "prefix"
    rest: str | None
    if prefix and text.startswith(prefix):
        rest = text[len(prefix) :]
    else:
        rest = _after_address(text, nick, fold)
        if rest is not None:
            how = "address"
            rest = rest.lstrip()
            if prefix and rest.startswith(prefix):
                rest = rest[len(prefix) :]
        elif private:
            how, rest = "private", text.lstrip()
        else:
            return None
    word, _, argtext = rest.partition(" ")
    if not _WORD.match(word):
        return None
    argtext = argtext.strip()
    return Invocation(word.lower(), argtext, tuple(argtext.split()), how)


def _after_address(text: str, nick: str, fold: Callable[[str], str]) -> str | None:
    """The text after ``nick:`` / ``nick,`` at the start, or None."""
    size = len(nick)
    if not nick or len(text) <= size or text[size] not in ":,":
        return None
    if fold(text[:size]) != fold(nick):
        return None
    return text[size + 1 :]
