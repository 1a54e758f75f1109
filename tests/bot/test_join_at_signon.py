"""The JOINs leave at once after registration, on a fake clock (issue 14, item 3).

Before, the registration lines (CAP LS, NICK, USER, CAP REQ, CAP END) drew the flood
bucket (a burst of 4, then 1 line a second) into debt, so the JOIN queued at 001 waited
for a token: 1-2 s after 001 on every reconnect, and whatever the channels said in that
time was never seen.  Now a JOIN line may borrow up to ``burst`` tokens
(logbot/irc/flood.py): it leaves at once and is charged, so the lines after it still
pay for it.

The JOIN is made at 001 (``NetworkBot.registered``), not after ISUPPORT: the core
dispatches the events of a read after parsing all its lines, so a 005 that comes in the
same read as 001 (as here, and as servers send them) is known when the JOIN is built.
"""

from __future__ import annotations

import pytest

from logbot.config.settings import ChannelConfig, ReconnectOptions, Secret
from tests.bot.fakes import Harness, network
from tests.irc.timed_client import TimedTransport

#: The issue's bound, from 001 to the JOIN on the wire.
JOIN_DELAY_LIMIT = 0.050


def _connect(h: Harness) -> TimedTransport:
    h.client = h.bot.buildProtocol(None)
    transport = TimedTransport(h.reactor)
    h.transport = transport
    h.client.makeConnection(transport)
    return transport


def _first_join_after(h: Harness, transport: TimedTransport, since: float) -> float:
    """When the first JOIN line was written at or after ``since``, running the fake
    clock from timer to timer (for at most 10 s) until one is."""
    for _ in range(1000):
        for when, data in transport.writes:
            if when >= since and any(ln.startswith(b"JOIN ") for ln in data.split(b"\r\n")):
                return when
        due = [call.getTime() for call in h.reactor.getDelayedCalls()]
        if not due or min(due) > since + 10:
            break
        h.reactor.advance(max(0.0, min(due) - h.reactor.seconds()))
    raise AssertionError(f"no JOIN written; writes: {transport.writes!r}")


def _register_like_a_server(h: Harness, welcome_after: float) -> float:
    """CAP LS and ACK at once (as every server measured does), 001 ``welcome_after``
    seconds later (ngircd: ~1 ms, InspIRCd: 1 s).  Returns the fake time of 001."""
    caps = "multi-prefix server-time"
    h.feed(f":irc.example CAP * LS :{caps}", f":irc.example CAP bot ACK :{caps}")
    h.reactor.advance(welcome_after)
    signon = h.reactor.seconds()
    h.register()
    return signon


@pytest.mark.parametrize("welcome_after", [0.001, 1.0], ids=["ngircd-like", "inspircd-like"])
def test_the_join_leaves_within_50_ms_of_001_after_a_reconnect(welcome_after: float) -> None:
    channels = (ChannelConfig("#a"), ChannelConfig("#k", key=Secret("s3")), ChannelConfig("#B"))
    h = Harness(
        network(
            channels=channels,
            line_rate=None,  # the default bucket: a burst of 4, then 1 line a second
            reconnect=ReconnectOptions(initial_delay=1, max_delay=30, factor=2, jitter=0.1),
        )
    )
    h.start()
    delays = []
    for _ in range(2):  # the first connection, then the one after a reconnect
        transport = _connect(h)
        signon = _register_like_a_server(h, welcome_after)
        delays.append(_first_join_after(h, transport, signon) - signon)
        joins = [ln for ln in transport.value().decode().split("\r\n") if ln.startswith("JOIN")]
        assert joins == ["JOIN #k,#a,#B s3"]  # one line, keyed channel first
        h.join("#a")
        h.reactor.advance(5)
        h.lose()
        h.reactor.advance(1.0)  # the reconnect delay (no jitter: FixedRng)
    print(f"001 -> JOIN on the fake clock: {delays}")
    assert all(0 <= delay < JOIN_DELAY_LIMIT for delay in delays), delays
