"""The lag probe: alone, in the sans-I/O core, and through IRCClient on a task.Clock."""

from __future__ import annotations

import pytest

from logbot.irc import events as ev
from logbot.irc.flood import FloodControl
from logbot.irc.lag import LagProbe
from logbot.reactor.task import Clock
from logbot.reactor.testing import StringTransport
from tests.irc.test_client import Recorder
from tests.irc.test_client import feed as feed_client
from tests.irc.test_client import sent as sent_client
from tests.irc.test_core import feed, make, registered, sent

# -- LagProbe alone -------------------------------------------------------------------


def test_nothing_before_start_then_a_probe_every_interval() -> None:
    probe = LagProbe(10.0)
    assert not probe.idle and not probe.due(1e9) and probe.next_deadline() is None
    assert probe.lag(5.0) is None
    probe.start(5.0)
    assert probe.idle and probe.next_deadline() == 15.0 and not probe.due(14.9)
    assert probe.due(15.0)
    assert probe.probe(15.0) == "PING :lag1"
    assert not probe.idle and probe.next_deadline() is None  # one out at a time
    assert probe.lag(16.0) is None  # queued, not sent: nothing to time yet
    probe.released(["PRIVMSG #a :x", "PING :lag1"], 17.0)
    assert probe.lag(17.5) == 0.5  # out for 0.5 s: the best lower bound there is
    assert not probe.pong("lag0", 18.0) and not probe.pong("keepalive", 18.0)
    assert probe.pong("lag1", 18.0)
    assert probe.last == 1.0 and probe.lag(100.0) == 1.0
    assert probe.next_deadline() == 25.0 and probe.probe(25.0) == "PING :lag2"


def test_an_outstanding_probe_counts_once_it_is_longer_than_the_last() -> None:
    probe = LagProbe(10.0)
    probe.start(0.0)
    probe.released([probe.probe(10.0)], 10.0)
    probe.pong("lag1", 12.0)
    probe.released([probe.probe(20.0)], 20.0)
    assert probe.lag(21.0) == 2.0  # out 1 s, less than the last 2 s
    assert probe.lag(23.5) == 3.5  # out longer: a stalled server's lag grows
    assert not probe.pong("lag1", 24.0)  # a late answer to an old token is not this one
    assert probe.pong("lag2", 24.0) and probe.lag(24.0) == 4.0


def test_the_first_probe_can_come_sooner() -> None:
    probe = LagProbe(60.0, first=5.0)
    probe.start(100.0)
    assert probe.next_deadline() == 105.0 and not probe.due(104.9) and probe.due(105.0)
    probe.released([probe.probe(105.0)], 105.0)
    assert probe.pong("lag1", 105.2) and probe.next_deadline() == 165.0  # then every 60 s


def test_bad_interval() -> None:
    with pytest.raises(ValueError):
        LagProbe(0)
    with pytest.raises(ValueError):
        LagProbe(60.0, first=-1.0)


# -- in the core ----------------------------------------------------------------------


def test_no_probe_before_registration_the_keepalive_pings_as_before() -> None:
    conn = make(ping_interval=60.0, ping_timeout=120.0, registration_timeout=300.0)
    sent(conn)
    assert conn.next_wakeup(0.0) == 60.0
    assert sent(conn, 60.0) == ["PING :keepalive"]
    assert conn.lag(60.0) is None


def test_the_probe_goes_out_on_a_busy_link_and_its_pong_is_consumed() -> None:
    conn = registered(ping_interval=60.0, ping_timeout=120.0)
    assert conn.lag(0.0) is None
    for t in range(10, 60, 10):  # data all the time: the keepalive never pings
        feed(conn, f":al!a@h PRIVMSG #a :{t}", now=float(t))
        assert sent(conn, float(t)) == []
    assert conn.next_wakeup(55.0) == 60.0
    assert sent(conn, 60.0) == ["PING :lag1"]
    assert conn.next_wakeup(60.0) == 110.0  # the keepalive (data at 50); no probe while out
    events = conn.receive_data(b":srv PONG srv :lag1\r\n", 60.25)
    assert events == []  # not even a RawMessage
    assert conn.lag(60.25) == 0.25 and conn.lag(1000.0) == 0.25
    assert conn.next_wakeup(60.25) == 120.0


