"""irssi's autolog: the sample (every line kind its default theme writes) gives the
records listed here, line by line, dated by its "Log opened" and "Day changed" lines;
its file names give the channel; other lines are reported."""

from __future__ import annotations

from pathlib import Path

import pytest

from logbot.archive.imports import irssi
from logbot.archive.imports.source import FileName
from tests.archive.imports.conftest import SAMPLE_FILES, at, parse_file, parse_lines, row

SPLIT = "hub.libera.chat leaf.libera.chat"
EXPECTED = [
    (at(10, 9, 57), "join", "alice", "~alice", "user/alice", None, None),
    (at(10, 9, 57), "topic_info", "op", "op", "staff", None, "logbot: logs"),
    (at(10, 10, 0), "message", "alice", None, None, None, "good morning"),
    (at(10, 10, 0), "message", "op", None, None, None, "morning, see C:\\Users and \\o/"),
    (at(10, 10, 0), "action", "bob", None, None, None, "waves"),
    (at(10, 10, 0), "notice", "ChanServ", None, None, None, "Welcome to #logbot"),
    (at(10, 10, 1), "mode", "op", None, None, None, "+o alice"),
    (at(10, 10, 1), "mode", "irc.libera.chat", None, None, None, "+b *!*@spam.example"),
    (at(10, 10, 2), "topic", "op", None, None, None, "logbot: logs, now with imports"),
    (at(10, 10, 2), "topic", "op", None, None, None, ""),
    (at(10, 10, 3), "nick", "bob", None, None, "bobby", None),
    (at(10, 10, 4), "join", "carol", "carol", "example.org", None, None),
    (at(10, 10, 6), "kick", "op", None, None, "carol", "no spam, please"),
    (at(10, 10, 7), "part", "bobby", "~bob", "host.example", None, "see you"),
    (at(10, 10, 7), "part", "frank", "f", "h", None, None),
    (at(10, 10, 8), "quit", "alice_", "~alice", "user/alice", None, "Quit: bye"),
    (at(10, 10, 9), "quit", "henry", None, None, None, SPLIT),
    (at(10, 10, 9), "quit", "ivy", None, None, None, SPLIT),
    (at(10, 10, 10), "join", "henry", None, None, None, None),
    (at(11, 0, 30), "message", "alice", None, None, None, "after midnight (local)"),
]
LEFT = [
    (1, "log opened/closed"),
    (4, "topic setter (put on the topic's record)"),
    (5, "names list"),
    (6, "names list"),
    (7, "client note"),
    (8, "channel modes"),
    (9, "client note"),
    (19, "own nick change"),
    (27, "own notice (sender not in the line)"),
    (28, "day changed"),
    (30, "log opened/closed"),
]


def test_the_sample_gives_every_event_line_by_line() -> None:
    records, left, unread = parse_file("irssi", SAMPLE_FILES["irssi"])
    assert unread == []
    assert [(item.line, item.what) for item in left] == LEFT
    assert len(records) == len(EXPECTED)
    for number, (record, expected) in enumerate(zip(records, EXPECTED, strict=True), 1):
        assert row(record) == expected, f"record {number}"
        assert record.channel == "#logbot" and record.time_source == "local"
        assert record.tags == {"logbot.imported": "irssi"}
    assert records[0].time.isoformat() == "2026-03-10T09:57:00+01:00"
    assert records[-1].time.isoformat() == "2026-03-11T00:30:00+01:00"


def test_a_line_before_any_date_and_lines_of_other_shapes_are_reported() -> None:
    lines = [
        "10:00 <alice> before any date",
        "--- Log opened Tue Mar 10 09:57:41 2026",
        "10:01 <alice> dated",
        "10:02 -!- alice does something new",
        "25:00 <alice> no such hour",
        "garbage",
        "--- Day changed Wed Foo 11 2026",
        "10:03 -!- Topic set by op [op@staff] [Mon Mar 09 18:00:00 2026]",
    ]
    records, left, unread = parse_lines("irssi", lines)
    assert [row(r) for r in records] == [
        (at(10, 10, 1), "message", "alice", None, None, None, "dated")
    ]
    assert [(u.line, u.why) for u in unread] == [
        (1, "no date yet (no 'Log opened' or 'Day changed' above)"),
        (4, "not an irssi line"),
        (5, "no irssi time stamp (HH:MM) at the start"),
        (6, "no irssi time stamp (HH:MM) at the start"),
        (7, "not an irssi log open or day change line"),
    ]
    assert [(item.line, item.what) for item in left] == [
        (2, "log opened/closed"),
        (8, "topic setter without a topic"),
    ]


def test_a_topic_without_its_setter_line_is_kept_without_a_setter() -> None:
    lines = [
        "--- Log opened Tue Mar 10 09:57:41 2026",
        "09:57 -!- Topic for #logbot: just the topic",
        "09:58 <alice> hi",
    ]
    records, _, unread = parse_lines("irssi", lines)
    assert unread == []
    assert [row(r) for r in records] == [
        (at(10, 9, 57), "topic_info", None, None, None, None, "just the topic"),
        (at(10, 9, 58), "message", "alice", None, None, None, "hi"),
    ]


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("irclogs/libera/#logbot.log", FileName("#logbot")),
        ("irclogs/libera/#a_b.log", FileName("#a_b")),
        ("irclogs/libera/alice.log", FileName(None)),  # a query: not a channel
        ("irclogs/libera/#logbot/2026-03-10.log", FileName("#logbot")),
        ("irclogs/libera/#logbot.log.old", None),
    ],
)
def test_the_file_name_gives_the_channel(path: str, expected: FileName | None) -> None:
    assert irssi.name_of(Path(path)) == expected
