"""IRCClient on a StringTransport and a task.Clock: no sockets, no real time."""

from __future__ import annotations

from typing import Any

import pytest

from logbot import irc
from logbot.irc import events as ev
from logbot.irc.client import IRCClient
from logbot.irc.sasl import SaslConfig, Secret
from logbot.reactor.error import ConnectionDone
from logbot.reactor.failure import Failure
from logbot.reactor.task import Clock
from logbot.reactor.testing import StringTransport

ME = "bot!~bot@bot.example"
ALICE = "alice!~alice@alice.example"


class Recorder(IRCClient):
    """Records every Twisted-style event it gets, with its arguments."""

    nickname = "bot"
    lineRate = 0  # flood control off unless a test turns it on

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []
        self.events: list[ev.Event] = []

    def _record(name: str):  # type: ignore[misc]
        def method(self: Recorder, *args: Any) -> None:
            self.calls.append((name, *args))

        method.__name__ = name
        return method

    signedOn = _record("signedOn")
    joined = _record("joined")
    left = _record("left")
    privmsg = _record("privmsg")
    noticed = _record("noticed")
    action = _record("action")
    userJoined = _record("userJoined")
    userLeft = _record("userLeft")
    userQuit = _record("userQuit")
    userKicked = _record("userKicked")
    kickedFrom = _record("kickedFrom")
    userRenamed = _record("userRenamed")
    topicUpdated = _record("topicUpdated")
    modeChanged = _record("modeChanged")

    def nickChanged(self, nick: str) -> None:
        IRCClient.nickChanged(self, nick)
        self.calls.append(("nickChanged", nick))

    def eventReceived(self, event: ev.Event) -> None:
        self.events.append(event)


def connect(cls: type[IRCClient] = Recorder, **attrs: Any) -> tuple[Any, StringTransport, Clock]:
    client = cls()
    clock = Clock()
    client.clock = clock
    for name, value in attrs.items():
        setattr(client, name, value)
    transport = StringTransport()
    client.makeConnection(transport)
    return client, transport, clock


def sent(transport: StringTransport) -> list[str]:
    lines = transport.value().decode().split("\r\n")
    transport.clear()
    assert lines[-1] == "", "every line ends with CRLF"
    return lines[:-1]


def feed(client: IRCClient, *lines: str) -> None:
    client.dataReceived("".join(line + "\r\n" for line in lines).encode())


def signed_on(cls: type[IRCClient] = Recorder, **attrs: Any) -> tuple[Any, StringTransport, Clock]:
    client, transport, clock = connect(cls, **attrs)
    feed(
        client,
        f":srv 001 bot :Welcome {ME}",
        ":srv 005 bot CHANTYPES=# :are supported",
        ":srv 376 bot :End of MOTD",
    )
    sent(transport)
    if isinstance(client, Recorder):
        client.calls.clear()
        client.events.clear()
    return client, transport, clock


def in_channel(**attrs: Any) -> tuple[Any, StringTransport, Clock]:
    client, transport, clock = signed_on(**attrs)
    feed(
        client,
        f":{ME} JOIN #c",
        ":srv 353 bot = #c :bot @alice bob",
        ":srv 366 bot #c :End of NAMES",
    )
    client.calls.clear()
    client.events.clear()
    return client, transport, clock


# -- registration ------------------------------------------------------------------------


def test_export_from_package() -> None:
    assert irc.IRCClient is IRCClient


def test_registration_lines() -> None:
    _, transport, _ = connect(username="logger", realname="Log Bot", password="hunter2")
    assert sent(transport) == ["CAP LS 302", "PASS hunter2", "NICK bot", "USER logger 0 * :Log Bot"]


def test_username_and_realname_default_to_the_nickname() -> None:
    _, transport, _ = connect()
    assert sent(transport)[1:] == ["NICK bot", "USER bot 0 * :bot"]


def test_ping_answered_before_and_after_registration() -> None:
    client, transport, _ = connect()
    sent(transport)
    feed(client, "PING :irc.example")
    assert sent(transport) == ["PONG irc.example"]
    feed(client, ":srv 001 bot :hi", "PING :x y")
    assert sent(transport) == ["PONG :x y"]


