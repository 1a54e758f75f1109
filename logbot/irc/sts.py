"""The value of the IRCv3 ``sts`` capability (ircv3.net/specs/extensions/sts).

A server offers ``sts`` in ``CAP LS`` (or ``CAP NEW``) with a value, and clients must
never request it.  On a plain connection ``sts=port=6697`` is an *upgrade policy*:
close, and reconnect with TLS to that port.  On a TLS connection ``sts=duration=N`` is
a *persistence policy*: for N seconds, connect to this host with TLS only (``0``
revokes it); ``preload`` says the network agrees to be put on preloaded lists, which
means nothing to us.

This module only reads the value; whether the connection was secure enough to believe
it, and what to do, is the bot's (:mod:`logbot.bot.sts`).  As the spec says, the value
is comma-separated tokens ``key[=value]``, and unknown keys are ignored.  A known key
given twice, or with a value that is not a plain number in range, is dropped (the
policy it would have made is then missing, and so ignored): a value from the server is
never trusted to be well formed.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["MAX_PORT", "MAX_STS_DIGITS", "StsValue", "parse_sts"]

MAX_PORT = 65535
#: Digits a ``duration`` may have: 12 is over 30,000 years of seconds, far past any
#: policy, and keeps ``int()`` away from a number thousands of digits long.
MAX_STS_DIGITS = 12
_KNOWN = ("port", "duration")


@dataclass(frozen=True, slots=True)
class StsValue:
    """The keys of one ``sts`` value that were well formed (None: missing or bad)."""

    port: int | None = None
    duration: int | None = None  # seconds
    preload: bool = False


def _number(text: str) -> int | None:
    if not text or len(text) > MAX_STS_DIGITS or not (text.isascii() and text.isdigit()):
        return None
    return int(text)


def parse_sts(value: str) -> StsValue:
    """The policy ``value`` states: ``"port=6697,duration=300,preload"`` ->
    ``StsValue(6697, 300, True)``."""
    found: dict[str, int | None] = {}  # a known key -> its number (None: bad, or twice)
    preload = False
    for token in value.split(","):
        key, sep, text = token.partition("=")
        if key == "preload":
            preload = True
        elif key in _KNOWN:  # (the spec: ignore every token whose key we do not know)
            found[key] = None if key in found or not sep else _number(text)
    port = found.get("port")
    if port is not None and not 1 <= port <= MAX_PORT:
        port = None
    return StsValue(port=port, duration=found.get("duration"), preload=preload)
