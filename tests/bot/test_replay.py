"""History after a gap (logbot.bot.replay) on the reactor's fakes and a real writer:
holds, dedupe against the files, the gap line, CHATHISTORY pages, the wait's timer."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from logbot.config.settings import ChannelConfig, LogOptions
from logbot.logs.writer import LogWriter
from tests.bot.fakes import WALL0, Harness, network

ALICE = "alice!~alice@alice.host"
CAPS = "batch server-time message-tags"


def stamp(seconds: float) -> str:
    when = datetime.fromtimestamp(WALL0 + seconds, UTC)
    return when.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def harness(tmp_path: Path, **overrides: Any) -> Harness:
    h = Harness(network(**overrides))
    h.writer = LogWriter(  # type: ignore[assignment]
        h.reactor, root=tmp_path, wall=lambda: WALL0 + h.reactor.seconds()
    )
    h.bot.writer = h.writer
    return h


def up(h: Harness, caps: str = CAPS, isupport: str = "") -> None:
    h.connect()
    h.register(caps=caps)
    if isupport:
        h.feed(f":irc.example 005 bot {isupport} :are supported")
    h.sent()


def records(tmp_path: Path, chan: str = "#a", joins: bool = False) -> list[dict[str, Any]]:
    """The channel's JSONL records (without JOINs unless ``joins``)."""
    (path,) = (tmp_path / "testnet" / chan).glob("*.jsonl")
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    return [r for r in rows if joins or r["type"] != "join"]


def said(h: Harness, at: float, text: str, batch: str | None = None, msgid: str = "") -> str:
    tags = f"@time={stamp(at)}" + (f";batch={batch}" if batch else "")
    tags += f";msgid={msgid}" if msgid else ""
    return f"{tags} :{ALICE} PRIVMSG #a :{text}"


def first_session(h: Harness) -> None:
    """Join #a, hear two lines, lose the link at t=110 (last data at 105)."""
    h.start()
    up(h)
    h.join("#a")
    h.feed(":irc.example 366 bot #a :End")
    now = h.reactor.seconds()
    h.feed(said(h, now, "one", msgid="m1"), said(h, now + 0.5, "two", msgid="m2"))
    h.reactor.advance(5)
    h.lose()


def rejoin(h: Harness, *lines: str) -> None:
    h.reactor.advance(h.bot.delay + 0.01)
    up(h)
    h.feed(":bot!~bot@bot.host JOIN #a", *lines)


def texts(rows: list[dict[str, Any]]) -> list[tuple[str, str | None]]:
    return [(r["type"], r["text"]) for r in rows]


def test_history_covering_the_gap_is_logged_once_and_the_gap_is_recovered(
    tmp_path: Path,
) -> None:
    h = harness(tmp_path)
    first_session(h)
    t = h.reactor.seconds()
    rejoin(
        h,
        ":irc.example 366 bot #a :End",
        ":irc.example BATCH +h chathistory #a",
        said(h, t - 8, "two", "h", "m2"),  # already logged: the overlap that proves it
        said(h, t - 3, "while away", "h", "m3"),
        f"@time={stamp(t)} :{ALICE} PRIVMSG #a :live",  # live, inside the batch's read
        said(h, t - 2, "\x01ACTION sighs\x01", "h", "m4"),
        ":irc.example BATCH -h",
    )
    rows = records(tmp_path, joins=True)[4:]
    assert texts(rows) == [
        ("disconnect", rows[0]["text"]),
        ("message", "while away"),
        ("action", "sighs"),
        ("recovered", rows[3]["text"]),
        ("join", None),  # our own JOIN, and what came after it, after the history
        ("message", "live"),
    ]
    assert rows[1]["replayed"] is True and rows[1]["replay_source"] == "chathistory"
    assert rows[1]["msgid"] == "m3" and rows[1]["time"][:23] == stamp(t - 3)[:23]
    assert "were recovered from the server's history (2 lines, chathistory)" in rows[3]["text"]
    assert (h.bot.stats.history_recovered, h.bot.stats.history_duplicates) == (2, 1)
    assert "replayed" not in rows[5]


def test_history_that_starts_after_the_gap_leaves_its_start_a_gap(tmp_path: Path) -> None:
    h = harness(tmp_path)
    first_session(h)
    t = h.reactor.seconds()
    rejoin(
        h,
        ":irc.example 366 bot #a :End",
        ":irc.example BATCH +z znc.in/playback #a",
        said(h, t - 1, "kept by the bouncer", "z"),
        ":irc.example BATCH -z",
    )
    rows = records(tmp_path)
    gap = rows[-1]
    assert gap["type"] == "gap"
    oldest = datetime.fromisoformat(stamp(t - 1)).isoformat(timespec="seconds")
    assert f"and {oldest} were not seen; 1 lines from {oldest}" in gap["text"]
    assert rows[-2]["replay_source"] == "znc.in/playback"


