from __future__ import annotations

import pytest

from logbot.irc.ctcp import Ctcp, CtcpResponder, format_ctcp, parse_ctcp


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("\x01ACTION waves\x01", Ctcp("ACTION", "waves")),
        ("\x01action waves", Ctcp("ACTION", "waves")),
        ("\x01VERSION\x01", Ctcp("VERSION", "")),
        ("hello", None),
        ("\x01", None),
        ("\x01\x01", None),
    ],
)
def test_parse(text: str, expected: Ctcp | None) -> None:
    assert parse_ctcp(text) == expected


def test_format() -> None:
    assert format_ctcp("action", "waves") == "\x01ACTION waves\x01"
    assert format_ctcp("VERSION") == "\x01VERSION\x01"
    with pytest.raises(ValueError):
        format_ctcp("PING", "a\x01b")


def test_replies() -> None:
    responder = CtcpResponder(version="logbot 1.0", burst=10)
    assert responder.reply(Ctcp("VERSION", ""), 0.0) == "\x01VERSION logbot 1.0\x01"
    assert responder.reply(Ctcp("PING", "123"), 0.0) == "\x01PING 123\x01"
    assert responder.reply(Ctcp("TIME", ""), 0.0) is None
    assert responder.reply(Ctcp("TIME", ""), 0.0, "Mon Jan 1") == "\x01TIME Mon Jan 1\x01"
    assert "VERSION" in responder.reply(Ctcp("CLIENTINFO", ""), 0.0)
    assert responder.reply(Ctcp("FINGER", ""), 0.0) is None
    assert responder.reply(Ctcp("ACTION", "x"), 0.0) is None
    long_ping = responder.reply(Ctcp("PING", "x" * 1000), 0.0)
    assert len(long_ping) == 64 + len("\x01PING \x01")


def test_rate_limited() -> None:
    responder = CtcpResponder(burst=2, rate=0.5)
    query = Ctcp("VERSION", "")
    assert responder.reply(query, 0.0) is not None
    assert responder.reply(query, 0.0) is not None
    assert responder.reply(query, 0.0) is None
    assert responder.reply(query, 1.0) is None
    assert responder.reply(query, 2.0) is not None
