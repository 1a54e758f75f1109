"""CTCP: ``\\x01COMMAND argument\\x01`` inside PRIVMSG (query) or NOTICE (reply).

Only a whole-message CTCP is recognised (modern CTCP, ircdocs); the closing
``\\x01`` is optional on receive because some clients omit it.  Replies are
rate-limited by one token bucket, so that a CTCP flood from a botnet cannot
make us flood the server in turn (and be killed for it).  The wall-clock time
for ``TIME`` is passed in: this module reads no clock.
"""

from __future__ import annotations

from typing import NamedTuple

from logbot.irc.flood import TokenBucket

__all__ = ["Ctcp", "CtcpResponder", "format_ctcp", "parse_ctcp"]

DELIM = "\x01"


class Ctcp(NamedTuple):
    command: str
    argument: str


def parse_ctcp(text: str) -> Ctcp | None:
    """Return the CTCP in ``text``, or ``None`` for an ordinary message."""
    if not text.startswith(DELIM) or len(text) < 2:
        return None
    body = text[1:-1] if text.endswith(DELIM) and len(text) > 1 else text[1:]
    command, _, argument = body.partition(" ")
    if not command:
        return None
    return Ctcp(command.upper(), argument)


def format_ctcp(command: str, argument: str = "") -> str:
    """``\\x01COMMAND argument\\x01``; raises ``ValueError`` on a stray \\x01."""
    if DELIM in command or DELIM in argument or not command:
        raise ValueError("a CTCP command or argument cannot contain \\x01")
    return f"{DELIM}{command.upper()}{' ' + argument if argument else ''}{DELIM}"


class CtcpResponder:
    """Answers VERSION, PING, TIME and CLIENTINFO, at most ``burst`` at once
    and then ``rate`` replies per second."""

    SUPPORTED = ("ACTION", "CLIENTINFO", "PING", "TIME", "VERSION")
    MAX_PING_ARGUMENT = 64  # echo no more than this: PING must not amplify

    def __init__(self, version: str = "logbot", burst: int = 3, rate: float = 0.5) -> None:
        self.version = version
        self.bucket = TokenBucket(burst, rate)

    def reply(self, query: Ctcp, now: float, time_text: str | None = None) -> str | None:
        """The CTCP text to send back in a NOTICE, or ``None`` for no reply.

        ``time_text`` is the local time, formatted by the caller; without it
        ``TIME`` is not answered.
        """
        command, argument = query
        if command == "VERSION":
            answer = self.version
        elif command == "PING":
            answer = argument[: self.MAX_PING_ARGUMENT]
        elif command == "TIME" and time_text:
            answer = time_text
        elif command == "CLIENTINFO":
            answer = " ".join(self.SUPPORTED)
        else:
            return None
        if not self.bucket.try_take(now):
            return None
        return format_ctcp(command, answer.replace(DELIM, ""))
