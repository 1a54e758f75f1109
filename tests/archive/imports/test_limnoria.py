"""Limnoria's ChannelLogger: the sample (every line kind it writes) gives the records
listed here, line by line; its file names give the channel; other lines are reported."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from logbot.archive.imports import limnoria
from logbot.archive.imports.source import FileName
from tests.archive.imports.conftest import BERLIN, SAMPLE_FILES, at, parse_file, parse_lines, row

EXPECTED = [
    (at(10, 9, 58, 2), "join", "alice", "~alice", "user/alice", None, None),
    (at(10, 10, 0, 0), "message", "alice", None, None, None, "good morning"),
    (at(10, 10, 0, 1), "message", "op", None, None, None, "morning, see C:\\Users and \\o/"),
    (at(10, 10, 0, 5), "action", "bob", None, None, None, "waves"),
    (at(10, 10, 0, 9), "notice", "ChanServ", None, None, None, "[#logbot] Welcome to #logbot"),
    (at(10, 10, 1, 0), "mode", "op", None, None, None, "+o alice"),
    (at(10, 10, 1, 30), "mode", "irc.libera.chat", None, None, None, "+nt"),
    (at(10, 10, 2, 0), "topic", "op", None, None, None, "logbot: logs, now with imports"),
    (at(10, 10, 3, 0), "nick", "bob", None, None, "bobby", None),
    (at(10, 10, 4, 0), "join", "carol", "carol", "example.org", None, None),
    (at(10, 10, 6, 0), "kick", "op", None, None, "carol", "no spam, please"),
    (at(10, 10, 6, 30), "kick", "op", None, None, "eve", None),
    (at(10, 10, 7, 0), "part", "bobby", "~bob", "host.example", None, "see you"),
    (at(10, 10, 7, 30), "part", "frank", "f", "h", None, None),
    (at(10, 10, 8, 0), "quit", "alice", "~alice", "user/alice", None, "Quit: bye"),
    (at(10, 10, 8, 30), "quit", "gina", "g", "h", None, None),
    (at(11, 0, 30, 0), "message", "alice", None, None, None, "after midnight (local)"),
]


def test_the_sample_gives_every_event_line_by_line() -> None:
    records, left, unread = parse_file("limnoria", SAMPLE_FILES["limnoria"])
    assert unread == []
    assert [(item.line, item.what) for item in left] == [(11, "invite")]
    assert len(records) == len(EXPECTED)
    for number, (record, expected) in enumerate(zip(records, EXPECTED, strict=True), 1):
        assert row(record) == expected, f"record {number}"
        assert record.network == "libera" and record.channel == "#logbot"
        assert record.time_source == "local"
        assert record.tags == {"logbot.imported": "limnoria"}
    # the local times, placed in the zone given: +01:00 in March in Berlin
    assert records[0].time.isoformat() == "2026-03-10T09:58:02+01:00"
    assert records[-1].time.astimezone(UTC) == datetime(2026, 3, 10, 23, 30, tzinfo=UTC)


def test_summer_time_and_supybot_stamps_are_placed_with_their_offset() -> None:
    records, _, unread = parse_lines(
        "limnoria",
        ["2026-07-01T12:00:00  <alice> summer", "[01-Jul-2026 12:00:01]  <bob> old supybot"],
    )
    assert unread == []
    assert [r.time.utcoffset() for r in records] == [timedelta(hours=2)] * 2
    assert [row(r)[1:] for r in records] == [
        ("message", "alice", None, None, None, "summer"),
        ("message", "bob", None, None, None, "old supybot"),
    ]
    assert records[1].time == datetime(2026, 7, 1, 12, 0, 1, tzinfo=BERLIN)


@pytest.mark.parametrize(
    ("line", "why"),
    [
        ("garbage", "no ChannelLogger time stamp at the start"),
        ("2026-02-30T10:00:00  <alice> no such day", "not a valid date or time"),
        ("0001-01-01T00:00:00  <alice> too early to place", "not a valid date or time"),
        ("2026-03-10T10:00:00  *** alice does something new", "not a ChannelLogger line"),
        ("2026-03-10T10:00:00  hello without a speaker", "not a ChannelLogger line"),
        ("2026-03-10T10:00:00 <alice> one space only", "no ChannelLogger time stamp at the start"),
    ],
)
def test_a_line_of_another_shape_is_reported_never_guessed(line: str, why: str) -> None:
    records, left, unread = parse_lines("limnoria", ["2026-03-10T09:00:00  <a> ok", line])
    assert [row(r)[1:3] for r in records] == [("message", "a")]
    assert left == []
    assert [(u.line, u.why, u.text) for u in unread] == [(2, why, line)]


def test_a_nick_with_a_hyphen_and_an_empty_message_read_whole() -> None:
    records, _, unread = parse_lines(
        "limnoria", ["2026-03-10T09:00:00  -foo-bar- hi there", "2026-03-10T09:00:01  <a>"]
    )
    assert unread == []
    assert [row(r)[1:] for r in records] == [
        ("notice", "foo-bar", None, None, None, "hi there"),
        ("message", "a", None, None, None, ""),
    ]


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("logs/ChannelLogger/libera/#logbot/#logbot.log", FileName("#logbot")),
        (
            "logs/ChannelLogger/libera/#logbot/#logbot.2026-03-10.log",
            FileName("#logbot", datetime(2026, 3, 10).date()),
        ),
        ("logs/ChannelLogger/libera/#a.b/#a.b.log", FileName("#a.b")),
        ("logs/ChannelLogger/libera/#logbot/misc.log", FileName("#logbot")),
        ("logs/misc.log", FileName(None)),
        ("logs/ChannelLogger/libera/#logbot/notes.txt", None),
    ],
)
def test_the_file_name_gives_the_channel(path: str, expected: FileName | None) -> None:
    assert limnoria.name_of(Path(path)) == expected
