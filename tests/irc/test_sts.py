"""The ``sts`` capability in the IRC layer: its value read as the spec says, offered in
``CAP LS`` (all lines of it) or ``CAP NEW`` and handed on as an event, never requested,
kept past the listing's bound, and a ``CAP DEL`` of it meaning nothing."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from logbot.irc import events as ev
from logbot.irc.caps import CapNegotiator
from logbot.irc.core import IRCConnection
from logbot.irc.flood import FloodControl
from logbot.irc.message import parse
from logbot.irc.sasl import SaslConfig, Secret
from logbot.irc.sts import MAX_STS_DIGITS, StsValue, parse_sts


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("port=6697", StsValue(port=6697)),
        ("duration=300", StsValue(duration=300)),
        ("port=6697,duration=300,preload", StsValue(6697, 300, True)),
        ("duration=0", StsValue(duration=0)),
        # the spec's example: unknown tokens are ignored
        ("unknown,duration=31536000,foo=bar", StsValue(duration=31536000)),
        # a known key twice is not trusted at all
        ("port=6697,port=7000,duration=5", StsValue(duration=5)),
        ("duration=5,duration=5", StsValue()),
        # numbers only, in range
        ("port=0", StsValue()),
        ("port=65536", StsValue()),
        ("port=-1,duration=+5", StsValue()),
        ("port= 6697,duration=3e2", StsValue()),
        ("port,duration", StsValue()),
        ("port=,duration=", StsValue()),
        ("duration=\u0661\u0662", StsValue()),  # Arabic-Indic digits: isdigit(), not ASCII
        ("duration=" + "9" * (MAX_STS_DIGITS + 1), StsValue()),
        ("duration=" + "9" * MAX_STS_DIGITS, StsValue(duration=int("9" * MAX_STS_DIGITS))),
        ("", StsValue()),
    ],
)
def test_the_value_is_read_as_the_spec_says(value: str, expected: StsValue) -> None:
    assert parse_sts(value) == expected


@given(st.text(max_size=300))
def test_any_value_gives_a_policy_within_bounds_and_never_raises(value: str) -> None:
    policy = parse_sts(value)
    assert policy.port is None or 1 <= policy.port <= 65535
    assert policy.duration is None or 0 <= policy.duration < 10**MAX_STS_DIGITS


def _handle(neg: CapNegotiator, line: str):  # type: ignore[no-untyped-def]
    return neg.handle(parse(line))


def test_a_multi_line_listing_hands_on_the_value_once_complete_and_never_requests_it() -> None:
    neg = CapNegotiator()
    neg.start()
    first = _handle(neg, ":srv CAP * LS * :sts=port=6697,duration=10 server-time")
    assert first.sts is None  # not before the listing is complete
    last = _handle(neg, ":srv CAP * LS :multi-prefix")
    assert last.sts == "port=6697,duration=10"
    assert last.lines == ["CAP REQ :multi-prefix server-time"]


def test_cap_new_hands_it_on_and_cap_del_is_ignored() -> None:
    neg = CapNegotiator()
    neg.start()
    assert _handle(neg, ":srv CAP * LS :server-time").sts is None
    _handle(neg, ":srv CAP * ACK :server-time")
    update = _handle(neg, ":srv CAP bot NEW :sts=duration=60 away-notify")
    assert update.sts == "duration=60"
    assert update.lines == ["CAP REQ :away-notify"]
    update = _handle(neg, ":srv CAP bot DEL :sts")
    assert update.sts is None and not update.changed and update.lines == []


def test_sts_without_a_value_is_handed_on_empty() -> None:
    neg = CapNegotiator()
    neg.start()
    assert _handle(neg, ":srv CAP * LS :sts").sts == ""


def test_a_listing_padded_past_the_bound_keeps_sts() -> None:
    neg = CapNegotiator(max_entries=3)
    neg.start()
    junk = " ".join(f"x{i}" for i in range(10))
    _handle(neg, f":srv CAP * LS * :{junk}")
    update = _handle(neg, ":srv CAP * LS :sts=port=6697 sasl")
    assert update.sts == "port=6697"
    assert len(neg.available) == 3 + 2  # the bound, and what we would not drop


def _connection(**kwargs) -> IRCConnection:  # type: ignore[no-untyped-def]
    conn = IRCConnection("bot", flood=FloodControl(enabled=False), **kwargs)
    conn.connection_made(0.0)
    conn.data_to_send(0.0)
    return conn


def _feed(conn: IRCConnection, *lines: str) -> list[ev.Event]:
    data = "".join(line + "\r\n" for line in lines).encode()
    return [e for e in conn.receive_data(data, 0.0) if not isinstance(e, ev.RawMessage)]


def test_the_core_reports_the_policy_before_sasl_starts() -> None:
    sasl = SaslConfig(username="u", password=Secret("p"), mechanisms=("PLAIN",))
    conn = _connection(sasl=sasl)
    events = _feed(conn, ":srv CAP * LS :sasl=PLAIN sts=port=6697,preload")
    assert events[0] == ev.StsAdvertised(port=6697, duration=None, preload=True)
    sent = conn.data_to_send(0.0).decode()
    assert "CAP REQ :sasl\r\n" in sent and "sts" not in sent


def test_the_core_reports_cap_new_after_registration() -> None:
    conn = _connection()
    _feed(conn, ":srv CAP * LS :server-time", ":srv CAP * ACK :server-time", ":srv 001 bot :hi")
    conn.data_to_send(0.0)
    events = _feed(conn, ":srv CAP bot NEW :sts=duration=300")
    assert events == [ev.StsAdvertised(port=None, duration=300)]
    assert conn.data_to_send(0.0) == b""  # nothing requested
