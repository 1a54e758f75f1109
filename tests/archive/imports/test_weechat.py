"""WeeChat's logger: the sample (every line kind its IRC plugin prints into a channel,
with the default prefixes) gives the records listed here, line by line; its file names
give the channel; other lines are reported."""

from __future__ import annotations

from pathlib import Path

import pytest

from logbot.archive.imports import weechat
from logbot.archive.imports.source import FileName
from tests.archive.imports.conftest import SAMPLE_FILES, at, parse_file, parse_lines, row

EXPECTED = [
    (at(10, 9, 57, 41), "join", "alice", "~alice", "user/alice", None, None),
    (at(10, 9, 57, 41), "topic_info", "op", "op", "staff", None, "logbot: logs"),
    (at(10, 9, 57, 50), "join", "joe", "~joe", "example.net", None, None),
    (at(10, 10, 0, 0), "message", "alice", None, None, None, "good morning"),
    (at(10, 10, 0, 1), "message", "op", None, None, None, "morning, see C:\\Users and \\o/"),
    (at(10, 10, 0, 5), "action", "bob", None, None, None, "waves"),
    (at(10, 10, 0, 9), "notice", "ChanServ", None, None, None, "Welcome to #logbot"),
    (at(10, 10, 0, 10), "message", "op", None, None, "@#logbot", "ops only"),
    (at(10, 10, 1, 0), "mode", "op", None, None, None, "+o alice"),
    (at(10, 10, 2, 0), "topic", "op", None, None, None, "logbot: logs, now with imports"),
    (at(10, 10, 2, 30), "topic", "op", None, None, None, ""),
    (at(10, 10, 3, 0), "nick", "bob", None, None, "bobby", None),
    (at(10, 10, 6, 0), "kick", "op", None, None, "carol", "no spam, please"),
    (at(10, 10, 7, 0), "part", "bobby", "~bob", "host.example", None, "see you"),
    (at(10, 10, 7, 30), "part", "frank", "f", "h", None, None),
    (at(10, 10, 8, 0), "quit", "alice_", "~alice", "user/alice", None, "Quit: bye"),
    (at(11, 0, 30, 0), "message", "alice", None, None, None, "after midnight (local)"),
]
LEFT = [
    (1, "log opened/closed"),
    (4, "topic setter (put on the topic's record)"),
    (5, "client note"),
    (6, "channel modes"),
    (17, "own nick change"),
    (23, "log opened/closed"),
]


def test_the_sample_gives_every_event_line_by_line() -> None:
    records, left, unread = parse_file("weechat", SAMPLE_FILES["weechat"])
    assert unread == []
    assert [(item.line, item.what) for item in left] == LEFT
    assert len(records) == len(EXPECTED)
    for number, (record, expected) in enumerate(zip(records, EXPECTED, strict=True), 1):
        assert row(record) == expected, f"record {number}"
        assert record.channel == "#logbot" and record.time_source == "local"
        assert record.tags == {"logbot.imported": "weechat"}
    assert records[2].account == "joe"  # extended-join's account, where the line has it
    assert records[0].time.isoformat() == "2026-03-10T09:57:41+01:00"


@pytest.mark.parametrize(
    ("line", "why"),
    [
        ("garbage", "no WeeChat time stamp (YYYY-MM-DD HH:MM:SS) at the start"),
        (
            "2026-03-10 10:00:00 alice no tabs",
            "no WeeChat time stamp (YYYY-MM-DD HH:MM:SS) at the start",
        ),
        ("2026-13-10 10:00:00\talice\tno such month", "not a valid date or time"),
        ("9999-12-31 23:59:59\talice\ttoo late to place", "not a valid date or time"),
        ("2026-03-10 10:00:00\tonly two fields", "not <time> TAB <prefix> TAB <message>"),
        ("2026-03-10 10:00:00\t--\tsomething new", "not a WeeChat IRC line"),
        ("2026-03-10 10:00:00\t=!=\tan error", "not a WeeChat IRC line"),
    ],
)
def test_a_line_of_another_shape_is_reported_never_guessed(line: str, why: str) -> None:
    records, left, unread = parse_lines("weechat", [line])
    assert records == [] and left == []
    assert [(u.line, u.why, u.text) for u in unread] == [(1, why, line)]


def test_a_message_holding_tabs_keeps_them() -> None:
    records, _, unread = parse_lines("weechat", ["2026-03-10 10:00:00\talice\ta\tb"])
    assert unread == []
    assert [row(r)[1:] for r in records] == [("message", "alice", None, None, None, "a\tb")]


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("logs/irc.libera.#logbot.weechatlog", FileName("#logbot")),
        ("logs/irc.libera.#a.b.weechatlog", FileName("#a.b")),
        ("logs/irc.my.server.#logbot.weechatlog.2", FileName("#logbot", rank=-2)),
        ("logs/irc.server.libera.weechatlog", FileName(None)),
        ("logs/irc.libera.alice.weechatlog", FileName(None)),
        ("logs/core.weechat.weechatlog", FileName(None)),
        ("logs/irc.libera.#logbot.weechatlog.1.gz", None),
    ],
)
def test_the_file_name_gives_the_channel(path: str, expected: FileName | None) -> None:
    assert weechat.name_of(Path(path)) == expected
