"""IRCConnection end to end, in memory: bytes in, events and bytes out."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from logbot.irc import events as ev
from logbot.irc.core import IRCConnection
from logbot.irc.flood import FloodControl
from logbot.irc.sasl import SaslConfig, Secret

ME = "bot!~b@bot.host"


def make(**kwargs) -> IRCConnection:
    kwargs.setdefault("flood", FloodControl(enabled=False))
    conn = IRCConnection("bot", **kwargs)
    conn.connection_made(0.0)
    return conn


def sent(conn: IRCConnection, now: float = 0.0) -> list[str]:
    data = conn.data_to_send(now)
    return [line for line in data.decode().split("\r\n") if line]


def feed(conn: IRCConnection, *lines: str, now: float = 0.0) -> list[ev.Event]:
    data = "".join(line + "\r\n" for line in lines).encode()
    return [e for e in conn.receive_data(data, now) if not isinstance(e, ev.RawMessage)]


def registered(**kwargs) -> IRCConnection:
    conn = make(**kwargs)
    sent(conn)
    feed(conn, ":srv CAP * LS :server-time", ":srv CAP * ACK :server-time")
    feed(
        conn,
        f":srv 001 bot :Welcome {ME}",
        ":srv 005 bot CHANTYPES=# STATUSMSG=@+ :are supported",
        ":srv 376 bot :End of MOTD",
    )
    sent(conn)
    return conn


def test_registration_lines() -> None:
    conn = make(password="srvpass", username="logger", realname="Log Bot")
    assert sent(conn) == ["CAP LS 302", "PASS srvpass", "NICK bot", "USER logger 0 * :Log Bot"]
    assert "srvpass" not in repr(conn)


def test_cap_then_end_then_registered_and_held_joins_flushed() -> None:
    conn = make()
    sent(conn)
    conn.join("#a")
    conn.privmsg("#a", "early")
    feed(conn, ":srv CAP * LS :server-time inspircd.org/poison")
    assert sent(conn) == ["CAP REQ :server-time"]
    events = feed(conn, ":srv CAP * ACK :server-time")
    assert any(isinstance(e, ev.CapsChanged) for e in events)
    assert sent(conn) == ["CAP END"]
    [event] = feed(conn, ":srv 001 bot :Welcome")
    assert event == ev.Registered(nick="bot", server="srv")
    assert sent(conn) == ["JOIN #a", "PRIVMSG #a :early"]


def test_ping_answered_before_registration() -> None:
    conn = make()
    sent(conn)
    feed(conn, "PING :abc def")
    assert sent(conn) == ["PONG :abc def"]


def test_server_without_cap() -> None:
    conn = make()
    sent(conn)
    feed(conn, ":srv 421 bot CAP :Unknown command", ":srv 001 bot :hi")
    assert conn.registered and conn.caps.ended
    assert sent(conn) == []


def test_nick_collisions_use_alternates_then_alter() -> None:
    conn = make(
        alt_nicks=["logbot"],
        alter_collided_nick=lambda n: n + "^",
        ping_interval=1000.0,
        ping_timeout=2000.0,
    )
    sent(conn)
    feed(conn, ":srv 433 * bot :Nickname is already in use")
    assert sent(conn) == ["NICK logbot"]
    feed(conn, ":srv 432 * logbot :Erroneous")
    assert sent(conn) == ["NICK logbot^"]
    feed(conn, ":srv 001 logbot^ :hi")
    assert conn.current_nick == "logbot^"
    assert conn.next_wakeup(0.0) == 300.0  # the periodic regain attempt


def test_nick_collisions_give_up() -> None:
    conn = make()
    sent(conn)
    events: list[ev.Event] = []
    for _ in range(11):
        events += feed(conn, ":srv 433 * x :in use")
    assert any(isinstance(e, ev.Aborted) for e in events)
    assert conn.closed
    assert any(line.startswith("QUIT") for line in sent(conn))


def regain_setup(**kwargs) -> IRCConnection:
    conn = make(**kwargs)
    sent(conn)
    feed(conn, ":srv 433 * bot :in use", ":srv 001 bot_ :hi")
    assert sent(conn) == ["NICK bot_"]
    return conn


def test_regain_on_quit_of_holder() -> None:
    conn = regain_setup()
    feed(conn, ":srv 376 bot_ :End")  # no MONITOR: wait for the holder to leave
    assert sent(conn) == []
    feed(conn, ":al!x@y QUIT :not the holder")
    assert sent(conn) == []
    feed(conn, ":BOT!x@y QUIT :gone")
    assert sent(conn) == ["NICK bot"]
    feed(conn, ":bot_!u@h NICK bot")
    assert conn.current_nick == "bot"


def test_regain_with_monitor() -> None:
    conn = regain_setup()
    feed(conn, ":srv 005 bot_ MONITOR=100 :are supported", ":srv 376 bot_ :End")
    assert sent(conn) == ["MONITOR + bot"]
    feed(conn, ":srv 731 bot_ :bot")
    assert sent(conn) == ["NICK bot"]


def test_regain_periodic_retry_and_wakeup() -> None:
    conn = regain_setup(nick_retry_interval=50.0, ping_interval=60.0, ping_timeout=120.0)
    sent(conn)
    assert conn.next_wakeup(0.0) == 50.0
    assert sent(conn, 49.0) == []
    assert sent(conn, 50.0) == ["NICK bot"]
    feed(conn, ":srv 433 bot_ bot :in use", now=50.0)  # after registration: keep bot_
    assert sent(conn, 50.0) == [] and conn.current_nick == "bot_"


def test_keepalive_ping_then_dead_link() -> None:
    conn = registered(ping_interval=60.0, ping_timeout=120.0)
    assert conn.next_wakeup(0.0) == 60.0
    assert sent(conn, 59.0) == []
    assert sent(conn, 60.0) == ["PING :lag1"]  # a quiet link's PING is the lag probe
    assert conn.pop_events() == []
    assert conn.next_wakeup(60.0) == 120.0
    assert feed(conn, ":srv PONG srv :lag1", now=100.0) == []  # consumed, and timed
    assert conn.lag(100.0) == 40.0
    assert conn.next_wakeup(100.0) == 120.0  # the next probe, whatever arrives
    assert sent(conn, 120.0) == ["PING :lag2"]
    assert conn.next_wakeup(120.0) == 160.0  # the keepalive: quiet since 100
    assert sent(conn, 160.0) == ["PING :keepalive"]  # (a probe is out already)
    assert conn.lag(160.0) == 40.0  # out for 40 s: no longer than the last
    assert sent(conn, 219.0) == []
    assert conn.lag(219.0) == 99.0  # a stalled server shows a growing lag
    assert sent(conn, 220.0) == []
    [event] = conn.pop_events()
    assert event == ev.DeadLink(silent_for=120.0)
    assert conn.closed


def test_own_messages_emitted_at_send_time_without_echo() -> None:
    conn = registered()
    conn.flood = FloodControl(burst=1, rate=1.0)
    conn.privmsg("#a", "one")
    conn.privmsg("#a", "two")
    assert sent(conn, 10.0) == ["PRIVMSG #a :one"]
    [event] = conn.pop_events()
    assert event.is_self and event.text == "one" and event.source == ME
    assert sent(conn, 11.0) == ["PRIVMSG #a :two"]
    assert [e.text for e in conn.pop_events()] == ["two"]


def test_own_messages_not_doubled_with_echo_message() -> None:
    conn = make()
    sent(conn)
    feed(conn, ":srv CAP * LS :echo-message", ":srv CAP * ACK :echo-message", ":srv 001 bot :hi")
    sent(conn)
    conn.privmsg("#a", "hello")
    conn.action("#a", "waves")
    assert sent(conn) == ["PRIVMSG #a :hello", "PRIVMSG #a :\x01ACTION waves\x01"]
    assert conn.pop_events() == []
    events = feed(conn, f":{ME} PRIVMSG #a hello", f":{ME} PRIVMSG #a :\x01ACTION waves\x01")
    assert [type(e) for e in events] == [ev.Privmsg, ev.Action]
    assert all(e.is_self for e in events)
    assert sent(conn) == []  # our echoed CTCP is never answered


def test_incoming_messages_actions_ctcp() -> None:
    conn = registered(version="logbot 9", ctcp_time=lambda: "Thu Jan 1 00:00:00 1970")
    events = feed(
        conn,
        "@time=2020-05-06T07:08:09.000Z;msgid=abc :al!a@h PRIVMSG #a :hi all",
        ":al!a@h NOTICE bot :psst",
        ":al!a@h PRIVMSG #a :\x01ACTION waves\x01",
        ":al!a@h PRIVMSG bot :\x01VERSION\x01",
        ":al!a@h PRIVMSG bot :\x01TIME\x01",
        ":al!a@h NOTICE bot :\x01PING 1\x01",
        ":al!a@h PRIVMSG @#a :ops only",
    )
    kinds = [type(e) for e in events]
    assert kinds == [
        ev.Privmsg,
        ev.Notice,
        ev.Action,
        ev.CtcpQuery,
        ev.CtcpQuery,
        ev.CtcpReply,
        ev.Privmsg,
    ]
    assert events[0].msgid == "abc" and events[0].time.minute == 8 and not events[0].private
    assert events[1].private and events[2].text == "waves"
    assert not events[6].private
    assert sent(conn) == [
        "NOTICE al :\x01VERSION logbot 9\x01",
        "NOTICE al :\x01TIME Thu Jan 1 00:00:00 1970\x01",
    ]


def test_raw_message_for_every_line_first() -> None:
    conn = registered()
    events = conn.receive_data(b":srv 999 bot :whatever\r\n:a!b@c PRIVMSG #x :y\r\n", 1.0)
    assert isinstance(events[0], ev.RawMessage) and events[0].message.command == "999"
    assert isinstance(events[1], ev.RawMessage) and isinstance(events[2], ev.Privmsg)


def test_quit_event_lists_shared_channels() -> None:
    conn = registered()
    feed(
        conn,
        f":{ME} JOIN #a",
        f":{ME} JOIN #b",
        ":srv 353 bot = #a :bot al",
        ":srv 353 bot = #b :bot al",
    )
    [event] = feed(conn, ":al!a@h QUIT :bye")
    assert event.channels == ("#a", "#b")


def test_requests_format_and_validate() -> None:
    conn = registered()
    conn.part("#a", "bye now")
    conn.topic("#a")
    conn.topic("#a", "new topic")
    conn.mode("#a", "+o", "al")
    conn.kick("#a", "al", "spam")
    conn.nick("newbot")
    conn.join_many(["#x", ("#y", "key")])
    conn.notice("al", "hi")
    conn.quit("bye")
    assert sent(conn) == [
        "QUIT bye",
        "PART #a :bye now",
        "TOPIC #a",
        "TOPIC #a :new topic",
        "MODE #a +o al",
        "KICK #a al spam",
        "NICK newbot",
        "JOIN #y,#x key",
        "NOTICE al :hi",
    ]
    for bad in (
        lambda: conn.privmsg("#a b", "x"),
        lambda: conn.join("#a,#b"),
        lambda: conn.part("#a\r\nQUIT"),
        lambda: conn.privmsg("", "x"),
        lambda: conn.kick("#a", "x y"),
    ):
        with pytest.raises(ValueError):
            bad()


def test_long_privmsg_split_with_our_known_hostmask() -> None:
    conn = registered()
    feed(conn, f":{ME} JOIN #a")
    conn.privmsg("#a", "word " * 300)
    lines = sent(conn)
    assert len(lines) == 4  # 1,499 bytes of text, 481 bytes per line
    assert all(len(f":{ME} {line}\r\n".encode()) <= 512 for line in lines)
    assert max(len(f":{ME} {line}\r\n".encode()) for line in lines) > 500


def test_overlong_lines_counted() -> None:
    conn = registered()
    conn.receive_data(b"PRIVMSG #a :" + b"x" * 600 + b"\r\n", 1.0)
    assert conn.dropped_lines == 1


def test_error_closes() -> None:
    conn = registered()
    [event] = feed(conn, "ERROR :Closing link")
    assert event == ev.ErrorReceived(message="Closing link") and conn.closed


def test_invite() -> None:
    conn = registered()
    [event] = feed(conn, ":al!a@h INVITE bot #secret")
    assert event.channel == "#secret" and event.source == "al!a@h"


# -- SASL through the core ----------------------------------------------------


def sasl_conn(required: bool, mechs=("PLAIN",)) -> IRCConnection:
    conn = make(sasl=SaslConfig("user", Secret("pw"), mechs, required, timeout=5.0))
    sent(conn)
    feed(conn, ":srv CAP * LS :sasl=PLAIN")
    assert sent(conn) == ["CAP REQ :sasl"]
    feed(conn, ":srv CAP * ACK :sasl")
    return conn


def test_sasl_success_then_cap_end() -> None:
    conn = sasl_conn(required=True)
    assert sent(conn) == ["AUTHENTICATE PLAIN"]
    feed(conn, "AUTHENTICATE +")
    assert sent(conn) == ["AUTHENTICATE " + base64.b64encode(b"user\0user\0pw").decode()]
    feed(conn, ":srv 900 bot bot!u@h user :logged in")
    events = feed(conn, ":srv 903 bot :SASL successful")
    assert events == [
        ev.SaslResult(success=True, mechanism="PLAIN", account="user", reason="SASL successful")
    ]
    assert sent(conn) == ["CAP END"]


def test_sasl_optional_failure_continues() -> None:
    conn = sasl_conn(required=False)
    sent(conn)
    events = feed(conn, ":srv 904 bot :failed")
    assert [type(e) for e in events] == [ev.SaslResult]
    assert sent(conn) == ["CAP END"] and not conn.closed


def test_sasl_required_failure_aborts() -> None:
    conn = sasl_conn(required=True)
    sent(conn)
    events = feed(conn, ":srv 904 bot :failed")
    assert [type(e) for e in events] == [ev.SaslResult, ev.Aborted]
    assert "failed" in events[1].reason
    assert sent(conn) == ["QUIT :SASL required but failed: PLAIN: 904 failed"]


def test_sasl_optional_failure_reports_the_mechanism_numeric_and_text() -> None:
    conn = sasl_conn(required=False)
    sent(conn)
    [result] = feed(conn, ":srv 904 bot :SASL authentication failed")
    assert result == ev.SaslResult(
        success=False, mechanism="PLAIN", account=None, reason="904 SASL authentication failed"
    )
    assert "pw" not in repr(result)


def test_sasl_required_but_not_offered() -> None:
    conn = make(sasl=SaslConfig("u", Secret("p"), required=True))
    sent(conn)
    events = feed(conn, ":srv CAP * LS :server-time", ":srv CAP * ACK :server-time")
    assert isinstance(events[-1], ev.Aborted)
    assert "CAP END" not in sent(conn)


def test_optional_sasl_not_offered_is_reported_not_skipped() -> None:
    conn = make(sasl=SaslConfig("u", Secret("p"), required=False))
    sent(conn)
    events = feed(conn, ":srv CAP * LS :server-time", ":srv CAP * ACK :server-time")
    assert events[-1] == ev.SaslResult(
        success=False, mechanism=None, account=None, reason="the server does not offer it"
    )
    assert sent(conn)[-1] == "CAP END" and not conn.closed


@pytest.mark.parametrize("required", [False, True])
def test_sasl_with_a_server_without_cap_is_reported(required: bool) -> None:
    conn = make(sasl=SaslConfig("u", Secret("p"), required=required))
    sent(conn)
    events = feed(conn, ":srv 001 bot :Welcome")
    assert events[0] == ev.SaslResult(
        success=False, mechanism=None, account=None, reason="the server does not support CAP"
    )
    assert [type(e) for e in events[1:]] == ([ev.Aborted] if required else [ev.Registered])
    assert conn.closed is required


def test_sasl_timeout_through_wakeup() -> None:
    conn = sasl_conn(required=False)
    sent(conn)
    assert conn.next_wakeup(0.0) == 5.0
    assert sent(conn, 5.0) == ["AUTHENTICATE *", "CAP END"]
    [event] = conn.pop_events()
    assert not event.success and "5 s" in event.reason


def test_caps_without_sasl_config_never_request_sasl() -> None:
    conn = make()
    sent(conn)
    feed(conn, ":srv CAP * LS :sasl server-time")
    assert sent(conn) == ["CAP REQ :server-time"]


# -- the registration deadline --------------------------------------------------


def test_registration_deadline_in_next_wakeup_and_gone_after_001() -> None:
    conn = make(registration_timeout=45.0, ping_interval=60.0, ping_timeout=120.0)
    sent(conn)
    assert conn.next_wakeup(0.0) == 45.0  # before the keepalive's 60 s
    feed(conn, ":srv 001 bot :hi", now=10.0)
    assert conn.next_wakeup(10.0) == 70.0  # the keepalive (and lag probe) only


def test_registration_deadline_aborts_with_what_was_missing() -> None:
    conn = make(
        registration_timeout=45.0,
        ping_interval=60.0,
        ping_timeout=120.0,
        sasl=SaslConfig("u", Secret("p"), timeout=100.0),
    )
    sent(conn)
    feed(conn, ":srv CAP * LS :sasl=PLAIN", ":srv CAP * ACK :sasl", now=1.0)
    assert sent(conn, 1.0) == ["CAP REQ :sasl", "AUTHENTICATE PLAIN"]
    assert sent(conn, 44.9) == [] and not conn.closed
    assert sent(conn, 45.0) == [
        "QUIT :registration not complete after 45 s (waiting for SASL authentication)"
    ]
    assert conn.closed and conn.pop_events() == [
        ev.Aborted(reason="registration not complete after 45 s (waiting for SASL authentication)")
    ]
    assert conn.next_wakeup(45.0) is None


@pytest.mark.parametrize("bad", [0.0, -1.0])
def test_registration_timeout_must_be_positive(bad: float) -> None:
    with pytest.raises(ValueError, match="registration_timeout"):
        IRCConnection("bot", registration_timeout=bad)


# -- flood through the core ---------------------------------------------------


def test_flood_default_and_priority_pong() -> None:
    conn = registered(flood=FloodControl())
    for i in range(10):
        conn.privmsg("#a", str(i))
    first = sent(conn, 1000.0)
    assert len(first) == 4
    assert conn.queue_length == 6
    assert conn.next_wakeup(1000.0) == pytest.approx(1001.0)
    feed(conn, "PING :x", now=1000.2)
    assert sent(conn, 1000.2) == ["PONG x"]


# -- robustness ----------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(st.lists(st.binary(max_size=600), max_size=10))
def test_random_bytes_never_raise(chunks: list[bytes]) -> None:
    conn = registered()
    for i, chunk in enumerate(chunks):
        conn.receive_data(chunk, float(i))
        conn.data_to_send(float(i))


_COMMANDS = [
    "PING",
    "PRIVMSG",
    "NOTICE",
    "JOIN",
    "PART",
    "KICK",
    "QUIT",
    "NICK",
    "MODE",
    "TOPIC",
    "CAP",
    "AUTHENTICATE",
    "001",
    "005",
    "332",
    "333",
    "353",
    "324",
    "433",
    "731",
    "900",
    "903",
    "904",
    "908",
    "CHGHOST",
    "SETNAME",
    "ACCOUNT",
    "AWAY",
    "INVITE",
    "ERROR",
    "396",
]
_token = st.text(st.sampled_from("ab#@+~!*:=,-o \x01"), max_size=8)


@settings(max_examples=500, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["", ":al!a@h ", ":bot!b@h ", ":srv "]),
            st.sampled_from(_COMMANDS),
            st.lists(_token, max_size=5),
        ),
        max_size=20,
    )
)
def test_random_irc_lines_never_raise(lines: list[tuple[str, str, list[str]]]) -> None:
    conn = make(sasl=SaslConfig("u", Secret("p")))
    data = "".join(f"{src}{cmd} {' '.join(params)}\r\n" for src, cmd, params in lines).encode()
    conn.receive_data(data, 1.0)
    conn.data_to_send(2.0)


# -- the one-step path for plain PRIVMSG/NOTICE lines ---------------------------------------

_SOURCES = [
    "alice!~a@a.host",
    "ALICE!~x@y",
    "Bob[m]!u@h",
    "bob{M}!u@h2",
    "BOT!~b@bot.host",
    "bot",
    "x@y",
    "!u@h",
    "srv",
    "carol!c@c",
]
_TARGETS = ["#c", "@#c", "+#c", "bot", "BOT", "#other", ":x", "alice", "@"]
_TEXTS = [
    ":hi",
    ":",
    ": lead",
    ":\x01ACTION waves\x01",
    ":\x01VERSION\x01",
    ":\x01",
    "word",
    ":a :b",
    ":bot: hello",
]
_SEP = st.sampled_from([" ", " ", " ", "  "])
_LINE = st.builds(
    lambda tag, source, s1, command, s2, target, s3, text: (
        f"{tag}:{source}{s1}{command}{s2}{target}{s3}{text}"
    ),
    st.sampled_from(
        [
            "",
            "",
            "",
            "@msgid=7 ",
            "@time=2026-11-27T10:00:00.123Z;msgid=a\\sb ",
            "@account=al;time=junk ",
            "@a;=b;c= ",
            "@ ",
            "@x=1  ",
            "@;; ",
        ]
    ),
    st.sampled_from(_SOURCES),
    _SEP,
    st.sampled_from(["PRIVMSG", "PRIVMSG", "NOTICE", "privmsg", "JOIN", "NICK", "PART"]),
    _SEP,
    st.sampled_from(_TARGETS),
    _SEP,
    st.sampled_from(_TEXTS),
)


def _in_channel(wants_raw) -> IRCConnection:
    conn = registered()
    conn.set_raw_filter(wants_raw)
    feed(
        conn,
        f":{ME} JOIN #c",
        ":srv 353 bot = #c :bot @alice Bob[m] carol",
        ":srv 366 bot #c :End of NAMES",
    )
    sent(conn)
    return conn


def _users(conn: IRCConnection) -> dict[str, tuple]:
    return {
        key: (u.nick, u.user, u.host, u.account, sorted(u.channels))
        for key, u in conn.state.users.items()
    }


@settings(max_examples=300)
@given(st.lists(_LINE, min_size=1, max_size=12))
def test_one_step_privmsg_path_agrees_with_the_general_path(lines: list[str]) -> None:
    fast = _in_channel(lambda command: False)  # no RawMessage wanted: the one-step path
    general = _in_channel(None)  # a RawMessage for every line: parse, apply, incoming
    data = "".join(line + "\r\n" for line in lines).encode()
    got = fast.receive_data(data, 5.0)
    want = [e for e in general.receive_data(data, 5.0) if not isinstance(e, ev.RawMessage)]
    assert got == want
    assert [type(e) for e in got] == [type(e) for e in want]
    assert sent(fast, 5.0) == sent(general, 5.0)  # CTCP replies
    assert _users(fast) == _users(general)
    assert fast.unparsable_lines == general.unparsable_lines


def test_one_step_path_forgets_what_a_nick_change_or_005_made_stale() -> None:
    """The parts kept per line head (is it ours, is it private) are made again once our
    nick or CHANTYPES changed: the same head then means something else."""
    conn = _in_channel(lambda command: False)
    line = b":carol!c@c PRIVMSG newnick :hi\r\n"
    (first,) = conn.receive_data(line, 1.0)
    assert first.private and not first.is_self  # type: ignore[attr-defined]
    own = b":newnick!u@h PRIVMSG &x :hi\r\n"
    (mine,) = conn.receive_data(own, 1.0)
    assert not mine.is_self and mine.private  # type: ignore[attr-defined]
    conn.receive_data(f":{ME} NICK newnick\r\n".encode(), 1.0)
    (again,) = conn.receive_data(own, 1.0)
    assert again.is_self  # type: ignore[attr-defined]
    conn.receive_data(b":srv 005 newnick CHANTYPES=#& :are supported\r\n", 1.0)
    (now,) = conn.receive_data(own, 1.0)
    assert now.is_self and not now.private  # type: ignore[attr-defined]


def test_raw_filter_chooses_which_commands_give_a_raw_message() -> None:
    conn = _in_channel(lambda command: command == "NICK")
    events = conn.receive_data(
        b":alice!~a@a.host PRIVMSG #c :hi\r\n:alice!~a@a.host NICK alicia\r\n", 1.0
    )
    assert [type(e) for e in events] == [ev.Privmsg, ev.RawMessage, ev.NickChanged]
    assert events[1].message.command == "NICK"  # type: ignore[attr-defined]


def test_fast_event_constructors_equal_the_dataclass_ones() -> None:
    from dataclasses import FrozenInstanceError

    from logbot.irc.message import NO_TAGS, Message

    tags = {"msgid": "id1"}
    for cls in (ev.Privmsg, ev.Notice, ev.Action):
        fast = ev.new_privmsg(cls, "a!b@c", "#c", "hi", True, False, None, "id1", tags)
        slow = cls(
            source="a!b@c",
            target="#c",
            text="hi",
            is_self=True,
            private=False,
            msgid="id1",
            tags=tags,
        )
        assert fast == slow and repr(fast) == repr(slow) and type(fast) is cls
        with pytest.raises(FrozenInstanceError):
            fast.text = "changed"  # type: ignore[misc]
    msg = Message("PING", ("x",))
    assert ev.new_raw_message(msg, None, None, NO_TAGS) == ev.RawMessage(message=msg)


@settings(max_examples=200)
@given(_LINE)
def test_incoming_written_out_agrees_with_classify(line: str) -> None:
    from logbot.irc.message import ParseError, parse

    conn = _in_channel(None)
    try:
        msg = parse(line)
    except ParseError:
        return
    if msg.command not in ("PRIVMSG", "NOTICE"):
        return
    replies: list[str] = []
    assert conn.chat.incoming(msg, 1.0, replies.append) == conn.chat.classify(msg, msg.source or "")


def test_a_handler_that_raises_loses_neither_the_connection_nor_the_rest_of_the_read(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A bug in a state or core handler is logged with its traceback, and the lines
    after it in the same read are still handled: nothing a server sends can turn a bug
    into a dropped connection and lost lines."""
    from logbot.irc import core_handlers, state

    def broken(*args: object) -> list[ev.Event]:
        raise RuntimeError("a bug")

    conn = registered()
    monkeypatch.setitem(state.HANDLERS.mapping, "TOPIC", broken)
    monkeypatch.setitem(core_handlers.HANDLERS.mapping, "INVITE", broken)
    events = feed(
        conn,
        ":a!b@c TOPIC #x :new",
        ":a!b@c INVITE bot #y",
        ":a!b@c PRIVMSG #x :still here",
    )
    assert [e.text for e in events if isinstance(e, ev.Privmsg)] == ["still here"]
    assert caplog.text.count("RuntimeError: a bug") == 2
    assert not conn.closed
