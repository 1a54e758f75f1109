"""Rate-limited warnings (logbot.irc.diagnostics, issue 15 item 7): a server sending
thousands of bad lines gets a few warnings and a count a minute, not thousands.

Time is the connection's ``now`` (a plain float here): nothing sleeps."""

from __future__ import annotations

import logging

import pytest

from logbot.irc.core import IRCConnection
from logbot.irc.diagnostics import WARNINGS_IN_FULL, WARNINGS_INTERVAL, Diagnostics
from logbot.irc.flood import FloodControl

log = logging.getLogger("tests.irc.diagnostics")


def messages(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


def test_the_first_few_in_full_then_a_count_at_most_once_per_interval(
    caplog: pytest.LogCaptureFixture,
) -> None:
    diag = Diagnostics(in_full=3, interval=60.0)
    diag.tick(0.0)
    for i in range(1000):
        diag.warning("bad line", log, "bad line %d", i)
    assert messages(caplog) == ["bad line 0", "bad line 1", "bad line 2"]
    caplog.clear()
    diag.tick(59.9)  # (the count is due 60 s after the first suppressed one)
    diag.warning("bad line", log, "bad line %d", 999)
    assert messages(caplog) == []
    diag.tick(60.0)
    assert messages(caplog) == ["bad line: 998 more like this in the last 60 s"]
    caplog.clear()
    diag.tick(61.0)
    diag.warning("bad line", log, "bad line %d", 1000)  # busy a second ago: counted
    diag.tick(120.0)
    assert messages(caplog) == []
    diag.tick(121.0)
    assert messages(caplog) == ["bad line: 1 more like this in the last 60 s"]
    assert diag.suppressed("bad line") == 0


def test_a_kind_quiet_for_an_interval_is_shown_in_full_again(
    caplog: pytest.LogCaptureFixture,
) -> None:
    diag = Diagnostics(in_full=1, interval=60.0)
    diag.tick(0.0)
    diag.warning("k", log, "first")
    diag.warning("k", log, "second")  # counted
    diag.tick(60.0)  # "1 more like this"
    diag.tick(130.0)  # quiet since 0.0
    diag.warning("k", log, "a new burst")
    assert messages(caplog) == ["first", "k: 1 more like this in the last 60 s", "a new burst"]


def test_kinds_are_counted_apart(caplog: pytest.LogCaptureFixture) -> None:
    diag = Diagnostics(in_full=1)
    diag.tick(0.0)
    for _ in range(3):
        diag.warning("a", log, "a")
        diag.warning("b", log, "b")
    assert messages(caplog) == ["a", "b"]
    assert (diag.suppressed("a"), diag.suppressed("b")) == (2, 2)


def test_once_is_once_per_diagnostics_and_the_label_starts_every_message(
    caplog: pytest.LogCaptureFixture,
) -> None:
    diag = Diagnostics(in_full=1, label="libera: ")
    diag.tick(0.0)
    assert diag.once("limit", log, "limit %d reached", 5)
    assert not diag.once("limit", log, "limit %d reached", 5)
    diag.warning("k", log, "x")
    diag.warning("k", log, "x")
    diag.tick(WARNINGS_INTERVAL)
    assert messages(caplog) == [
        "libera: limit 5 reached",
        "libera: x",
        "libera: k: 1 more like this in the last 60 s",
    ]
    assert diag.said == {"limit"}


def test_a_count_keeps_the_level_of_its_kind(caplog: pytest.LogCaptureFixture) -> None:
    diag = Diagnostics(in_full=0)
    diag.tick(0.0)
    diag.warning("bug", log, "bug", level=logging.ERROR)
    diag.tick(60.0)
    assert [r.levelno for r in caplog.records] == [logging.ERROR]


# -- through the connection: what a server can make the bot write ----------------------


def connection() -> IRCConnection:
    conn = IRCConnection("bot", flood=FloodControl(enabled=False))
    conn.connection_made(0.0)
    conn.data_to_send(0.0)
    conn.receive_data(b":srv 001 bot :Welcome\r\n", 0.0)
    return conn


def test_thousands_of_overlong_lines_write_a_few_warnings_and_a_count(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The issue's case: a warning for each over-long line flooded stderr."""
    conn = connection()
    caplog.clear()
    line = b":srv NOTICE bot :" + b"x" * 600 + b"\r\n"
    conn.receive_data(line * 3000, 1.0)
    assert conn.dropped_lines == 3000
    assert len(messages(caplog)) == WARNINGS_IN_FULL
    caplog.clear()
    conn.receive_data(line * 1000 + b":a!b@c PRIVMSG #x :still logged\r\n", 30.0)
    conn.receive_data(b"PING :x\r\n", 61.0)  # any read: the count is due
    assert messages(caplog) == ["over-long line: 3995 more like this in the last 60 s"]


def test_unparsable_lines_are_counted_and_said_a_few_times(
    caplog: pytest.LogCaptureFixture,
) -> None:
    conn = connection()
    caplog.clear()
    conn.receive_data(b":srv\r\n" * 100, 1.0)  # a source and no command
    assert conn.unparsable_lines == 100
    assert len(messages(caplog)) == WARNINGS_IN_FULL
    assert "no command" in messages(caplog)[0]


def test_a_handler_that_fails_on_every_line_is_logged_a_few_times(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A bug of ours that a server can trigger at will (state and core handlers): the
    traceback a few times, then counts, at the ERROR level of a bug."""
    from logbot.irc import core_handlers, state

    def broken(*args: object) -> list[object]:
        raise RuntimeError("a bug")

    conn = connection()
    monkeypatch.setitem(state.HANDLERS.mapping, "TOPIC", broken)
    monkeypatch.setitem(core_handlers.HANDLERS.mapping, "INVITE", broken)
    caplog.clear()
    conn.receive_data(b":a!b@c TOPIC #x :t\r\n:a!b@c INVITE bot #y\r\n" * 500, 1.0)
    assert caplog.text.count("RuntimeError: a bug") == 2 * WARNINGS_IN_FULL
    assert all(r.levelno == logging.ERROR for r in caplog.records)
    caplog.clear()
    conn.receive_data(b"", 61.0)
    assert sorted(messages(caplog)) == [
        "core handler failed: 495 more like this in the last 60 s",
        "state handler failed: 495 more like this in the last 60 s",
    ]


def test_a_connection_passes_its_diagnostics_to_a_decoder_it_is_given(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from logbot.irc.framing import LineDecoder

    diag = Diagnostics(in_full=1, label="net: ")
    conn = IRCConnection("bot", decoder=LineDecoder(), diagnostics=diag)
    conn.receive_data(b"x" * 600 + b"\r\n" + b"y" * 600 + b"\r\n", 1.0)
    assert messages(caplog) == ["net: dropped an incoming IRC line of 600+ bytes (too long)"]
    assert diag.suppressed("over-long line") == 1
