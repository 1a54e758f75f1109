"""The IRC traffic of one network at debug level: one log line per IRC line.

``--log-level debug`` is what a user turns on when a server does not take the bot, and
what they need then is the conversation itself::

    libera >> NICK logbot
    libera << :irc.libera.chat 433 * logbot :Nickname is already in use

Each line goes through :func:`logbot.irc.redact.redact` first, so passwords, SASL
payloads, channel keys and services passwords show as ``***``.  The IRC core hands
over each read's lines and each write's lines at once (its ``wire_tap``): with debug
off that is one cached level check per read or write, and nothing is formatted.
"""

from __future__ import annotations

import logging

from logbot.irc.redact import redact

__all__ = ["WireLog"]

log = logging.getLogger("logbot.traffic")


class WireLog:
    """The ``wire_tap`` of one connection's core, for the network ``network``."""

    __slots__ = ("network",)

    def __init__(self, network: str) -> None:
        self.network = network

    def __call__(self, direction: str, lines: list[str]) -> None:
        if not log.isEnabledFor(logging.DEBUG):
            return
        network = self.network
        for line in lines:
            log.debug("%s %s %s", network, direction, redact(line))
