"""An IRCClient on a fake clock whose writes are kept with their times: what the flood
tests replay through the model of InspIRCd's limits (tests/ircd/flood_model.py)."""

from __future__ import annotations

from typing import Any

from logbot.irc.client import IRCClient
from logbot.irc.flood import FloodControl
from logbot.reactor.testing import StringTransport


class TimedTransport(StringTransport):
    """Keeps each write with the fake time it was made at (``clock.seconds()``)."""

    def __init__(self, clock: Any) -> None:
        super().__init__()
        self.clock = clock
        self.writes: list[tuple[float, bytes]] = []

    def write(self, data: bytes) -> None:
        super().write(data)
        self.writes.append((self.clock.seconds(), data))


class FloodBot(IRCClient):
    """An IRCClient whose flood control can be replaced (``flood_control``; None: the
    client's own, from ``lineRate``)."""

    # The fake servers say little for the length of a long reply; the keepalive (tested
    # elsewhere) should not end the session before the server's own PING.
    ping_timeout = 300.0
    # These replays send a 200-line reply at once and check its pace against the
    # server's limits, which the send queue's bounds (tested in test_flood_queue.py)
    # would cut short after 30 s.
    max_reply_wait = None
    max_queued_lines = None
    max_queued_per_target = None
    flood_control: FloodControl | None = None

    def build_core(self) -> Any:
        core = super().build_core()
        if self.flood_control is not None:
            core.flood = self.flood_control
        return core


def feed(bot: IRCClient, *lines: str) -> None:
    """The server says ``lines`` in one read."""
    bot.dataReceived("".join(line + "\r\n" for line in lines).encode())