def test_other_pongs_are_reported_as_before() -> None:
    conn = registered(ping_interval=60.0, ping_timeout=120.0)
    sent(conn, 60.0)
    events = conn.receive_data(b":srv PONG srv :lag2\r\n:srv PONG srv :mine\r\n", 61.0)
    raw = [e.message.params[-1] for e in events if isinstance(e, ev.RawMessage)]
    assert raw == ["lag2", "mine"]
    assert conn.lag(61.0) == 1.0  # lag1 still out


def test_the_probe_is_timed_from_when_the_flood_queue_releases_it() -> None:
    conn = registered(ping_interval=60.0, ping_timeout=120.0, flood=FloodControl(burst=1, rate=1.0))
    for t in (10.0, 20.0, 30.0):  # registration's lines, one a time; then a full bucket
        sent(conn, t)
    for i in range(5):
        conn.privmsg("#a", f"line {i}")
    assert sent(conn, 59.0) == ["PRIVMSG #a :line 0"]
    assert sent(conn, 60.0) == ["PRIVMSG #a :line 1"]  # the probe queued behind 3 lines
    assert conn.queue_length == 4
    assert conn.lag(61.5) is None  # not sent yet: nothing to time
    for t in (61.0, 62.0, 63.0):
        sent(conn, t)
    assert sent(conn, 64.0) == ["PING :lag1"]
    feed(conn, ":srv PONG srv :lag1", now=64.5)
    assert conn.lag(64.5) == 0.5  # not 4.5: our queue is not the server's lag


def test_the_core_takes_the_first_probe_s_delay() -> None:
    conn = registered(ping_interval=60.0, ping_timeout=120.0, first_lag_probe=5.0)
    assert conn.next_wakeup(0.0) == 5.0
    assert sent(conn, 5.0) == ["PING :lag1"]
    feed(conn, ":srv PONG srv :lag1", now=5.1)
    assert conn.lag(5.1) == pytest.approx(0.1)


# -- through IRCClient, on a task.Clock ------------------------------------------------


def test_the_client_timer_sends_the_probes_and_lag_follows_the_clock() -> None:
    client = Recorder()
    clock = Clock()
    client.clock = clock
    client.ping_interval, client.ping_timeout = 30.0, 90.0
    transport = StringTransport()
    client.makeConnection(transport)
    feed_client(client, ":srv 001 bot :hi")
    sent_client(transport)
    for _ in range(6):  # a busy channel: a line every 5 s
        clock.advance(5.0)
        feed_client(client, f":{'al!a@h'} PRIVMSG #c :busy")
    assert sent_client(transport) == ["PING :lag1"]
    clock.advance(0.5)
    assert client.core.lag(clock.seconds()) == 0.5
    feed_client(client, ":srv PONG srv :lag1")
    clock.advance(29.5)
    assert sent_client(transport) == ["PING :lag2"]
    clock.advance(40.0)  # no answer: the lag grows with the clock
    assert client.core.lag(clock.seconds()) == 40.0
    assert not any(
        isinstance(e, ev.RawMessage) and e.message.command == "PONG" for e in client.events
    )


def test_the_logging_bot_s_client_knows_its_lag_seconds_after_connecting() -> None:
    from logbot.bot.ircbot import LogBotClient

    client = LogBotClient()
    client.nickname = "bot"
    assert client.build_core().lag_probe.first == 5.0
    assert Recorder().build_core().lag_probe.first == 30.0  # IRCClient's: ping_interval
