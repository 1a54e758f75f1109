"""Netsplit and netjoin batches (logbot.bot.netsplits) on the bot's fakes and a real
writer: one text line per channel, every QUIT and JOIN in the jsonl, the log options
applied, and the bounds (nicks held, a batch that never ends)."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest

from logbot.bot import netsplits
from logbot.config.settings import ChannelConfig, EventFilter, LogOptions
from logbot.irc.batches import MAX_BATCH_SECONDS
from logbot.logs import splits
from logbot.logs.writer import LogWriter
from tests.bot.fakes import WALL0, Harness, network

CAPS = "batch server-time message-tags"
SPLIT = ("irc.hub.example", "irc.leaf.example")
STAMP = "@time=2026-09-21T14:15:00.000Z"


def harness(tmp_path: Path, **overrides: Any) -> Harness:
    h = Harness(network(**overrides))
    h.writer = LogWriter(  # type: ignore[assignment]
        h.reactor, root=tmp_path, wall=lambda: WALL0 + h.reactor.seconds()
    )
    h.bot.writer = h.writer
    h.start()
    h.connect()
    h.register(caps=CAPS)
    for chan, names in (("#a", "bot @alice bob carol dave"), ("#B", "bot alice carol")):
        h.join(chan)
        h.feed(f":irc.example 353 bot = {chan} :{names}", f":irc.example 366 bot {chan} :End")
    return h


def text(tmp_path: Path, chan: str = "#a") -> list[str]:
    """The channel's text lines, without their time, from the first netsplit line on."""
    (path,) = (tmp_path / "testnet" / chan.lower()).glob("*.log")
    return [line.split("  ", 1)[1] for line in path.read_text().splitlines()]


def jsonl(tmp_path: Path, chan: str = "#a") -> list[dict[str, Any]]:
    (path,) = (tmp_path / "testnet" / chan.lower()).glob("*.jsonl")
    return [json.loads(line) for line in path.read_text().splitlines()]


def quits(ref: str, *nicks: str) -> list[str]:
    return [f"{STAMP};batch={ref} :{n}!~{n}@{n}.host QUIT :{' '.join(SPLIT)}" for n in nicks]


def test_a_netsplit_is_one_text_line_per_channel_and_every_quit_in_the_jsonl(
    tmp_path: Path,
) -> None:
    h = harness(tmp_path)
    h.feed(
        f":irc.example BATCH +ns netsplit {' '.join(SPLIT)}",
        *quits("ns", "alice", "bob", "carol"),
        ":irc.example BATCH -ns",
        ":dave!~d@h PRIVMSG #a :they all left",
    )
    assert text(tmp_path)[-2:] == [
        "*** netsplit: irc.hub.example <-> irc.leaf.example: alice, bob, carol have quit",
        "<dave> they all left",
    ]
    assert text(tmp_path, "#B")[-1] == (
        "*** netsplit: irc.hub.example <-> irc.leaf.example: alice, carol have quit"
    )
    rows = [r for r in jsonl(tmp_path) if r["type"] == "quit"]
    assert [(r["nick"], r["netsplit"], r["tags"]["batch"]) for r in rows] == [
        (nick, "irc.hub.example irc.leaf.example", "ns") for nick in ("alice", "bob", "carol")
    ]
    assert rows[0]["text"] == "irc.hub.example irc.leaf.example"
    assert [r["nick"] for r in jsonl(tmp_path, "#B") if r["type"] == "quit"] == ["alice", "carol"]
    assert not any(r["type"] == "netsplit" for r in jsonl(tmp_path))  # text only
    # The core forgot them, as after any QUIT.
    state = h.client.core.state
    assert sorted(state.channel("#a").members) == ["bot", "dave"]


def test_a_netjoin_is_summed_up_and_its_modes_logged_as_they_come(tmp_path: Path) -> None:
    h = harness(tmp_path)
    h.feed(
        f":irc.example BATCH +ns netsplit {' '.join(SPLIT)}",
        *quits("ns", "alice", "bob"),
        ":irc.example BATCH -ns",
        f":irc.example BATCH +nj netjoin {' '.join(SPLIT)}",
        f"{STAMP};batch=nj :alice!~alice@alice.host JOIN #a",
        f"{STAMP};batch=nj :bob!~bob@bob.host JOIN #a",
        f"{STAMP};batch=nj :alice!~alice@alice.host JOIN #B",
        f"{STAMP};batch=nj :irc.example MODE #a +o alice",
        ":irc.example BATCH -nj",
    )
    assert text(tmp_path)[-3:] == [
        "*** netsplit: irc.hub.example <-> irc.leaf.example: alice, bob have quit",
        "*** irc.example sets mode: +o alice",
        "*** netjoin: irc.hub.example <-> irc.leaf.example: alice, bob have come back",
    ]
    assert text(tmp_path, "#B")[-1] == (
        "*** netjoin: irc.hub.example <-> irc.leaf.example: alice has come back"
    )
    joins = [r for r in jsonl(tmp_path) if r["type"] == "join" and r["nick"] != "bot"]
    assert [(r["nick"], r["netjoin"]) for r in joins] == [
        ("alice", "irc.hub.example irc.leaf.example"),
        ("bob", "irc.hub.example irc.leaf.example"),
    ]
    assert "alice" in h.client.core.state.channel("#a").members


