"""The send queue's lanes, bounds and debt (issue 15, item 4), on fake clocks.

Before: one queue for every line but PONG/CAP/AUTHENTICATE/QUIT, no bound, and a debt
with no floor.  At the plugins' rate limits replies queued for hours, an admin's WHO
waited behind them and timed out, and after 100,000 PINGs from a server the next line
of ours waited 27.8 hours.  bench/bench_send_queue.py measures the same on the fake clock.
"""

from __future__ import annotations

import pytest

from logbot.irc.client import IRCClient
from logbot.irc.core import IRCConnection
from logbot.irc.flood import (
    MAX_QUEUED_LINES,
    MAX_QUEUED_PER_TARGET,
    MAX_REPLY_WAIT,
    FloodControl,
    TokenBucket,
)
from logbot.reactor.task import Clock
from logbot.reactor.testing import StringTransport


def drain(flood: FloodControl, start: float = 0.0, seconds: int = 100) -> list[tuple[float, str]]:
    """Every line released, with its time, asking once a second."""
    out: list[tuple[float, str]] = []
    for t in range(seconds):
        now = start + t
        out += [(now, line) for line in flood.pop_ready(now)]
    return out


def lines_of(released: list[tuple[float, str]]) -> list[str]:
    return [line for _, line in released]


def registered_core(flood: FloodControl, now: float) -> IRCConnection:
    conn = IRCConnection("bot", flood=flood)
    conn.connection_made(now)
    conn.receive_data(b":srv 001 bot :Welcome\r\n", now)
    conn.data_to_send(now)
    return conn


# -- the debt of the priority lane ------------------------------------------------------


def test_after_100000_pings_a_line_waits_no_longer_than_the_refill_time() -> None:
    conn = registered_core(FloodControl(), 95.0)  # the default bucket: burst 4, 1 line/s
    now = 100.0
    chunk = b"PING :x\r\n" * 1000
    pongs = 0
    for _ in range(100):
        conn.receive_data(chunk, now)
        pongs += conn.data_to_send(now).count(b"PONG x\r\n")
    assert pongs == 100_000  # every PONG still leaves at once
    conn.privmsg("#a", "hi")
    refill = conn.flood.bucket.burst / conn.flood.bucket.rate  # 4 s
    assert conn.flood.next_ready_time(now) == pytest.approx(now + refill)  # was 27.8 h later
    assert conn.data_to_send(now + refill - 0.01) == b""
    assert conn.data_to_send(now + refill) == b"PRIVMSG #a :hi\r\n"


def test_a_charge_never_takes_the_bucket_below_its_floor() -> None:
    bucket = TokenBucket(4, 2.0)
    for _ in range(1000):
        bucket.charge(0.0)
    assert bucket.tokens == bucket.floor == -3.0
    assert bucket.ready_at(0.0) == pytest.approx(2.0)  # burst / rate
    joins = TokenBucket(4, 1.0)  # a JOIN may borrow lower (-burst); a charge keeps that
    while joins.try_borrow(0.0, 4):
        pass
    joins.charge(0.0)
    assert joins.tokens == -4.0


# -- the protocol lane ------------------------------------------------------------------


def test_protocol_lines_go_ahead_of_the_replies_waiting() -> None:
    flood = FloodControl(burst=1, rate=1.0)
    for i in range(50):
        flood.push(f"PRIVMSG #a :{i}")
    assert flood.pop_ready(0.0) == ["PRIVMSG #a :0"]
    flood.push("WHO root %tna,417")  # the account check of an admin command
    flood.push("JOIN #new")
    flood.push("PING :lag1")  # the lag probe keeps its place (timed from when it leaves)
    assert flood.pop_ready(1.0) == ["WHO root %tna,417", "JOIN #new"]  # (JOIN borrows)
    assert flood.pop_ready(3.0) == ["PRIVMSG #a :1"]
    assert lines_of(drain(flood, 4.0))[-2:] == ["PRIVMSG #a :49", "PING :lag1"]


def test_a_part_and_a_join_of_one_channel_keep_their_order() -> None:
    flood = FloodControl(burst=1, rate=1.0)
    flood.push("PRIVMSG #a :leaving #a")  # !part: the reply, then the PART
    flood.push("PART #a :asked")
    flood.push("JOIN #b,#A")  # rejoins #a: waits behind the PART
    flood.push("JOIN #c")  # another channel: ahead of the replies
    assert lines_of(drain(flood)) == [
        "JOIN #c",
        "PRIVMSG #a :leaving #a",
        "PART #a :asked",
        "JOIN #b,#A",
    ]
    flood.push("JOIN #a")  # the PART is gone: a JOIN goes ahead again
    flood.push("PRIVMSG #a :x")
    flood.push("PRIVMSG #a :y")
    flood.push("JOIN #d")
    assert lines_of(drain(flood, 100.0)) == ["JOIN #a", "JOIN #d", "PRIVMSG #a :x", "PRIVMSG #a :y"]