def test_signed_on_after_cap_negotiation() -> None:
    client, transport, _ = connect()
    sent(transport)
    feed(client, ":srv CAP * LS :multi-prefix inspircd.org/poison")
    assert sent(transport) == ["CAP REQ :multi-prefix"]
    feed(client, ":srv CAP * ACK :multi-prefix")
    assert sent(transport) == ["CAP END"]
    assert client.calls == []
    feed(client, ":irc.example 001 bot :Welcome")
    assert client.calls == [("signedOn",)]
    assert client.hostname == "irc.example"


def test_nick_collision_uses_alter_collided_nick() -> None:
    class Caret(Recorder):
        def alterCollidedNick(self, nickname: str) -> str:
            return nickname + "^"

    client, transport, _ = connect(Caret)
    sent(transport)
    feed(client, ":srv 433 * bot :Nickname is already in use")
    assert sent(transport) == ["NICK bot^"]
    feed(client, ":srv 433 * bot^ :Nickname is already in use")
    assert sent(transport) == ["NICK bot^^"]
    feed(client, ":srv 001 bot^^ :Welcome")
    assert client.nickname == "bot^^"
    assert client.calls == [("signedOn",)]


def test_default_alter_collided_nick_appends_underscore() -> None:
    client, transport, _ = connect(alt_nicks=["logger"])
    sent(transport)
    feed(client, ":srv 433 * bot :in use")
    assert sent(transport) == ["NICK logger"]
    feed(client, ":srv 433 * logger :in use")
    assert sent(transport) == ["NICK logger_"]


def test_requests_before_registration_are_held_until_001() -> None:
    client, transport, _ = connect()
    sent(transport)
    client.join("#early")
    assert sent(transport) == []
    feed(client, ":srv 001 bot :hi")
    assert sent(transport) == ["JOIN #early"]


def test_requests_before_connection_made_raise() -> None:
    with pytest.raises(RuntimeError, match="not connected"):
        Recorder().join("#c")


# -- events ------------------------------------------------------------------------------


def test_joined_and_user_joined_left() -> None:
    client, _, _ = signed_on()
    feed(client, f":{ME} JOIN #c", f":{ALICE} JOIN #c", f":{ALICE} PART #c :bye", f":{ME} PART #c")
    assert client.calls == [
        ("joined", "#c"),
        ("userJoined", "alice", "#c"),
        ("userLeft", "alice", "#c"),
        ("left", "#c"),
    ]


def test_privmsg_notice_action_get_the_full_prefix() -> None:
    client, _, _ = in_channel()
    feed(
        client,
        f":{ALICE} PRIVMSG #c :hello there",
        f":{ALICE} PRIVMSG bot :psst",
        f":{ALICE} NOTICE #c :note",
        f":{ALICE} PRIVMSG #c :\x01ACTION waves\x01",
    )
    assert client.calls == [
        ("privmsg", ALICE, "#c", "hello there"),
        ("privmsg", ALICE, "bot", "psst"),
        ("noticed", ALICE, "#c", "note"),
        ("action", ALICE, "#c", "waves"),
    ]


def test_user_quit_and_renamed_and_the_channels_in_the_typed_event() -> None:
    client, _, _ = in_channel()
    feed(client, f":{ALICE} NICK alicia", ":alicia!~alice@alice.example QUIT :gone")
    assert client.calls == [("userRenamed", "alice", "alicia"), ("userQuit", "alicia", "gone")]
    quits = [e for e in client.events if isinstance(e, ev.Quit)]
    assert quits[0].channels == ("#c",)
    renames = [e for e in client.events if isinstance(e, ev.NickChanged)]
    assert renames[0].channels == ("#c",)


def test_our_own_nick_change() -> None:
    client, _, _ = signed_on()
    client.setNick("newbot")
    feed(client, f":{ME} NICK newbot")
    assert client.calls == [("nickChanged", "newbot")]
    assert client.nickname == "newbot"


