"""ZNC's log module: the sample (every line kind it writes into a channel's file)
gives the records listed here, line by line, dated by the file's name; the folders
give the channel; other lines are reported."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from logbot.archive.imports import znc
from logbot.archive.imports.source import FileName
from tests.archive.imports.conftest import SAMPLE_FILES, at, parse_file, parse_lines, row

EXPECTED = [
    (at(10, 9, 58, 2), "join", "alice", "~alice", "user/alice", None, None),
    (at(10, 10, 0, 0), "message", "alice", None, None, None, "good morning"),
    (at(10, 10, 0, 1), "message", "op", None, None, None, "morning, see C:\\Users and \\o/"),
    (at(10, 10, 0, 5), "action", "bob", None, None, None, "waves"),
    (at(10, 10, 0, 9), "notice", "ChanServ", None, None, None, "[#logbot] Welcome to #logbot"),
    (at(10, 10, 1, 0), "mode", "op", None, None, None, "+o alice"),
    (at(10, 10, 2, 0), "topic", "op", None, None, None, "logbot: logs, now with imports"),
    (at(10, 10, 3, 0), "nick", "bob", None, None, "bobby", None),
    (at(10, 10, 6, 0), "kick", "op", None, None, "carol", "no spam, please"),
    (at(10, 10, 7, 0), "part", "bobby", "~bob", "host.example", None, "see you"),
    (at(10, 10, 7, 30), "part", "frank", "f", "h", None, None),
    (at(10, 10, 8, 0), "quit", "alice", "~alice", "user/alice", None, "Quit: bye"),
]


def test_the_sample_gives_every_event_line_by_line() -> None:
    records, left, unread = parse_file("znc", SAMPLE_FILES["znc"])
    assert unread == []
    assert [(item.line, item.what) for item in left] == [(13, "bouncer status line")]
    assert len(records) == len(EXPECTED)
    for number, (record, expected) in enumerate(zip(records, EXPECTED, strict=True), 1):
        assert row(record) == expected, f"record {number}"
        assert record.channel == "#logbot" and record.time_source == "local"
        assert record.tags == {"logbot.imported": "znc"}
    assert records[0].time.isoformat() == "2026-03-10T09:58:02+01:00"


def test_the_next_days_file_is_dated_by_its_name() -> None:
    path = SAMPLE_FILES["znc"].with_name("2026-03-11.log")
    records, _, unread = parse_file("znc", path)
    assert unread == []
    assert [row(r) for r in records] == [
        (at(11, 0, 30), "message", "alice", None, None, None, "after midnight (local)")
    ]


@pytest.mark.parametrize(
    ("line", "why"),
    [
        ("10:00:00 <alice> no brackets", "no ZNC time stamp ([HH:MM:SS]) at the start"),
        ("[24:00:00] <alice> no such hour", "not a valid time"),
        ("[10:00:00] *** Joins: alice", "not a ZNC log line"),
        ("[10:00:00] just words", "not a ZNC log line"),
    ],
)
def test_a_line_of_another_shape_is_reported_never_guessed(line: str, why: str) -> None:
    records, left, unread = parse_lines("znc", [line], day=at(10, 0, 0))
    assert records == [] and left == []
    assert [(u.line, u.why, u.text) for u in unread] == [(1, why, line)]


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("libera/moddata/log/#logbot/2026-03-10.log", FileName("#logbot", date(2026, 3, 10))),
        ("log/alice/libera/#Web-dev/2026-01-02.log", FileName("#Web-dev", date(2026, 1, 2))),
        ("libera/moddata/log/status/2026-03-10.log", FileName(None, date(2026, 3, 10))),
        ("libera/moddata/log/#logbot/old.log", FileName("#logbot")),
        ("libera/moddata/log/#logbot/2026-02-30.log", FileName("#logbot")),
        ("libera/moddata/log/#logbot/2026-03-10.log.gz", None),
    ],
)
def test_the_folder_gives_the_channel_and_the_name_the_day(
    path: str, expected: FileName | None
) -> None:
    assert znc.name_of(Path(path)) == expected