def test_without_batch_the_gap_line_is_written_at_the_join(tmp_path: Path) -> None:
    h = harness(tmp_path)
    first_session(h)
    h.reactor.advance(h.bot.delay + 0.01)
    up(h, caps="server-time")
    h.feed(":bot!~bot@bot.host JOIN #a")
    assert records(tmp_path)[-1]["type"] == "gap"


def test_a_hold_without_history_ends_with_the_read_or_the_wait(tmp_path: Path) -> None:
    h = harness(tmp_path)
    first_session(h)
    rejoin(h)  # the JOIN, but no end of NAMES yet: held
    h.feed(f":{ALICE} PRIVMSG #a :said while held")
    assert records(tmp_path)[-1]["type"] == "disconnect"
    h.reactor.advance(h.bot.config.history_wait)
    assert texts(records(tmp_path))[-2:] == [
        ("gap", records(tmp_path)[-2]["text"]),
        ("message", "said while held"),
    ]
    h2 = harness(tmp_path / "other")
    first_session(h2)
    rejoin(h2, ":irc.example 366 bot #a :End")  # no batch in the read of 366: over
    assert records(tmp_path / "other")[-1]["type"] == "gap"


def test_late_history_is_deduplicated_and_marked(tmp_path: Path) -> None:
    h = harness(tmp_path, history_wait=0)
    first_session(h)
    t = h.reactor.seconds()
    rejoin(
        h,
        ":irc.example BATCH +h chathistory #a",
        said(h, t - 8, "two", "h", "m2"),
        said(h, t - 3, "late", "h", "m9"),
        ":irc.example BATCH -h",
    )
    rows = records(tmp_path)
    assert [r["type"] for r in rows[-3:]] == ["gap", "message", "recovered"]
    assert rows[-2]["text"] == "late" and rows[-2]["replayed"] is True
    assert rows[-1]["text"].startswith("recovered 1 lines between ")


def test_chathistory_is_asked_for_in_pages(tmp_path: Path) -> None:
    h = harness(tmp_path)
    first_session(h)
    h.reactor.advance(h.bot.delay + 0.01)
    up(h, caps=CAPS + " draft/chathistory", isupport="CHATHISTORY=2")
    h.feed(":bot!~bot@bot.host JOIN #a", ":irc.example 366 bot #a :End")
    (ask,) = [line for line in h.sent() if line.startswith("CHATHISTORY")]
    # From just before the last line logged ("two", at t0 + 0.5).
    assert ask.startswith("CHATHISTORY AFTER #a timestamp=") and ask.endswith(" 2")
    t = h.reactor.seconds()
    h.feed(
        ":irc.example BATCH +p1 chathistory #a",
        said(h, t - 9.5, "two", "p1", "m2"),
        said(h, t - 3, "a", "p1", "m5"),
        ":irc.example BATCH -p1",
    )
    (again,) = [line for line in h.sent() if line.startswith("CHATHISTORY")]
    assert again == "CHATHISTORY AFTER #a msgid=m5 2"
    assert records(tmp_path)[-1]["type"] == "message"  # still held: no gap line yet
    h.feed(
        ":irc.example BATCH +p2 chathistory #a",
        said(h, t - 2, "b", "p2", "m6"),
        ":irc.example BATCH -p2",
    )
    rows = records(tmp_path)
    assert texts(rows)[-3:-1] == [("message", "a"), ("message", "b")]
    assert rows[-1]["type"] == "recovered"
    assert not [line for line in h.sent() if line.startswith("CHATHISTORY")]


def test_a_restart_s_gap_starts_at_the_log_s_last_line(tmp_path: Path) -> None:
    h = harness(tmp_path)
    first_session(h)
    h.writer.close()  # type: ignore[attr-defined]
    last = records(tmp_path)[-1]["time"]
    later = harness(tmp_path)
    later.reactor.advance(600)
    later.start()
    up(later, caps="server-time")
    later.join("#a")
    connect, gap = records(tmp_path)[-2:]
    assert connect["type"] == "connect" and gap["type"] == "gap"
    since = datetime.fromisoformat(last).replace(microsecond=0)
    # the target to the millisecond (for programs), the text to the second (for people)
    assert gap["target"] == datetime.fromisoformat(last).isoformat(timespec="milliseconds")
    assert gap["text"].startswith(f"the log resumes; events between {since.isoformat()}")