def test_kicks() -> None:
    client, _, _ = in_channel()
    feed(client, f":{ALICE} KICK #c bob :spam", f":{ALICE} KICK #c bot")
    assert client.calls == [
        ("userKicked", "bob", "#c", "alice", "spam"),
        ("kickedFrom", "#c", "alice", ""),
    ]


def test_topic_and_modes() -> None:
    client, _, _ = in_channel()
    feed(
        client,
        f":{ALICE} TOPIC #c :new topic",
        f":{ALICE} MODE #c +o-v+l bob bob 10",
        ":srv 332 bot #c :shown on join",
    )
    assert client.calls == [
        ("topicUpdated", "alice", "#c", "new topic"),
        ("modeChanged", ALICE, "#c", True, "ol", ("bob", "10")),
        ("modeChanged", ALICE, "#c", False, "v", ("bob",)),
        ("topicUpdated", "", "#c", "shown on join"),
    ]


def test_our_own_messages_are_events_but_not_privmsg_calls() -> None:
    client, transport, _ = in_channel()
    client.say("c", "hi all")
    assert sent(transport) == ["PRIVMSG #c :hi all"]
    assert client.calls == []
    own = [e for e in client.events if isinstance(e, ev.Privmsg)]
    assert len(own) == 1 and own[0].is_self and own[0].text == "hi all"


def test_irc_hooks_are_called_in_addition_to_the_events() -> None:
    class Hooks(Recorder):
        def irc_NICK(self, prefix: str, params: list[str]) -> None:
            self.calls.append(("irc_NICK", prefix, params))

        def irc_RPL_TOPIC(self, prefix: str, params: list[str]) -> None:
            self.calls.append(("irc_RPL_TOPIC", prefix, params))

        def irc_372(self, prefix: str, params: list[str]) -> None:
            self.calls.append(("irc_372", params[-1]))

        def irc_unknown(self, prefix: str, command: str, params: list[str]) -> None:
            self.calls.append(("irc_unknown", command, params))

    hooks, _, _ = signed_on(Hooks)
    feed(hooks, f":{ME} JOIN #c", ":srv 353 bot = #c :bot alice")
    hooks.calls.clear()
    feed(
        hooks,
        f":{ALICE} NICK alicia",
        ":srv 332 bot #c :t",
        ":srv 372 bot :- motd",
        ":srv WALLOPS :hey",
        "PING :p",
    )
    assert hooks.calls == [
        ("irc_NICK", ALICE, ["alicia"]),
        ("userRenamed", "alice", "alicia"),
        ("irc_RPL_TOPIC", "srv", ["bot", "#c", "t"]),
        ("topicUpdated", "", "#c", "t"),
        ("irc_372", "- motd"),
        ("irc_unknown", "WALLOPS", ["hey"]),  # PING is handled: not "unknown"
    ]


def test_event_received_sees_every_typed_event() -> None:
    client, _, _ = in_channel()
    feed(client, f"@time=2024-01-02T03:04:05.000Z :{ALICE} PRIVMSG #c :stamped")
    privmsgs = [e for e in client.events if isinstance(e, ev.Privmsg)]
    assert privmsgs[0].time is not None and privmsgs[0].time.year == 2024
    assert any(isinstance(e, ev.RawMessage) for e in client.events)


# -- requests ----------------------------------------------------------------------------


def test_requests_on_the_wire() -> None:
    client, transport, _ = in_channel()
    client.join("d", key="sekrit")
    client.leave("#d", "bye")
    client.part("#e")
    client.notice("alice", "n")
    client.describe("#c", "waves")
    client.topic("#c")
    client.topic("#c", "new")
    client.mode("#c", True, "o", user="alice")
    client.mode("#c", True, "l", limit=5)
    client.mode("#c", False, "b", mask="*!*@spam")
    client.kick("#c", "bob", "out")
    client.quit("later")
    assert sent(transport) == [
        "JOIN #d sekrit",
        "PART #d bye",
        "PART #e",
        "NOTICE alice :n",
        "PRIVMSG #c :\x01ACTION waves\x01",
        "TOPIC #c",
        "TOPIC #c new",
        "MODE #c +o alice",
        "MODE #c +l 5",
        "MODE #c -b *!*@spam",
        "KICK #c bob out",
        "QUIT later",
    ]


