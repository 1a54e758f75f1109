"""Our default flood bucket against InspIRCd's flood limits, on a fake clock.

tests/integration/test_irc_servers.py sends a 200-line reply through a real InspIRCd.
With the real default on both sides (our bucket: a burst of 4, then 1 line a second;
InspIRCd: a threshold of 10 commands, 1 command a second, a 10 KB receive queue) that
takes 200 s.  So the integration test runs it scaled: the fixture ``inspircd_flood_scaled``
has the same limits with a command rate ``FLOOD_SPEEDUP`` (10) times higher, and the bot's
bucket is the default one with the same burst and a refill 10 times faster
(``scaled_default_flood``): 20 s against the server's real enforcement.

Why that run stands for the default.  Both pairs have the same burst against the same
threshold and receive queue, and in both the bucket refills exactly as fast as the
server lowers the penalty.  What scaling cannot change is that InspIRCd lowers the
penalty once a second: 10 lines arrive between two reductions where the default sends
1, so the scaled run is the harsher one.  This file shows it, by driving a real
``IRCClient`` on a fake clock through registration and the same reply, recording when
each write leaves it, and replaying the writes through a model of InspIRCd's input
handling (tests/ircd/flood_model.py), with the server's housekeeping at every offset
(a twentieth of a second apart) against our clock:

* the default bucket against the default limits (real use): the server never has to
  hold a line back (no fake lag; the penalty peaks at 5 of the 10 allowed, from
  registration) and its receive queue never holds more than the write being read,
  for a reply right after signing on or after an idle half-minute;
* the scaled bucket against the scaled limits (the integration test): the reply gets
  through whole and in order, but it meets fake lag and queues more, never less, than
  the default does;
* a bucket refilled twice as fast is killed ("RecvQ exceeded") under either limits,
  and so is a reply sent without flood control.

The integration tests check the model's verdicts against the real server where they
can in seconds: the scaled bucket passes, twice its rate is killed (after 3.5 s, as the
model says), and an unpaced reply is killed under both limits.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from logbot.irc.flood import FloodControl
from logbot.reactor.task import Clock
from tests.irc.timed_client import FloodBot, TimedTransport, feed
from tests.ircd.flood_model import (
    FLOOD_SPEEDUP,
    REPLY_LINES,
    REPLY_TEXT,
    InspIRCdInput,
    Limits,
    replay,
    scaled_default_flood,
)

NICK = "fb12"
PEER = "fp13"  # nicks as long as the integration test's, so the lines are as long
SIGNON = 1.0  # InspIRCd sends 001 from its housekeeping, within a second of USER
SERVER_PINGFREQ = 120.0  # <connect pingfreq> in tests/ircd/inspircd.conf.in
OFFSETS = [i / 20 for i in range(20)]  # the server's housekeeping ticks at offset + k s

DEFAULT = Limits.of("default")
SCALED = Limits.of("scaled")


class _Bot(FloodBot):
    nickname = NICK


def reply_schedule(
    flood_control: FloodControl | None = None,
    line_rate: float | None = None,
    reply_after: float = 0.0,
) -> list[tuple[float, bytes]]:
    """Every write of a client that registers, then sends the 200-line reply to PEER
    ``reply_after`` seconds after 001, on a fake clock, until the last line is out.

    The fake server answers as InspIRCd does: CAP LS and ACK at once, 001 at ``SIGNON``,
    a PONG to each of our PINGs, its own PING every ``SERVER_PINGFREQ`` seconds (so the
    PONG, which jumps the queue, is in the schedule too).
    """
    clock = Clock()
    bot = _Bot()
    bot.clock = clock
    bot.lineRate = line_rate
    bot.flood_control = flood_control
    transport = TimedTransport(clock)
    bot.makeConnection(transport)  # CAP LS 302, NICK, USER
    feed(bot, ":srv CAP * LS :multi-prefix", f":srv CAP {NICK} ACK :multi-prefix")

    def sign_on() -> None:
        feed(bot, f":srv 001 {NICK} :Welcome {NICK}!{NICK}@127.0.0.1", f":srv 376 {NICK} :End")

    def reply() -> None:
        for i in range(REPLY_LINES):
            bot.msg(PEER, f"{i} {REPLY_TEXT}")

    script: list[tuple[float, Callable[[], None]]] = [
        (SIGNON, sign_on),
        (SIGNON + reply_after, reply),
    ]
    script += [
        (SIGNON + k * SERVER_PINGFREQ, lambda: feed(bot, ":srv PING :srv")) for k in range(1, 4)
    ]
    script.sort(key=lambda item: item[0])
    sent = answered = 0
    for _ in range(100_000):
        if sent >= REPLY_LINES:
            return transport.writes
        due = [call.getTime() for call in clock.getDelayedCalls()]
        due += [when for when, _ in script[:1]]
        clock.advance(max(0.0, min(due) - clock.seconds()))
        while script and script[0][0] <= clock.seconds():
            script.pop(0)[1]()
        for _, data in transport.writes[answered:]:
            for line in data.decode().split("\r\n"):
                sent += line.startswith(f"PRIVMSG {PEER} :")
                if line.startswith("PING "):
                    feed(bot, f":srv PONG srv :{line.split(' ', 1)[1].lstrip(':')}")
        answered = len(transport.writes)
        assert not transport.disconnecting, bot.disconnect_reason
    raise AssertionError(f"only {sent} of {REPLY_LINES} lines sent")


def reply_numbers(server: InspIRCdInput) -> list[int]:
    """The numbers of the reply lines the server ran, in the order it ran them."""
    prefix = f"PRIVMSG {PEER} :".encode()
    return [int(line[len(prefix) :].split()[0]) for line in server.run if line.startswith(prefix)]


# -- the model is InspIRCd's ----------------------------------------------------------------


def test_the_model_throttles_and_kills_as_inspircd_does() -> None:
    """A burst of ``threshold`` lines runs at once, then ``commandrate`` per second;
    more than ``recvq`` bytes waiting kills the client."""
    server = InspIRCdInput(DEFAULT)
    server.receive(b"".join(b"PRIVMSG x :%d\r\n" % i for i in range(15)))
    assert len(server.run) == 10 and server.lagged
    server.tick()
    assert len(server.run) == 11
    scaled = InspIRCdInput(SCALED)
    scaled.receive(b"".join(b"PRIVMSG x :%d\r\n" % i for i in range(25)))
    scaled.tick()
    assert len(scaled.run) == 20  # 10 a second, never more than the threshold at once
    scaled.tick()
    assert len(scaled.run) == 25 and scaled.killed is None
    scaled.receive(b"x" * (SCALED.recvq + 1))  # no newline: nothing can run
    assert scaled.killed == "RecvQ exceeded"


def test_the_scaled_fixture_is_the_default_with_a_faster_command_rate() -> None:
    assert (DEFAULT.recvq, DEFAULT.threshold, DEFAULT.commandrate) == (10240, 10, 1000)
    assert (SCALED.recvq, SCALED.threshold) == (DEFAULT.recvq, DEFAULT.threshold)
    assert SCALED.commandrate == DEFAULT.commandrate * FLOOD_SPEEDUP
    # Past threshold * 1000 the threshold, not the rate, would cap the server.
    assert SCALED.commandrate <= SCALED.threshold * 1000


def test_the_scaled_bucket_is_the_default_one_made_faster() -> None:
    default = _Bot().build_core().flood  # what IRCClient uses with lineRate None
    assert (default.bucket.burst, default.bucket.rate, default.enabled) == (4, 1.0, True)
    scaled = scaled_default_flood(FLOOD_SPEEDUP)
    assert (scaled.bucket.burst, scaled.bucket.rate) == (4, 1.0 * FLOOD_SPEEDUP)
    # Each pair matches its server's rate: 1 line/s and 1000/s, 10 lines/s and 10000/s.
    assert default.bucket.rate * 1000 == DEFAULT.commandrate
    assert scaled.bucket.rate * 1000 == SCALED.commandrate


# -- the default bucket, the scaled run, no bucket -----------------------------------------


@pytest.mark.parametrize("reply_after", [0.0, 30.0], ids=["at-signon", "after-idling"])
def test_the_default_bucket_never_makes_inspircd_hold_a_line_back(reply_after: float) -> None:
    writes = reply_schedule(reply_after=reply_after)  # IRCClient's default bucket
    longest_write = max(len(data) for _, data in writes)
    for offset in OFFSETS:
        server = replay(writes, DEFAULT, first_tick=offset)
        assert server.killed is None, offset
        assert reply_numbers(server) == list(range(REPLY_LINES)), offset
        assert not server.lagged, offset  # every line ran as soon as it arrived
        assert server.peak_penalty <= 5000, offset  # half the threshold
        assert server.peak_queued <= longest_write < DEFAULT.recvq, offset


@pytest.mark.parametrize("reply_after", [0.0, 30.0], ids=["at-signon", "after-idling"])
def test_the_scaled_run_passes_and_is_harsher_than_the_default(reply_after: float) -> None:
    default_writes = reply_schedule(reply_after=reply_after)
    scaled_writes = reply_schedule(scaled_default_flood(FLOOD_SPEEDUP), reply_after=reply_after)
    assert scaled_writes[-1][0] - SIGNON - reply_after < 21.0  # vs ~200 s for the default
    lagged = []
    for offset in OFFSETS:
        default = replay(default_writes, DEFAULT, first_tick=offset)
        scaled = replay(scaled_writes, SCALED, first_tick=offset)
        assert scaled.killed is None, offset
        assert reply_numbers(scaled) == list(range(REPLY_LINES)), offset
        assert default.peak_queued <= scaled.peak_queued < SCALED.recvq / 3, offset
        assert default.peak_penalty <= scaled.peak_penalty, offset
        lagged.append(scaled.lagged)
    assert any(lagged)  # the scaled run meets fake lag; the default never does


@pytest.mark.parametrize(
    ("speedup", "limits", "killed_after"),
    [(2, DEFAULT, (35.0, 45.0)), (2 * FLOOD_SPEEDUP, SCALED, (3.5, 4.0))],
    ids=["default", "scaled"],
)
def test_a_bucket_twice_as_fast_is_killed(speedup, limits, killed_after) -> None:
    """The limits leave no room for a faster refill: twice the rate is killed within
    the reply.  (The real scaled server does the same, at 3.5 s in the integration test
    test_the_scaled_limits_kill_a_bucket_twice_as_fast.)"""
    writes = reply_schedule(scaled_default_flood(speedup))
    for offset in OFFSETS:
        server = replay(writes, limits, first_tick=offset)
        assert server.killed == "RecvQ exceeded", offset
        assert server.killed_at is not None
        assert killed_after[0] <= server.killed_at - SIGNON <= killed_after[1], offset


@pytest.mark.parametrize("limits", [DEFAULT, SCALED], ids=["default", "scaled"])
def test_an_unpaced_reply_is_killed(limits: Limits) -> None:
    writes = reply_schedule(line_rate=0)  # flood control off, as in the negative control
    for offset in OFFSETS:
        server = replay(writes, limits, first_tick=offset)
        assert server.killed == "RecvQ exceeded", offset
        assert len(reply_numbers(server)) < 20, offset
