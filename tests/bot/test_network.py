"""NetworkBot on the reactor's fakes: what reaches the log, reconnects, markers, kicks."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from logbot.bot.network import QUIT_WAIT
from logbot.config.settings import ChannelConfig, LogOptions, ReconnectOptions, Secret
from tests.bot.fakes import WALL0, Harness, network

ALICE = "alice!~alice@alice.host"
BOB = "bob!~bob@bob.host"
TIME = "@time=2026-03-29T00:59:59.500Z"


def registered(config=None, caps: str = "") -> Harness:  # type: ignore[no-untyped-def]
    h = Harness(config)
    h.start()
    h.connect()
    h.register(caps=caps)
    h.sent()
    h.join("#a")
    h.join("#B")
    h.writer.clear()
    return h


def test_registration_joins_every_channel_with_its_key() -> None:
    h = Harness(network(channels=(ChannelConfig("#a"), ChannelConfig("#k", key=Secret("s3")))))
    h.start()
    assert [c[:2] for c in h.reactor.tcpClients] == [("irc1.example", 6667)]
    h.connect()
    h.sent()
    h.register()
    joins = [line for line in h.sent() if line.startswith("JOIN")]
    assert joins == ["JOIN #k,#a s3"]


def test_channel_events_become_records_in_their_channels() -> None:
    h = registered()
    h.feed(
        f":{ALICE} JOIN #a",
        f":{BOB} JOIN #B",
        f":{BOB} JOIN #a",
        f"{TIME} :{ALICE} PRIVMSG #a :hello there",
        f":{ALICE} PRIVMSG #A :\x01ACTION waves\x01",
        f":{BOB} NOTICE @#a :ops only",
        f":{ALICE} TOPIC #a :new topic",
        f":{ALICE} MODE #a +ov-b bob bob *!*@x",
        f":{ALICE} KICK #B bob :bye",
        f":{ALICE} NICK alicia",
        f":{BOB} PART #a :later",
        ":alicia!~alice@alice.host QUIT :gone",
    )
    a = h.writer.records("#a")
    assert [r.type for r in a] == [
        "join",
        "join",
        "message",
        "action",
        "notice",
        "topic",
        "mode",
        "nick",
        "part",
        "quit",
    ]
    msg = a[2]
    assert (msg.nick, msg.user, msg.host, msg.text) == (
        "alice",
        "~alice",
        "alice.host",
        "hello there",
    )
    assert msg.time == datetime(2026, 3, 29, 0, 59, 59, 500000, tzinfo=UTC)
    assert msg.time_source == "server"
    assert a[3].time_source == "local"
    assert a[3].time == datetime.fromtimestamp(WALL0 + h.reactor.seconds(), UTC)
    assert a[4].channel == "#a" and a[4].text == "ops only"
    assert a[6].text == "+ov-b bob bob *!*@x"
    assert (a[7].nick, a[7].target) == ("alice", "alicia")
    assert a[8].text == "later"
    assert (a[9].nick, a[9].text) == ("alicia", "gone")
    b = h.writer.records("#b")
    assert [r.type for r in b] == ["join", "kick"]
    assert (b[1].nick, b[1].target, b[1].text) == ("alice", "bob", "bye")
    # alice was no longer in #B: her NICK and QUIT did not go there
    assert all(r.channel in ("#B", "#b") for r in b)


def test_quit_and_nick_go_to_every_shared_channel() -> None:
    h = registered()
    h.feed(f":{ALICE} JOIN #a", f":{ALICE} JOIN #B")
    h.writer.clear()
    h.feed(f":{ALICE} NICK al", ":al!~alice@alice.host QUIT :bye")
    assert h.writer.types("#a") == ["nick", "quit"]
    assert h.writer.types("#b") == ["nick", "quit"]


def test_extended_join_account_and_account_tag() -> None:
    h = registered(caps="extended-join account-tag")
    h.feed(
        f":{ALICE} JOIN #a alice_acct :Alice A",
        f"@account=alice_acct :{ALICE} PRIVMSG #a :hi",
        f":{BOB} JOIN #a * :Bob",
    )
    join, msg, bob = h.writer.records("#a")
    assert join.account == "alice_acct" and msg.account == "alice_acct"
    assert bob.account is None


def test_topic_on_join_waits_for_its_setter() -> None:
    h = registered()
    h.feed(":irc.example 332 bot #a :the topic")
    assert h.writer.records() == []
    h.feed(":irc.example 333 bot #a alice!~a@h 1700000000")
    (record,) = h.writer.records("#a")
    assert (record.type, record.text, record.nick) == ("topic_info", "the topic", "alice")
    h.feed(":irc.example 332 bot #B :other", ":irc.example 366 bot #B :End of NAMES")
    (record,) = h.writer.records("#b")
    assert (record.type, record.nick) == ("topic_info", None)


def test_chghost_setname_away() -> None:
    h = registered(caps="chghost setname away-notify")
    h.feed(
        f":{ALICE} JOIN #a",
        f":{ALICE} CHGHOST ~al new.host",
        f":{ALICE} SETNAME :Alice B",
        f":{ALICE} AWAY :lunch",
        f":{ALICE} AWAY",
    )
    records = h.writer.records("#a")[1:]
    assert [r.type for r in records] == ["chghost", "setname", "away", "back"]
    assert records[0].target == "~al@new.host"
    assert records[1].text == "Alice B" and records[2].text == "lunch"


def test_own_messages_logged_once_without_echo_message() -> None:
    h = registered()
    h.client.say("#a", "my line")
    (record,) = h.writer.records("#a")
    assert (record.type, record.nick, record.text) == ("message", "bot", "my line")


def test_own_messages_logged_once_with_echo_message() -> None:
    h = registered(caps="echo-message")
    h.client.say("#a", "my line")
    assert h.writer.records("#a") == []  # not at send time: the echo will come
    h.feed(":bot!~bot@bot.host PRIVMSG #a :my line")
    (record,) = h.writer.records("#a")
    assert (record.nick, record.text) == ("bot", "my line")


def test_private_messages_only_with_private_logging() -> None:
    h = registered()
    h.feed(f":{ALICE} PRIVMSG bot :psst", ":irc.example NOTICE bot :server says")
    assert h.writer.records() == []
    h = registered(network(log=LogOptions(private=True)))
    h.feed(f":{ALICE} PRIVMSG bot :psst", ":irc.example NOTICE bot :server says")
    (record,) = h.writer.records()
    assert (record.channel, record.text) == ("alice", "psst")
    assert h.writer.lines[0][0] == "alice"


def test_nolog_optout_and_filters_follow_the_channel_options() -> None:
    quiet = LogOptions(opt_out=("Alice",), events=replace(LogOptions().events, joins=False))
    h = registered(network(channels=(ChannelConfig("#a", log=quiet), ChannelConfig("#B"))))
    h.feed(
        f":{ALICE} JOIN #a",
        f":{ALICE} JOIN #B",
        f":{BOB} JOIN #a",
        f":{BOB} PRIVMSG #a :[nolog] secret",
        f":{BOB} PRIVMSG #a :visible",
        f":{ALICE} PRIVMSG #a :hidden",
    )
    a = h.writer.records("#a")
    assert [(r.type, r.nick, r.text) for r in a] == [
        ("message", "bob", "visible"),
        ("opted_out", None, "a line from a user who opted out of logging was not logged"),
    ]
    assert h.writer.types("#b") == ["join"]


def test_disconnect_then_gap_marker_and_rejoin_on_the_next_server() -> None:
    h = registered(
        network(reconnect=ReconnectOptions(initial_delay=1, max_delay=30, factor=2, jitter=0.1))
    )
    h.reactor.advance(5)
    h.lose()
    assert [r.type for r in h.writer.records()] == ["disconnect", "disconnect"]
    assert h.writer.records("#a")[0].text == "disconnected (Connection was closed cleanly. closed)"
    assert h.bot.stats.connected is False
    h.reactor.advance(1.0)  # initial_delay, no jitter (FixedRng)
    assert [c[:2] for c in h.reactor.tcpClients][-1] == ("irc2.example", 6667)
    h.writer.clear()
    h.connect()
    h.register()
    assert any(line.startswith("JOIN ") for line in h.sent())
    h.join("#a")
    gap, join = h.writer.records("#a")
    assert gap.type == "gap" and join.type == "join"
    assert gap.text.startswith("reconnected to irc2.example:6667 as bot; events between ")
    assert h.bot.delay == 0.5  # reset by the registration (initial_delay / factor)


def test_backoff_grows_until_registration() -> None:
    h = Harness(
        network(reconnect=ReconnectOptions(initial_delay=1, max_delay=5, factor=2, jitter=0))
    )
    h.start()
    delays = []
    for _ in range(4):
        h.bot.clientConnectionFailed(h.reactor.connectors[-1], _failure())
        delays.append(h.bot.delay)
        h.reactor.advance(h.bot.delay)
    assert delays == [1, 2, 4, 5]  # the first retry waits initial_delay
    hosts = [c[0] for c in h.reactor.tcpClients]
    assert hosts == ["irc1.example", "irc2.example", "irc1.example", "irc2.example", "irc1.example"]


def _failure():  # type: ignore[no-untyped-def]
    from logbot.reactor.error import ConnectionRefusedError
    from logbot.reactor.failure import Failure

    return Failure(ConnectionRefusedError("refused"))


@pytest.mark.parametrize("delay", [3.0, None])
def test_kick_is_logged_and_followed_by_a_rejoin(delay: float | None) -> None:
    h = registered(network(rejoin_after_kick=delay))
    h.feed(f":{ALICE} KICK #a bot :out")
    (kick,) = h.writer.records("#a")
    assert (kick.type, kick.target, kick.text) == ("kick", "bot", "out")
    h.reactor.advance(2.9)
    assert not [line for line in h.sent() if line.startswith("JOIN")]
    h.reactor.advance(0.2)
    joins = [line for line in h.sent() if line.startswith("JOIN")]
    assert joins == (["JOIN #a"] if delay is not None else [])


def test_a_failing_writer_does_not_drop_the_connection() -> None:
    h = registered()
    h.writer.fail = True
    h.feed(f":{ALICE} PRIVMSG #a :boom")
    assert h.bot.stats.log_failures == 1
    h.writer.fail = False
    h.feed(f":{ALICE} PRIVMSG #a :fine")
    assert [r.text for r in h.writer.records("#a")] == ["fine"]
    assert not h.transport.disconnecting


def test_stop_sends_quit_and_fires_when_closed() -> None:
    h = registered()
    done = h.bot.stop()
    assert "QUIT :logbot shutting down" in h.sent()
    fired = []
    done.addCallback(fired.append)
    assert not fired
    h.lose()
    assert fired == [None]
    assert [r.type for r in h.writer.records("#a")] == ["disconnect"]
    h.reactor.advance(1000)
    assert len(h.reactor.tcpClients) == 1  # no reconnect after a stop


def test_stop_cuts_a_connection_that_does_not_answer_quit() -> None:
    h = registered()
    h.bot.stop()
    h.reactor.advance(QUIT_WAIT + 0.1)
    assert h.transport.disconnecting


def test_reconfigure_joins_and_parts_the_difference() -> None:
    h = registered()
    h.bot.configure(network(channels=(ChannelConfig("#a"), ChannelConfig("#new"))))
    sent = h.sent()
    assert "PART #B :channel removed from the config" in sent
    assert "JOIN #new" in sent


def test_log_lines_are_released_before_a_reply_is_sent() -> None:
    h = registered()
    order: list[str] = []
    h.writer.release = lambda: order.append("release")  # type: ignore[method-assign]
    real_write = h.transport.write

    def write(data: bytes) -> None:
        order.append(data.decode().strip())
        real_write(data)

    h.transport.write = write  # type: ignore[method-assign]
    h.feed(f":{ALICE} PRIVMSG #a :hi", "PING :x")
    assert order == ["release", "PONG x"]


def test_a_topic_held_for_its_setter_does_not_outlive_the_connection() -> None:
    h = registered()
    h.feed(":irc.example 332 bot #a :stale topic")
    h.lose()
    h.reactor.advance(10)
    h.connect()
    h.register()
    h.join("#a")
    h.writer.clear()
    h.feed(":irc.example 332 bot #a :fresh topic", ":irc.example 333 bot #a al 1")
    assert [r.text for r in h.writer.records("#a")] == ["fresh topic"]


@pytest.mark.parametrize(("line_rate", "expected"), [(None, None), (0, 0), (2.0, 0.5)])
def test_line_rate_is_lines_per_second(line_rate: float | None, expected: float | None) -> None:
    h = Harness(network(line_rate=line_rate))
    h.start()
    assert h.connect().lineRate == expected  # IRCClient's lineRate: seconds per line


def test_channel_options_follow_the_casemapping_announced_after_registration() -> None:
    quiet = LogOptions(formats=("text",), nolog_prefix="!!")
    h = Harness(network(channels=(ChannelConfig("#A[1]", log=quiet),)))
    h.start()
    h.connect()
    h.feed(":irc.example 001 bot :Welcome")  # registered under the default (rfc1459)
    h.feed(":irc.example 005 bot CASEMAPPING=ascii :are supported")
    h.feed(
        ":bot!~bot@bot.host JOIN #A[1]",
        f":{ALICE} PRIVMSG #a[1] :!! hidden",
        f":{ALICE} PRIVMSG #a[1] :shown",
    )
    assert [r.text for r in h.writer.records("#a[1]") if r.type == "message"] == ["shown"]
    assert {o for _, _, o in h.writer.lines} == {quiet}


def test_a_failed_optional_sasl_login_is_logged_counted_and_reset_per_connection(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from logbot.config.settings import SaslOptions

    sasl = SaslOptions(password=Secret("hunter2"), mechanisms=("PLAIN",), required=False)
    h = Harness(network(sasl=sasl))
    h.start()
    assert h.bot.stats.sasl is not None and h.bot.stats.sasl.authenticated is None
    h.connect()
    h.feed(":irc.example CAP * LS :sasl=PLAIN", ":irc.example CAP * ACK :sasl")
    h.feed("AUTHENTICATE +", ":irc.example 904 bot :SASL authentication failed")
    assert "CAP END" in h.sent()  # on, unauthenticated
    h.register()
    status = h.bot.stats.sasl
    assert (status.authenticated, status.mechanism, status.error) == (
        False,
        "PLAIN",
        "904 SASL authentication failed",
    )
    assert h.bot.stats.sasl_failures == 1 and h.bot.stats.registered
    (record,) = [r for r in caplog.records if "SASL" in r.getMessage()]
    assert record.levelname == "WARNING"
    assert record.getMessage() == (
        "testnet: SASL PLAIN login failed: 904 SASL authentication failed; "
        "continuing unauthenticated (sasl.required is false)"
    )
    assert "hunter2" not in caplog.text
    h.lose()
    h.reactor.advance(5.0)
    h.connect()  # a new connection: the last one's result no longer holds
    assert h.bot.stats.sasl.authenticated is None and h.bot.stats.sasl.error is None
    assert h.bot.stats.sasl_failures == 1  # a counter


def test_a_registration_that_never_completes_is_dropped_and_retried_with_backoff(
    caplog: pytest.LogCaptureFixture,
) -> None:
    h = Harness(
        network(
            registration_timeout=5.0,
            reconnect=ReconnectOptions(initial_delay=1, max_delay=30, factor=2, jitter=0),
        )
    )
    h.start()
    delays = []
    for attempt in range(3):
        client = h.connect()
        assert client.registration_timeout == 5.0
        h.feed(":irc.example CAP * LS :multi-prefix")  # and never an ACK
        h.reactor.advance(4.9)
        assert not h.transport.disconnecting
        h.reactor.advance(0.1)
        assert h.transport.disconnecting  # the QUIT is flushed, then the link closed
        assert h.sent()[-1].startswith("QUIT :registration not complete after 5 s")
        h.lose()
        delays.append(h.bot.delay)
        host = ("irc1.example", "irc2.example")[attempt % 2]  # each retry: the next server
        assert h.bot.stats.last_error == (
            f"connection to {host}:6667 lost: registration not complete after 5 s "
            "(waiting for capability negotiation)"
        )
        h.reactor.advance(h.bot.delay)
        assert len(h.reactor.tcpClients) == attempt + 2  # the next attempt went out
    assert delays == [1, 2, 4]  # never registered: the backoff grows
    assert not h.bot.stats.registered
    warned = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert any("lost: registration not complete after 5 s" in m for m in warned), warned


def test_a_dead_link_s_gap_starts_at_the_last_data_received_not_at_the_drop() -> None:
    """The server stops answering, the TCP connection stays open: the keepalive drops it
    ``ping_timeout`` seconds after the last data.  Those seconds were not seen, so the
    gap starts when something last arrived (wall time), not at the drop."""
    h = registered()  # the default keepalive settings, whatever they are
    timeout = h.client.ping_timeout
    h.reactor.advance(0.5)
    h.feed(f":{ALICE} PRIVMSG #a :the last line seen")
    last_seen = WALL0 + h.reactor.seconds()
    h.reactor.advance(timeout - 0.1)
    assert any(line.startswith("PING ") for line in h.sent())  # asked; nothing came back
    assert not h.transport.disconnecting
    h.reactor.advance(0.1)  # ping_timeout seconds of silence: dead
    assert h.transport.disconnecting
    dropped = WALL0 + h.reactor.seconds()
    h.lose()
    disconnect = h.writer.records("#a")[-1]
    assert disconnect.type == "disconnect" and "dead link" in (disconnect.text or "")
    h.reactor.advance(h.bot.delay)
    h.writer.clear()
    h.connect()
    h.register()
    h.join("#a")
    gap = h.writer.records("#a")[0]
    assert gap.type == "gap"

    def iso(wall: float) -> str:
        return datetime.fromtimestamp(wall, UTC).isoformat(timespec="seconds")

    end = iso(WALL0 + h.reactor.seconds())
    assert iso(dropped) != iso(last_seen)
    assert gap.target == datetime.fromtimestamp(last_seen, UTC).isoformat(timespec="milliseconds")
    assert (gap.text or "").endswith(f"events between {iso(last_seen)} and {end} were not seen")


def test_keepalive_settings_reach_the_connection() -> None:
    h = Harness(network(ping_interval=7.0, ping_timeout=21.0))
    h.start()
    client = h.connect()
    assert (client.ping_interval, client.ping_timeout) == (7.0, 21.0)
    keepalive = client.core.keepalive
    assert (keepalive.interval, keepalive.timeout) == (7.0, 21.0)