def test_msg_splits_long_text_to_fit_the_relayed_line() -> None:
    client, transport, _ = in_channel()
    text = " ".join(f"word{i}" for i in range(300))
    client.msg("#c", text)
    lines = sent(transport)
    assert len(lines) > 1
    prefix = len(f":{ME} ")
    assert all(prefix + len(line.encode()) + 2 <= 512 for line in lines)
    assert " ".join(line.split(" :", 1)[1] for line in lines) == text


def test_msg_with_length() -> None:
    client, transport, _ = in_channel()
    client.msg("alice", "x" * 100, length=40)
    lines = sent(transport)
    assert all(len(line) + 2 <= 40 for line in lines)
    assert "".join(line.split(" :", 1)[1] for line in lines) == "x" * 100
    with pytest.raises(ValueError):
        client.msg("alice", "hi", length=10)


def test_msg_text_with_newlines_never_makes_a_second_command() -> None:
    client, transport, _ = in_channel()
    client.msg("#c", "one\r\nQUIT :pwned\nthree")
    assert sent(transport) == ["PRIVMSG #c :one", "PRIVMSG #c :QUIT :pwned", "PRIVMSG #c :three"]


def test_send_line_raw_and_refusing_cr_lf_nul() -> None:
    client, transport, _ = in_channel()
    client.sendLine("WHO #c")
    assert sent(transport) == ["WHO #c"]
    for bad in ("PRIVMSG #c :a\r\nQUIT", "PRIVMSG #c :a\nQUIT", "PRIVMSG #c :a\rb", "X \0"):
        with pytest.raises(ValueError):
            client.sendLine(bad)
    assert sent(transport) == []


# -- timers ------------------------------------------------------------------------------


def test_flood_timer_drains_the_queue_as_the_clock_advances() -> None:
    client, transport, clock = in_channel(lineRate=None)  # our default: burst 4, then 1/s
    clock.advance(10.0)  # registration used tokens: let the bucket fill up again
    for i in range(8):
        client.msg("#c", f"line {i}")
    assert len(sent(transport)) == 4
    clock.advance(1.0)
    assert sent(transport) == ["PRIVMSG #c :line 4"]
    clock.advance(1.0)
    clock.advance(1.0)
    assert sent(transport) == ["PRIVMSG #c :line 5", "PRIVMSG #c :line 6"]
    clock.advance(1.0)
    assert sent(transport) == ["PRIVMSG #c :line 7"]
    clock.advance(10.0)
    assert sent(transport) == []


def test_pong_jumps_the_flood_queue() -> None:
    client, transport, _ = in_channel(lineRate=None)
    for i in range(10):
        client.msg("#c", f"line {i}")
    sent(transport)
    feed(client, "PING :now")
    assert sent(transport) == ["PONG now"]


def test_line_rate_seconds_per_line() -> None:
    client, transport, clock = in_channel(lineRate=2.0)
    clock.advance(10.0)  # registration took the bucket (of 1): NICK now, USER 2 s later
    assert sent(transport) == ["NICK bot"]
    clock.advance(2.0)
    assert sent(transport) == ["USER bot 0 * :bot"]
    clock.advance(2.0)
    for i in range(3):
        client.msg("#c", f"line {i}")
    assert sent(transport) == ["PRIVMSG #c :line 0"]
    clock.advance(1.0)
    assert sent(transport) == []
    clock.advance(1.0)
    assert sent(transport) == ["PRIVMSG #c :line 1"]


def test_keepalive_ping_then_dead_link_closes_the_transport() -> None:
    client, transport, clock = signed_on(ping_interval=1.0, ping_timeout=2.0)
    clock.advance(0.5)
    feed(client, ":srv NOTICE bot :traffic")  # proof of life: the deadlines move
    clock.advance(0.5)
    assert sent(transport) == ["PING :lag1"]  # the lag probe goes out whatever arrives
    clock.advance(0.25)
    assert sent(transport) == []
    clock.advance(0.25)
    assert sent(transport) == ["PING :keepalive"]  # quiet for 1 s (the probe is out)
    assert not transport.disconnecting
    clock.advance(0.75)
    assert not transport.disconnecting
    clock.advance(0.25)
    assert transport.disconnecting
    assert "dead link" in (client.disconnect_reason or "")
    assert any(isinstance(e, ev.DeadLink) for e in client.events)
    assert clock.getDelayedCalls() == []


