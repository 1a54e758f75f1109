"""``logbot run`` fills its gaps from the server's history: InspIRCd's ``chanhistory``
(channel mode ``+H``) replays a channel's recent lines on join.  Real InspIRCd, real
child processes (``kill -9`` included), real files.

The yardstick is a second bot that never stops, in the same channel: after the first
one is killed and started again, both logs hold the same messages, once each, in
the same order.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from logbot.reactor.backends import available
from tests.e2e.botproc import BotProcess, wait_for_log
from tests.integration.recording_bot import unique
from tests.ircd.peer import connect

ONE_REACTOR = pytest.mark.parametrize("reactor", [available()[0]], indirect=True)


def _said(bot: BotProcess, chan: str) -> list[dict[str, Any]]:
    return [r for r in bot.jsonl(chan) if r["type"] in ("message", "action", "notice")]


def _history_channel(run_until: Any, peer: Any, chan: str) -> None:
    """``peer`` (first in, so an op) makes ``chan`` replay up to 100 lines of the
    last hour on join."""
    peer.send(f"JOIN {chan}")
    peer.send(f"MODE {chan} +H 100:1h")
    run_until(peer.expect(rf"MODE {chan} \+H :?100:1h"))


@ONE_REACTOR
def test_a_bot_killed_and_restarted_ends_with_the_lines_of_one_that_never_stopped(
    inspircd: Any, reactor: Any, run_until: Any, tmp_path: Path
) -> None:
    chan, alice = f"#h{unique('')}", unique("alice")
    bot = BotProcess(tmp_path / "a", inspircd, unique("lb"), [chan])
    steady = BotProcess(tmp_path / "b", inspircd, unique("lb"), [chan])
    peer = run_until(connect(reactor, inspircd, alice))
    try:
        _history_channel(run_until, peer, chan)
        steady.start_seen_by(run_until, peer, [chan])
        bot.start_seen_by(run_until, peer, [chan])
        for i in range(10):
            peer.send(f"PRIVMSG {chan} :before {i}")
        peer.send(f"PRIVMSG {chan} :\x01ACTION waves\x01")
        run_until(wait_for_log(reactor, lambda: bot.raw(chan), lambda t: "waves" in t))
        bot.kill9()
        for i in range(10):
            peer.send(f"PRIVMSG {chan} :during {i}")
        peer.send(f"NOTICE {chan} :a notice")
        bot.start()
        bot.seen_joining(run_until, peer, chan)
        for i in range(3):
            peer.send(f"PRIVMSG {chan} :after {i}")
        for b in (bot, steady):
            run_until(wait_for_log(reactor, lambda b=b: b.raw(chan), lambda t: "after 2" in t))
        assert bot.terminate(5) == 0
        assert steady.terminate(5) == 0
    finally:
        bot.stop_quietly()
        steady.stop_quietly()
        peer.abort()
    expected = (
        [f"before {i}" for i in range(10)]
        + ["waves"]
        + [f"during {i}" for i in range(10)]
        + ["a notice"]
        + [f"after {i}" for i in range(3)]
    )
    assert [r["text"] for r in _said(steady, chan)] == expected
    said = _said(bot, chan)
    assert [r["text"] for r in said] == expected
    # The same records, field for field, but for the marks of a recovered line.
    fields = ("time", "type", "nick", "user", "host", "text", "msgid")
    for mine, theirs in zip(said, _said(steady, chan), strict=True):
        replayed = mine.pop("replayed", False)
        assert mine.pop("replay_source", None) == ("chathistory" if replayed else None)
        assert replayed == mine["text"].startswith(("during", "a notice")), mine
        same = [f for f in fields if f != "time"]
        assert {f: mine[f] for f in same} == {f: theirs[f] for f in same}
    # The history reached back past the kill: the restart's gap was fully recovered.
    records = bot.jsonl(chan)
    kinds = [r["type"] for r in records]
    assert "gap" not in kinds
    (recovered,) = [r for r in records if r["type"] == "recovered"]
    assert "were recovered from the server's history (11 lines, chathistory)" in recovered["text"]
    # In time order: the recovered lines, the connect line, the recovered marker, live.
    texts = bot.text_lines(chan)

    def first(what: str) -> int:
        return next(i for i, line in enumerate(texts) if what in line)

    connects = [i for i, line in enumerate(texts) if line.startswith("*** logbot: connected to")]
    assert len(connects) == 2
    assert first("during 9") < first("a notice") < connects[1]
    assert connects[1] < first("were recovered from") < first("after 0")
    assert "Traceback" not in bot.stderr()
