"""``logbot run`` against real ngircd and InspIRCd: every channel event, line by line.

Scripted peers (on our reactor, in this process) do every event the bot logs in two
channels while ``logbot run`` (a child process) logs them; then SIGTERM stops the
bot (exit 0, a QUIT a peer sees) and the test compares both log formats with what
it expects.  Each expected text line is a regular expression for the line after
its timestamp (the timestamp itself is checked by ``BotProcess.text_lines``).
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from logbot.reactor.backends import available
from tests.e2e.botproc import BotProcess, wait_for_log
from tests.integration.recording_bot import unique
from tests.ircd.peer import connect_all

MASK = r"<{nick}![^@ ]+@[^> ]+>"


def _expected_a(bot: str, alice: str, bob: str, carol: str, port: int, server: str) -> list[str]:
    quit_reason = "Quit: gone" if server == "inspircd" else '"gone"'
    lines = [
        rf"\*\*\* logbot: connected to 127\.0\.0\.1:{port} as {bot}",
        rf"\*\*\* {bot} {MASK.format(nick=bot)} has joined #A\S*",
        rf"\*\*\* topic for #A\S* is \"topic before the bot\" \(set by {alice}\)",
        rf"<{alice}> hello, world",
        rf"\* {alice} waves",
        rf"-{alice}- a notice",
        rf"\*\*\* {carol} {MASK.format(nick=carol)} has joined #A\S*",
        rf"\*\*\* {carol} {MASK.format(nick=carol)} has left #A\S* \(bye now\)",
        rf"\*\*\* {bob} is now known as {bob}x",
        rf"\*\*\* {alice} sets mode: \+o {bob}x",
        rf"\*\*\* {alice} changes topic to \"a new topic\"",
    ]
    if server == "inspircd":
        lines += [
            rf"\*\*\* {alice} changed realname to \"Alice Liddell\"",
            rf"\*\*\* {alice} is away \(lunch\)",
            rf"\*\*\* {alice} is back",
            rf"\*\*\* {alice} changed host to \S+@oper\.logbot\.test",
        ]
    lines += [
        rf"\*\*\* {bob}x {MASK.format(nick=bob + 'x')} has quit IRC \({quit_reason}\)",
        rf"<{alice}> last line",
        r"\*\*\* logbot: disconnected \(.*\)",
    ]
    return lines


def _expected_b(bot: str, alice: str, bob: str, server: str) -> list[str]:
    lines = [
        rf"\*\*\* logbot: connected to 127\.0\.0\.1:\d+ as {bot}",
        rf"\*\*\* {bot} {MASK.format(nick=bot)} has joined #B\S*",
        rf"\*\*\* {bob} is now known as {bob}x",
        rf"\*\*\* {bob}x was kicked by {alice} \(out you go\)",
    ]
    if server == "inspircd":  # alice is still here: her changes are logged here too
        lines += [
            rf"\*\*\* {alice} changed realname to \"Alice Liddell\"",
            rf"\*\*\* {alice} is away \(lunch\)",
            rf"\*\*\* {alice} is back",
            rf"\*\*\* {alice} changed host to \S+@oper\.logbot\.test",
        ]
    return lines + [r"\*\*\* logbot: disconnected \(.*\)"]


def _check_lines(got: list[str], expected: list[str]) -> None:
    for i, (line, pattern) in enumerate(zip(got, expected, strict=False)):
        assert re.fullmatch(pattern, line), f"line {i + 1}: {line!r} !~ /{pattern}/\n" + "\n".join(
            got
        )
    assert len(got) == len(expected), "\n".join(got)


CASES = [("ngircd", b) for b in available()] + [("inspircd", available()[0])]


@pytest.mark.parametrize("reactor", [available()[0]], indirect=True)
@pytest.mark.parametrize(("server_name", "backend"), CASES)
def test_every_event_is_logged_in_both_formats(
    request: pytest.FixtureRequest,
    reactor: Any,
    run_until: Any,
    tmp_path: Any,
    server_name: str,
    backend: str,
) -> None:
    server = request.getfixturevalue(server_name)
    tag = unique("c")
    chan_a, chan_b = f"#A{tag}", f"#B{tag}"
    bot_nick, alice, bob, carol = (unique(n) for n in ("lb", "alice", "bob", "carol"))
    bot = BotProcess(tmp_path, server, bot_nick, [chan_a, chan_b], backend=backend)
    peers = run_until(connect_all(reactor, server, [alice, bob, carol]))
    pa, pb, pc = peers
    try:
        for chan in (chan_a, chan_b):
            pa.send(f"JOIN {chan}")
            run_until(pa.expect(rf"JOIN :?{re.escape(chan)}"))
        pa.send(f"TOPIC {chan_a} :topic before the bot")
        run_until(pa.expect(r" TOPIC "))
        for chan in (chan_a, chan_b):
            pb.send(f"JOIN {chan}")
            run_until(pb.expect(rf"JOIN :?{re.escape(chan)}"))
        bot.start()
        bot.seen_joining(run_until, pa, chan_a)
        bot.seen_joining(run_until, pa, chan_b)
        _converse(run_until, server_name, server.oper, pa, pb, pc, chan_a, chan_b)
        # Everything the peers sent has reached the bot once it is in the log:
        run_until(wait_for_log(reactor, lambda: bot.raw(chan_a), lambda t: "last line" in t))
        assert bot.terminate(timeout=5) == 0
        quit_line = run_until(pa.expect(rf":{bot_nick}!\S+ QUIT "))
        assert "logbot shutting down" in quit_line
    finally:
        bot.stop_quietly()
        for peer in peers:
            peer.abort()
    stderr = bot.stderr()
    assert "Traceback" not in stderr, stderr
    _check_lines(
        bot.text_lines(chan_a), _expected_a(bot_nick, alice, bob, carol, server.port, server_name)
    )
    _check_lines(bot.text_lines(chan_b), _expected_b(bot_nick, alice, bob, server_name))
    _check_jsonl(bot, chan_a, server_name, alice, bob)


def _converse(
    run_until: Any, server: str, oper: Any, pa: Any, pb: Any, pc: Any, chan_a: str, chan_b: str
) -> None:
    """Every event, each confirmed by the server before the next."""
    bob = pb.nick

    def step(peer: Any, line: str, echo: str) -> None:
        peer.send(line)
        run_until(peer.expect(echo))

    def said(peer: Any, line: str) -> None:  # a message is not echoed: PING after it
        peer.send(line)
        token = unique("sync")
        peer.send(f"PING :{token}")
        run_until(peer.expect(token))

    said(pa, f"PRIVMSG {chan_a} :hello, world")
    said(pa, f"PRIVMSG {chan_a} :\x01ACTION waves\x01")
    said(pa, f"NOTICE {chan_a} :a notice")
    step(pc, f"JOIN {chan_a}", r" JOIN ")
    step(pc, f"PART {chan_a} :bye now", r" PART ")
    step(pb, f"NICK {bob}x", r" NICK ")
    step(pa, f"MODE {chan_a} +o {bob}x", r" MODE ")
    step(pa, f"TOPIC {chan_a} :a new topic", r" TOPIC ")
    step(pa, f"KICK {chan_b} {bob}x :out you go", r" KICK ")
    if server == "inspircd":
        said(pa, "SETNAME :Alice Liddell")
        said(pa, "AWAY :lunch")
        said(pa, "AWAY")
        step(pa, "OPER {} {}".format(*oper), r" 381 ")  # the oper vhost: a CHGHOST
    step(pb, "QUIT :gone", r"ERROR")
    said(pa, f"PRIVMSG {chan_a} :last line")


def _check_jsonl(bot: BotProcess, chan: str, server: str, alice: str, bob: str) -> None:
    records = bot.jsonl(chan)
    types = [r["type"] for r in records]
    expected = [
        "connect",
        "join",
        "topic_info",
        "message",
        "action",
        "notice",
        "join",
        "part",
        "nick",
        "mode",
        "topic",
    ]
    if server == "inspircd":
        expected += ["setname", "away", "back", "chghost"]
    expected += ["quit", "message", "disconnect"]
    assert types == expected
    keys = [
        "time",
        "time_ms",
        "time_source",
        "type",
        "network",
        "channel",
        "nick",
        "user",
        "host",
        "account",
        "text",
        "msgid",
        "tags",
    ]
    for record in records:
        assert [k for k in record if k != "target"] == keys
        assert record["network"] == "local"
    hello = records[3]
    assert (hello["nick"], hello["text"], hello["channel"]) == (alice, "hello, world", chan)
    assert hello["time_source"] == ("server" if server == "inspircd" else "local")
    if server == "inspircd":
        assert hello["msgid"]
    nick = records[8]
    assert (nick["nick"], nick["target"]) == (bob, bob + "x")