def test_pong_keeps_the_link_alive() -> None:
    client, transport, clock = signed_on(ping_interval=1.0, ping_timeout=2.0)
    for i in range(1, 6):
        clock.advance(1.0)
        assert sent(transport) == [f"PING :lag{i}"]  # the probe doubles as the keepalive
        clock.advance(0.25)
        feed(client, f":srv PONG srv :lag{i}")
    assert not transport.disconnecting
    assert client.core.lag(clock.seconds()) == 0.25
    assert not any(
        isinstance(e, ev.RawMessage) and e.message.command == "PONG" for e in client.events
    )  # the probes' PONGs are nobody else's business


def test_one_timer_at_most() -> None:
    client, _, clock = in_channel(lineRate=None)
    for i in range(20):
        client.msg("#c", f"line {i}")
        feed(client, f":{ALICE} PRIVMSG #c :{i}")
    assert len(clock.getDelayedCalls()) == 1


def test_connection_lost_cancels_the_timer_and_the_queue() -> None:
    client, transport, clock = in_channel(lineRate=None)
    for i in range(10):
        client.msg("#c", f"line {i}")
    sent(transport)
    client.connectionLost(Failure(ConnectionDone()))
    assert clock.getDelayedCalls() == []
    clock.advance(100)
    assert sent(transport) == []
    client.msg("#c", "after")  # ignored, not an error
    assert sent(transport) == []


def test_server_error_closes() -> None:
    client, transport, _ = signed_on()
    feed(client, "ERROR :Closing link: (bot@host) [Killed (oper (bye))]")
    assert transport.disconnecting
    assert "Killed" in (client.disconnect_reason or "")


def test_required_sasl_not_offered_quits_and_closes() -> None:
    sasl = SaslConfig(username="u", password=Secret("p"), mechanisms=("PLAIN",), required=True)
    client, transport, _ = connect(sasl=sasl)
    sent(transport)
    feed(client, ":srv CAP * LS :multi-prefix")
    assert sent(transport) == ["CAP REQ :multi-prefix"]
    assert not transport.disconnecting
    feed(client, ":srv CAP * ACK :multi-prefix")
    assert sent(transport)[-1].startswith("QUIT")
    assert transport.disconnecting
    assert "SASL required" in (client.disconnect_reason or "")


def test_sasl_deadline_runs_on_the_clock() -> None:
    sasl = SaslConfig(username="u", password=Secret("p"), mechanisms=("PLAIN",), timeout=5.0)
    client, transport, clock = connect(sasl=sasl)
    sent(transport)
    feed(client, ":srv CAP * LS :sasl=PLAIN", ":srv CAP * ACK :sasl")
    assert sent(transport) == ["CAP REQ :sasl", "AUTHENTICATE PLAIN"]
    clock.advance(5.0)  # the server never answers: give up on SASL, not on the connection
    lines = sent(transport)
    assert "CAP END" in lines
    assert not transport.disconnecting
    assert any(isinstance(e, ev.SaslResult) and not e.success for e in client.events)


def test_a_server_that_never_acks_cap_req_is_dropped_at_the_registration_deadline() -> None:
    """CAP LS answered, CAP REQ never: without a deadline the bot waits for the keepalive
    (120 s), or for ever while the server talks.  The default deadline is 60 s."""
    client, transport, clock = connect()
    sent(transport)
    feed(client, ":srv CAP * LS :multi-prefix server-time")
    assert sent(transport) == ["CAP REQ :multi-prefix server-time"]
    clock.advance(59.9)
    assert not transport.disconnecting
    clock.advance(0.1)
    assert transport.disconnecting
    assert sent(transport)[-1].startswith("QUIT :registration not complete after 60 s")
    reason = client.disconnect_reason or ""
    assert reason == "registration not complete after 60 s (waiting for capability negotiation)"
    assert clock.getDelayedCalls() == []