def test_an_urgent_notice_jumps_the_replies_but_not_the_protocol_lane() -> None:
    flood = FloodControl(burst=1, rate=1.0)
    for i in range(4):
        flood.push(f"PRIVMSG #a :{i}")
    assert flood.pop_ready(0.0) == ["PRIVMSG #a :0"]
    flood.push("WHO x %tna,417")
    flood.push("NOTICE alice :busy", urgent=True)
    flood.push("NOTICE bob :busy", urgent=True)
    assert lines_of(drain(flood, 1.0)) == [
        "WHO x %tna,417",
        "NOTICE alice :busy",
        "NOTICE bob :busy",
        "PRIVMSG #a :1",
        "PRIVMSG #a :2",
        "PRIVMSG #a :3",
    ]


# -- the bounds on replies --------------------------------------------------------------


def test_a_reply_waiting_longer_than_max_reply_wait_is_dropped_and_counted() -> None:
    flood = FloodControl(burst=1, rate=1.0, max_reply_wait=30.0)
    for i in range(40):
        flood.push(f"PRIVMSG #a :{i}")
    flood.push("MODE #a +m")  # not a reply: it never expires
    released = drain(flood)
    assert released[:31] == [(float(t), f"PRIVMSG #a :{t}") for t in range(31)]  # 30 s late
    assert released[31:] == [(31.0, "MODE #a +m")]  # lines 31-39 dropped, no token spent
    assert (flood.expired, flood.dropped, len(flood)) == (9, 9, 0)


def test_a_reply_is_never_cut_in_the_middle_for_its_age() -> None:
    flood = FloodControl(burst=1, rate=1.0, max_reply_wait=1.0)
    flood.push("PRIVMSG #a :first 1")
    flood.push("PRIVMSG #a :first 2", continues=True)
    flood.push("PRIVMSG #a :first 3", continues=True)
    flood.push("PRIVMSG #b :second 1")
    flood.push("PRIVMSG #b :second 2", continues=True)
    flood.push("PRIVMSG #a :fourth")  # not a continuation
    # the first reply started at 0 s: it is finished at 2 s, 1 s past its time; the
    # second would start at 3 s, too late, and goes whole, and so does the line after it
    assert drain(flood) == [
        (0.0, "PRIVMSG #a :first 1"),
        (1.0, "PRIVMSG #a :first 2"),
        (2.0, "PRIVMSG #a :first 3"),
    ]
    assert flood.expired == 3
    flood.push("NOTICE x :y", continues=True)  # nothing before it: an ordinary reply line
    assert flood.pop_ready(200.0) == ["NOTICE x :y"]


def test_replies_over_the_bounds_are_dropped_and_counted() -> None:
    flood = FloodControl(max_queued=5, max_per_target=3)
    assert [flood.push(f"PRIVMSG #a :{i}") for i in range(4)] == [True] * 3 + [False]
    assert [flood.push(f"NOTICE Bob :{i}") for i in range(2)] == [True, True]
    assert not flood.push("NOTICE carol :over the total")
    assert flood.push("JOIN #c") and flood.push("MODE #a +m")  # not replies: never dropped
    assert (flood.overflowed, len(flood)) == (2, 7)
    assert flood.pop_ready(0.0) == ["JOIN #c", "PRIVMSG #a :0", "PRIVMSG #a :1", "PRIVMSG #a :2"]
    assert flood.push("PRIVMSG #A :again")  # #a's share is free again (#A is #a)
    assert flood.push("NOTICE BOB :2")  # Bob's third, whatever the case...
    assert not flood.push("NOTICE bob :3")  # ...and no fourth
    assert flood.overflowed == 3


def test_admit_refuses_what_would_wait_too_long_or_overflow() -> None:
    flood = FloodControl(max_reply_wait=30.0)  # the default bucket: burst 4, then 1/s
    assert flood.admit("#a", 34, 0.0)  # 4 at once, the 34th 30 s later
    assert not flood.admit("#a", 35, 0.0)
    assert flood.refused == 35 and len(flood) == 0  # counted; nothing queued
    for i in range(30):
        flood.push(f"PRIVMSG #a :{i}")
    flood.push("WHO x %tna,417")  # every line waiting counts
    assert flood.delay(0.0, 3) == pytest.approx(30.0)
    assert flood.admit("#b", 3, 0.0) and not flood.admit("#b", 4, 0.0)
    bounded = FloodControl(max_queued=10, max_per_target=6)
    for i in range(5):
        bounded.push(f"PRIVMSG #a :{i}")
    assert bounded.admit("#a", 1, 0.0) and not bounded.admit("#a", 2, 0.0)
    assert bounded.admit("#b", 5, 0.0) and not bounded.admit("#b", 6, 0.0)
    assert bounded.refused == 8