def test_replayed_lines_reach_no_plugin_and_the_hot_path_is_unchanged(tmp_path: Path) -> None:
    h = harness(tmp_path)
    seen: list[Any] = []
    h.bot.plugins = type("P", (), {"handle": lambda self, e, c: seen.append(type(e).__name__)})()
    first_session(h)
    seen.clear()
    t = h.reactor.seconds()
    rejoin(
        h,
        ":irc.example 366 bot #a :End",
        ":irc.example BATCH +h chathistory #a",
        said(h, t - 3, "!seen alice", "h", "m3"),
        ":irc.example BATCH -h",
    )
    assert "Privmsg" not in seen
    assert [r["text"] for r in records(tmp_path) if r.get("replayed")] == ["!seen alice"]


def test_history_long_after_the_join_is_refused(tmp_path: Path) -> None:
    from logbot.bot.replay import HISTORY_ACCEPT_WINDOW

    h = harness(tmp_path)
    first_session(h)
    rejoin(h, ":irc.example 366 bot #a :End")
    h.reactor.advance(HISTORY_ACCEPT_WINDOW + 1)
    before = records(tmp_path)
    t = h.reactor.seconds()
    h.feed(
        ":irc.example BATCH +x chathistory #a",
        said(h, t - 1, "planted", "x"),
        ":irc.example BATCH -x",
        f":{ALICE} PRIVMSG #a :live again",
    )
    after = records(tmp_path)
    assert texts(after[len(before) :]) == [("message", "live again")]
    assert h.bot.stats.history_refused == 1


def test_a_refused_chathistory_request_ends_the_wait(tmp_path: Path) -> None:
    h = harness(tmp_path)
    first_session(h)
    h.reactor.advance(h.bot.delay + 0.01)
    up(h, caps=CAPS + " draft/chathistory", isupport="CHATHISTORY=50")
    h.feed(":bot!~bot@bot.host JOIN #a", ":irc.example 366 bot #a :End")
    assert records(tmp_path)[-1]["type"] == "disconnect"  # waiting for the answer
    h.feed(":irc.example FAIL CHATHISTORY MESSAGE_ERROR AFTER #a :no such message")
    assert records(tmp_path)[-1]["type"] == "gap"


def test_a_second_welcome_behind_a_bouncer_is_a_gap_from_the_last_line(tmp_path: Path) -> None:
    """ZNC lost the network and is back: a new 001 and JOIN on the same connection."""
    h = harness(tmp_path)
    h.start()
    up(h, caps="server-time")
    h.join("#a")
    h.feed(said(h, h.reactor.seconds(), "last heard"))
    last = records(tmp_path)[-1]["time"]
    h.reactor.advance(1)
    h.feed(":*status!znc@znc.in PRIVMSG bot :Disconnected from IRC. Reconnecting...")
    h.reactor.advance(30)
    h.feed(":*status!znc@znc.in PRIVMSG bot :Connected!")
    h.feed(
        ":bot!~bot@bot.host NICK bot_",  # relayed from the new registration, before 001
        ":irc.example 001 bot_ :Welcome back",
        ":bot_!~bot@bot.host JOIN #a",
    )
    gap = records(tmp_path)[-1]
    assert gap["type"] == "gap", gap
    assert gap["text"].startswith("the bouncer reconnected to the network; events between")
    assert gap["target"] == datetime.fromisoformat(last).isoformat(timespec="milliseconds")
    assert [r["type"] for r in records(tmp_path)].count("connect") == 1


@pytest.mark.parametrize("layout", ["limnoria", "irssi", "znc"])
def test_a_text_only_log_in_any_layout_keeps_history_from_being_written_twice(
    tmp_path: Path, layout: str
) -> None:
    """Without a jsonl file the text log is what history is compared with: its lines
    read back in the channel's layout (irssi's time, to the minute, as the minute)."""
    text_only = LogOptions(formats=("text",), text_layout=layout)
    h = harness(tmp_path, channels=(ChannelConfig("#a", log=text_only),))
    h.start()
    up(h)
    h.join("#a")
    h.feed(":irc.example 366 bot #a :End")
    h.reactor.advance((40 - WALL0 - h.reactor.seconds()) % 60)  # 40 s into a minute
    now = h.reactor.seconds()
    h.feed(said(h, now, "one"), said(h, now + 0.5, "two"))
    h.reactor.advance(5)
    h.lose()
    rejoin(
        h,
        ":irc.example 366 bot #a :End",
        ":irc.example BATCH +h chathistory #a",
        said(h, now + 0.5, "two", "h"),  # no msgid: the same nick and text, in time
        said(h, now + 3, "while away", "h"),
        ":irc.example BATCH -h",
    )
    (log,) = (tmp_path / "testnet" / "#a").glob("*.log")
    spoken = [line.split("<alice> ", 1)[1] for line in log.read_text().splitlines()
              if "<alice> " in line]  # fmt: skip
    assert spoken == ["one", "two", "while away"]
    assert (h.bot.stats.history_recovered, h.bot.stats.history_duplicates) == (1, 1)