def test_a_server_that_talks_but_never_sends_001_is_dropped_at_the_registration_deadline() -> None:
    """NOTICEs keep the keepalive happy for ever; the registration deadline does not move."""
    client, transport, clock = connect(registration_timeout=30.0, ping_interval=5.0)
    feed(client, ":srv CAP * LS :multi-prefix", ":srv CAP * ACK :multi-prefix")
    assert sent(transport)[-1] == "CAP END"
    for _ in range(29):
        clock.advance(1.0)
        feed(client, ":srv NOTICE * :*** still looking up your hostname")
    assert not transport.disconnecting
    clock.advance(1.0)
    assert transport.disconnecting
    reason = client.disconnect_reason or ""
    assert reason == "registration not complete after 30 s (waiting for the welcome (001))"
    assert any(isinstance(e, ev.Aborted) and e.reason == reason for e in client.events)


def test_the_registration_deadline_ends_at_001() -> None:
    client, transport, clock = connect(registration_timeout=10.0)
    clock.advance(9.0)
    feed(client, ":srv 001 bot :Welcome")
    for _ in range(30):  # a registered link that talks stays up
        clock.advance(1.0)
        feed(client, ":srv NOTICE bot :hello")
    assert not transport.disconnecting


def test_clock_falls_back_to_the_transport_reactor() -> None:
    class ReactorTransport(StringTransport):
        reactor = Clock()

    client = Recorder()
    transport = ReactorTransport()
    client.makeConnection(transport)
    assert sent(transport)[0] == "CAP LS 302"
    assert transport.reactor.getDelayedCalls()  # keepalive timer on that clock


def test_clock_of_a_tls_transport_is_found_through_tcp() -> None:
    class TCP:
        reactor = Clock()

    class TLS(StringTransport):
        tcp = TCP()

    client = Recorder()
    client.makeConnection(TLS())
    assert TCP.reactor.getDelayedCalls()


def test_no_clock_is_a_clear_error() -> None:
    with pytest.raises(RuntimeError, match="clock"):
        Recorder().makeConnection(StringTransport())


def test_hook_table_is_cached_per_class_and_skips_raw_without_hooks() -> None:
    from logbot.irc.client_events import handlers_for

    assert ev.RawMessage not in handlers_for(Recorder)
    assert handlers_for(Recorder) is handlers_for(Recorder)


class PlainRecorder(Recorder):
    """Like a plain bot: no eventReceived, one irc_ hook; the core then takes its
    one-step path for PRIVMSG/NOTICE lines and makes RawMessages for NICK only."""

    eventReceived = IRCClient.eventReceived  # type: ignore[assignment]

    def irc_NICK(self, prefix: str, params: list[str]) -> None:
        self.calls.append(("irc_NICK", prefix, params))


def test_a_bot_without_event_received_gets_the_same_calls() -> None:
    lines = [
        f":{ALICE} PRIVMSG #c :hello",
        f":{ALICE} PRIVMSG bot :psst",
        f":{ALICE} NOTICE #c :note",
        f":{ALICE} PRIVMSG #c :\x01ACTION waves\x01",
        f":{ALICE} PRIVMSG @#c :ops only",
        ":bot!~bot@bot.example PRIVMSG #c :mine",
        f":{ALICE} NICK alicia",
        ":alicia!~alice@alice.example PRIVMSG #c :renamed",
    ]
    plain, plain_transport, _ = in_channel(cls=PlainRecorder)
    full, full_transport, _ = in_channel()
    assert plain._tap is None and full._tap is not None
    for line in lines:
        feed(plain, line)
        feed(full, line)
    expected = list(full.calls)  # the same, plus the irc_NICK hook before userRenamed
    nick_at = next(i for i, c in enumerate(expected) if c[0] == "userRenamed")
    expected.insert(nick_at, ("irc_NICK", ALICE, ["alicia"]))
    assert plain.calls == expected
    assert ("privmsg", ALICE, "#c", "hello") in plain.calls
    assert sent(plain_transport) == sent(full_transport)
    core = plain.core
    assert core._want_raw("NICK") and not core._want_raw("PRIVMSG")