def test_with_flood_control_off_nothing_is_bounded_or_reordered() -> None:
    flood = FloodControl(enabled=False, max_queued=1, max_per_target=1, max_reply_wait=1.0)
    lines = ["PRIVMSG #a :1", "PRIVMSG #a :2", "PART #a", "JOIN #a", "WHO x", "NOTICE b :3"]
    assert all(flood.push(line) for line in lines)
    assert flood.admit("#a", 100, 0.0)
    flood.push("PONG :x")
    assert flood.pop_ready(50.0) == ["PONG :x", *lines]


def test_clear_forgets_the_counts_of_every_lane() -> None:
    flood = FloodControl(max_per_target=1)
    flood.push("PRIVMSG #a :1")
    flood.push("PART #b")
    flood.push("NOTICE x :y", urgent=True)
    flood.clear()
    assert len(flood) == 0
    assert flood.push("PRIVMSG #a :again")
    flood.push("JOIN #b")  # no PART of #b waits any more
    assert flood.pop_ready(0.0) == ["JOIN #b", "PRIVMSG #a :again"]


# -- the core and the client --------------------------------------------------------------


def test_the_core_queues_a_reply_whole_or_not_at_all() -> None:
    conn = registered_core(FloodControl(max_reply_wait=30.0), 0.0)
    now = 10.0  # the bucket is full again
    assert conn.reply("#a", [f"line {i}" for i in range(33)], now)  # 4 now, then 1 a second
    assert not conn.reply("#a", ["x " * 300], now)  # 2 lines on the wire: the 35th is late
    assert conn.replies_dropped == 2 and conn.queue_length == 33
    assert conn.reply("#a", ["x " * 150], now)  # 1 line: the 34th, 30 s from now
    assert conn.flood.pop_ready(now)[-1] == "PRIVMSG #a :line 3"


def test_the_bot_s_client_bounds_its_queue_and_a_ported_program_s_does_not() -> None:
    from logbot.bot.ircbot import LogBotClient

    assert (
        LogBotClient.max_reply_wait,
        LogBotClient.max_queued_lines,
        LogBotClient.max_queued_per_target,
    ) == (MAX_REPLY_WAIT, MAX_QUEUED_LINES, MAX_QUEUED_PER_TARGET)
    plain = IRCClient()  # Twisted's IRCClient keeps every line queued: so does ours
    assert (plain.max_reply_wait, plain.max_queued_lines, plain.max_queued_per_target) == (
        None,
        None,
        None,
    )
    for rate, enabled in ((None, True), (0, False), (2.0, True)):
        client = IRCClient()
        client.max_reply_wait = MAX_REPLY_WAIT
        client.max_queued_lines = MAX_QUEUED_LINES
        client.max_queued_per_target = MAX_QUEUED_PER_TARGET
        client.clock = Clock()
        client.lineRate = rate
        client.makeConnection(StringTransport())
        flood = client.core.flood  # type: ignore[union-attr]
        assert flood.enabled is enabled
        assert (flood.max_reply_wait, flood.max_queued, flood.max_per_target) == (
            MAX_REPLY_WAIT,
            MAX_QUEUED_LINES,
            MAX_QUEUED_PER_TARGET,
        )
    client = IRCClient()
    client.clock = Clock()
    client.max_reply_wait = client.max_queued_lines = client.max_queued_per_target = None
    client.makeConnection(StringTransport())
    flood = client.core.flood  # type: ignore[union-attr]
    assert (flood.max_reply_wait, flood.max_queued, flood.max_per_target) == (None, None, None)


def test_the_client_reply_says_whether_it_was_queued() -> None:
    clock = Clock()
    client = IRCClient()
    client.max_reply_wait = MAX_REPLY_WAIT  # bounded as the logging bot's client is
    client.clock = clock
    client.nickname = "bot"
    transport = StringTransport()
    client.makeConnection(transport)
    client.dataReceived(b":srv 001 bot :Welcome\r\n")
    clock.advance(10.0)
    transport.clear()
    assert client.reply("#a", [f"{i}" for i in range(34)])
    assert transport.value().count(b"PRIVMSG") == 4  # the burst, at once
    assert not client.reply("#a", ["late"])
    assert client.core is not None and client.core.replies_dropped == 1