def test_the_irssi_layout_has_irssis_netsplit_lines(tmp_path: Path) -> None:
    irssi = LogOptions(text_layout="irssi")
    h = harness(tmp_path, channels=(ChannelConfig("#a", None, irssi), ChannelConfig("#B")))
    h.feed(
        f":irc.example BATCH +ns netsplit {' '.join(SPLIT)}",
        *quits("ns", "alice", "bob"),
        ":irc.example BATCH -ns",
        f":irc.example BATCH +nj netjoin {' '.join(SPLIT)}",
        f"{STAMP};batch=nj :bob!~bob@bob.host JOIN #a",
        ":irc.example BATCH -nj",
    )
    (path,) = (tmp_path / "testnet" / "#a").glob("*.log")
    assert [line[6:] for line in path.read_text().splitlines()[-2:]] == [
        "-!- Netsplit irc.hub.example <-> irc.leaf.example quits: alice, bob",
        "-!- Netsplit over, joins: bob",
    ]


def test_the_log_options_apply_to_the_summary(tmp_path: Path) -> None:
    """quits off: no summary and no QUIT; a nick on opt_out is not named, and their
    QUIT is the opted-out marker, as anywhere."""
    no_quits = LogOptions(events=EventFilter(quits=False))
    hidden = LogOptions(opt_out=("bob",))
    h = harness(
        tmp_path, channels=(ChannelConfig("#a", None, hidden), ChannelConfig("#B", None, no_quits))
    )
    h.feed(
        f":irc.example BATCH +ns netsplit {' '.join(SPLIT)}",
        *quits("ns", "alice", "bob", "carol"),
        ":irc.example BATCH -ns",
    )
    assert text(tmp_path)[-2:] == [
        "*** logbot: a line from a user who opted out of logging was not logged",
        "*** netsplit: irc.hub.example <-> irc.leaf.example: alice, carol have quit",
    ]
    assert [r["type"] for r in jsonl(tmp_path)[-3:]] == ["quit", "opted_out", "quit"]
    assert not any("netsplit" in line or "has quit" in line for line in text(tmp_path, "#B"))
    assert not any(r["type"] == "quit" for r in jsonl(tmp_path, "#B"))


def test_long_lists_make_several_lines_and_the_nicks_held_are_bounded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(splits, "NICKS_PER_LINE", 2)  # the wording's module
    monkeypatch.setattr(netsplits, "MAX_SPLIT_NICKS", 5)  # #a and #B together
    h = harness(tmp_path)
    h.feed(f":irc.example BATCH +ns netsplit {' '.join(SPLIT)}", *quits("ns", "alice", "bob"))
    assert not any("netsplit" in line for line in text(tmp_path))  # held (3 nicks)
    h.feed(*quits("ns", "carol"))  # 5 held: written as they stand
    assert "more than 5 nicks" in caplog.text
    head = "*** netsplit: irc.hub.example <-> irc.leaf.example: "
    assert text(tmp_path)[-2:] == [head + "alice, bob have quit", head + "carol has quit"]
    assert text(tmp_path, "#B")[-1] == head + "alice, carol have quit"
    assert h.bot.netsplits.open["ns"].count == 0
    h.feed(*quits("ns", "dave"), ":irc.example BATCH -ns")  # the rest at the end
    assert text(tmp_path)[-1] == head + "dave has quit"


def test_a_batch_that_never_ends_is_written_when_overdue(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    h = harness(tmp_path)
    h.feed(f":irc.example BATCH +ns netsplit {' '.join(SPLIT)}", *quits("ns", "alice"))
    h.reactor.advance(MAX_BATCH_SECONDS - 1)
    assert not any("netsplit" in line for line in text(tmp_path))
    with caplog.at_level(logging.WARNING, logger="logbot.bot.netsplits"):
        h.reactor.advance(1.0)
    assert "the netsplit batch ns (irc.hub.example irc.leaf.example) is still open" in caplog.text
    assert text(tmp_path)[-1].endswith(": alice has quit")
    h.feed(*quits("ns", "bob"))  # still the batch's: summed up at its end
    assert text(tmp_path)[-1].endswith(": alice has quit")
    h.feed(":irc.example BATCH -ns")
    assert text(tmp_path)[-1].endswith(": bob has quit")


def test_an_open_batch_is_written_before_the_disconnect_line(tmp_path: Path) -> None:
    h = harness(tmp_path)
    h.feed(f":irc.example BATCH +ns netsplit {' '.join(SPLIT)}", *quits("ns", "alice"))
    h.lose()
    lines = text(tmp_path)
    assert lines[-2].endswith(": alice has quit") and lines[-1].startswith("*** logbot: disc")
    assert h.bot.netsplits.open == {}


def test_other_batches_and_lines_are_not_summed_up(tmp_path: Path) -> None:
    """A QUIT in another kind of batch, and one outside any, are logged as they are."""
    h = harness(tmp_path)
    h.feed(
        ":irc.example BATCH +x example.org/other",
        "@batch=x :alice!~alice@alice.host QUIT :bye",
        ":irc.example BATCH -x",
        ":bob!~bob@bob.host QUIT :later",
    )
    assert text(tmp_path)[-2:] == [
        "*** alice <alice!~alice@alice.host> has quit IRC (bye)",
        "*** bob <bob!~bob@bob.host> has quit IRC (later)",
    ]
    assert "netsplit" not in jsonl(tmp_path)[-1]


def test_an_overdue_history_batch_writes_what_it_has(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The time bound applies to history batches too (logbot.bot.replay)."""
    h = harness(tmp_path)
    h.feed(
        ":irc.example BATCH +h chathistory #a",
        "@time=2026-09-21T14:14:50.000Z;batch=h;msgid=m1 :alice!~a@h PRIVMSG #a :from before",
    )
    assert not any("from before" in line for line in text(tmp_path))
    h.reactor.advance(MAX_BATCH_SECONDS)
    assert "the chathistory batch for #a is still open after 60 s: writing its 1 lines" in (
        caplog.text
    )
    said = [r for r in jsonl(tmp_path) if r["type"] == "message"]
    assert [(r["text"], r["replay_source"]) for r in said] == [("from before", "chathistory")]
