"""IRCv3 standard replies (logbot.bot.standard_replies): FAIL, WARN and NOTE on stderr
at their level with the network, counted per type and command (bounded), in /metrics,
and the replay's use of FAIL CHATHISTORY unchanged."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from logbot.bot.standard_replies import MAX_REPLY_COMMANDS, MAX_SHOWN
from logbot.health.metrics import render_metrics
from logbot.irc.diagnostics import WARNINGS_IN_FULL, WARNINGS_INTERVAL
from tests.bot import test_replay as replay
from tests.bot.fakes import Harness, network
from tests.health.test_metrics import parse, service

LOGGER = "logbot.bot.standard_replies"


def registered(name: str = "libera") -> Harness:
    h = Harness(network(name=name))
    h.start()
    h.connect()
    h.register(caps="server-time standard-replies")
    return h


def said(caplog: pytest.LogCaptureFixture) -> list[tuple[int, str]]:
    return [(r.levelno, r.getMessage()) for r in caplog.records if r.name == LOGGER]


def test_each_type_at_its_level_with_the_network(caplog: pytest.LogCaptureFixture) -> None:
    h = registered()
    with caplog.at_level(logging.INFO, logger=LOGGER):
        h.feed(
            ":irc.example FAIL CHATHISTORY MESSAGE_ERROR #a timestamp=x :Messages could not"
            " be retrieved",
            ":irc.example WARN REHASH CERTS_EXPIRED :Certificate has expired",
            ":irc.example NOTE * OPER_MESSAGE :Registrations are closed",
        )
    assert said(caplog) == [
        (logging.ERROR, "libera: FAIL CHATHISTORY MESSAGE_ERROR (#a timestamp=x): Messages"
                        " could not be retrieved"),
        (logging.WARNING, "libera: WARN REHASH CERTS_EXPIRED: Certificate has expired"),
        (logging.INFO, "libera: NOTE * OPER_MESSAGE: Registrations are closed"),
    ]  # fmt: skip
    assert h.bot.stats.standard_replies == {
        ("FAIL", "CHATHISTORY"): 1,
        ("WARN", "REHASH"): 1,
        ("NOTE", "*"): 1,
    }


def test_what_the_server_wrote_is_escaped_and_cut(caplog: pytest.LogCaptureFixture) -> None:
    h = registered()
    h.feed(
        ":irc.example FAIL BOX\x1b[2J CODE\x07 :clear\x1b]0;title\x07 screen\x85",
        ":irc.example WARN * LONG :" + "x" * (MAX_SHOWN + 50),
    )
    fail, warn = (text for _, text in said(caplog))
    assert fail == "libera: FAIL BOX\\x1b[2J CODE\\x07: clear\\x1b]0;title\\x07 screen\\x85"
    assert warn == "libera: WARN * LONG: " + "x" * MAX_SHOWN + "..."
    # A command that is not a plain word gets no label of its own.
    assert h.bot.stats.standard_replies == {("FAIL", "other"): 1, ("WARN", "*"): 1}


def test_the_commands_counted_apart_are_bounded() -> None:
    h = registered()
    h.feed(*(f":irc.example NOTE CMD{i} CODE :n" for i in range(MAX_REPLY_COMMANDS + 10)))
    h.feed(":irc.example FAIL CMD0 CODE :an old one still counts apart")
    counts = h.bot.stats.standard_replies
    assert len({command for _, command in counts}) == MAX_REPLY_COMMANDS + 1
    assert counts[("NOTE", "other")] == 10
    assert counts[("FAIL", "CMD0")] == 1
    assert sum(counts.values()) == MAX_REPLY_COMMANDS + 11


def test_a_flood_of_replies_is_rate_limited_on_stderr(caplog: pytest.LogCaptureFixture) -> None:
    h = registered()
    h.feed(*(f":irc.example FAIL JOIN CODE{i} :refused" for i in range(20)))
    assert len(said(caplog)) == WARNINGS_IN_FULL
    assert h.bot.stats.standard_replies == {("FAIL", "JOIN"): 20}  # all counted
    h.reactor.advance(WARNINGS_INTERVAL)
    h.feed(":irc.example NOTE * X :the count is due at the next read")
    assert (logging.ERROR, "libera: FAIL replies: 15 more like this in the last 60 s") in said(
        caplog
    )


def test_the_counts_are_in_the_metrics() -> None:
    libera, oftc = registered("libera"), registered("oftc")
    libera.feed(
        ":irc.example FAIL CHATHISTORY MESSAGE_ERROR #a :x",
        ":irc.example FAIL CHATHISTORY MESSAGE_ERROR #b :y",
        ":irc.example NOTE * OPER_MESSAGE :z",
    )
    _, samples = parse(render_metrics(service(libera.bot, oftc.bot), now=200.0))
    family = {k: v for k, v in samples.items() if k.startswith("logbot_network_standard_replies")}
    assert family == {
        'logbot_network_standard_replies_total{network="libera",type="FAIL",'
        'command="CHATHISTORY"}': 2,
        'logbot_network_standard_replies_total{network="libera",type="NOTE",command="*"}': 1,
    }


def test_a_refused_chathistory_request_still_ends_the_wait_and_is_counted(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    h = replay.harness(tmp_path)
    replay.first_session(h)
    h.reactor.advance(h.bot.delay + 0.01)
    replay.up(h, caps=replay.CAPS + " draft/chathistory", isupport="CHATHISTORY=50")
    h.feed(":bot!~bot@bot.host JOIN #a", ":irc.example 366 bot #a :End")
    assert replay.records(tmp_path)[-1]["type"] == "disconnect"  # waiting for the answer
    h.feed(":irc.example FAIL CHATHISTORY MESSAGE_ERROR AFTER #a :no such message")
    assert replay.records(tmp_path)[-1]["type"] == "gap"
    assert h.bot.stats.standard_replies == {("FAIL", "CHATHISTORY"): 1}
    assert (
        logging.ERROR,
        "testnet: FAIL CHATHISTORY MESSAGE_ERROR (AFTER #a): no such message",
    ) in (said(caplog))
