"""The log read back by the writer's own files: jsonl or text, plain or gzip, bounded."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from logbot.config.settings import LogOptions
from logbot.logs import readback
from logbot.logs.formats import format_jsonl, format_text
from logbot.logs.record import LogRecord

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


def rec(text: str, when: datetime, kind: str = "message") -> LogRecord:
    return LogRecord(when, "server", kind, "net", "#h", "alice", text=text, msgid=f"id-{text}")


def write(root: Path, day: str, fmt: str, records: list[LogRecord], packed: bool = False) -> Path:
    folder = root / "net" / "#h"
    folder.mkdir(parents=True, exist_ok=True)
    render = format_jsonl if fmt == "jsonl" else format_text
    data = "".join(render(r, UTC) for r in records).encode()
    path = folder / f"{day}.{'jsonl' if fmt == 'jsonl' else 'log'}"
    if packed:
        path = path.with_name(path.name + ".gz")
        path.write_bytes(gzip.compress(data))
    else:
        path.write_bytes(data)
    return path


def test_jsonl_is_read_when_written_with_msgids_and_times(tmp_path: Path) -> None:
    options = LogOptions()
    early, late = NOW - timedelta(hours=2), NOW - timedelta(minutes=5)
    write(tmp_path, "2026-12-06", "jsonl", [rec("a", early), rec("b", late)])
    fmt, lines = readback.logged_since(
        tmp_path, options, "net", "#h", NOW - timedelta(hours=1), NOW
    )
    assert fmt == "jsonl"
    assert [(e.time, e.key, e.msgid) for e in lines] == [(late, ("message", "alice", "b"), "id-b")]


def test_text_only_logs_are_read_as_type_nick_and_text(tmp_path: Path) -> None:
    """The text line gives the record's key back, escaping undone: what dedupe
    compares a replayed record with."""
    options = LogOptions(formats=("text",))
    said = rec("a\nb \\n \x1b[2J", NOW - timedelta(seconds=3.5))
    write(tmp_path, "2026-12-06", "text", [said])
    fmt, lines = readback.logged_since(
        tmp_path, options, "net", "#h", NOW - timedelta(minutes=1), NOW
    )
    assert fmt == "text"
    (line,) = lines
    assert line.key == readback.content_key(said, "text") == ("message", "alice", said.text)
    assert line.msgid is None and line.span == 0
    assert line.time == (NOW - timedelta(seconds=4))  # whole seconds


def test_text_lines_of_an_older_logbot_are_read(tmp_path: Path) -> None:
    """The layout before (ISO 8601 with the offset, one space), as PR #96 wrote it,
    beside today's: the offset says the instant, whatever the zone configured."""
    folder = tmp_path / "net" / "#h"
    folder.mkdir(parents=True)
    (folder / "2026-12-06.log").write_text(
        "2026-12-06T12:59:50+01:00 <alice> before the upgrade\n"
        "2026-12-06T11:59:51+00:00 *** logbot: disconnected (Connection lost)\n"
        "2026-12-06T11:59:52  <alice> after\n"
    )
    options = LogOptions(formats=("text",))
    _, lines = readback.logged_since(tmp_path, options, "net", "#h", NOW - timedelta(1), NOW)
    assert [(e.time, e.key, e.marker) for e in lines] == [
        (NOW - timedelta(seconds=10), ("message", "alice", "before the upgrade"), False),
        (NOW - timedelta(seconds=9), ("marker", "", "disconnected (Connection lost)"), True),
        (NOW - timedelta(seconds=8), ("message", "alice", "after"), False),
    ]
    assert readback.last_time(tmp_path, options, "net", "#h", NOW, content=True) == (
        NOW - timedelta(seconds=8)
    )


def test_a_time_without_its_date_is_on_its_files_day_to_the_minute(tmp_path: Path) -> None:
    """irssi writes 13:59 in Berlin: the file's day gives the date, the zone the offset;
    a line stamped later than now (a late line from the day before, in this day's file)
    is not the log's last."""
    folder = tmp_path / "net" / "#h"
    folder.mkdir(parents=True)
    (folder / "2026-12-05.log").write_text("23:58 <alice> yesterday\n")
    (folder / "2026-12-06.log").write_text("12:59 <alice> hi\n23:59 <bob> late\n")
    options = LogOptions(formats=("text",), text_layout="irssi", timezone="Europe/Berlin")
    since = NOW - timedelta(days=1)
    _, lines = readback.logged_since(tmp_path, options, "net", "#h", since, NOW)
    assert [(e.time, e.key[2], e.span) for e in lines] == [
        (datetime(2026, 12, 5, 22, 58, tzinfo=UTC), "yesterday", 60),
        (NOW - timedelta(minutes=1), "hi", 60),
        (datetime(2026, 12, 6, 22, 59, tzinfo=UTC), "late", 60),
    ]
    assert readback.last_time(tmp_path, options, "net", "#h", NOW) == NOW - timedelta(minutes=1)


def test_earlier_days_are_read_compressed_or_not_and_bounded(tmp_path: Path) -> None:
    options = LogOptions()
    write(tmp_path, "2026-12-04", "jsonl", [rec("two days", NOW - timedelta(days=2))], packed=True)
    write(tmp_path, "2026-12-05", "jsonl", [rec("yesterday", NOW - timedelta(days=1))])
    fmt, lines = readback.logged_since(tmp_path, options, "net", "#h", NOW - timedelta(days=3), NOW)
    assert [e.key[2] for e in lines] == ["two days", "yesterday"]
    far = NOW - timedelta(days=readback.READBACK_DAYS + 5)
    write(tmp_path, far.date().isoformat(), "jsonl", [rec("too old", far)])
    _, lines = readback.logged_since(tmp_path, options, "net", "#h", far, NOW)
    assert "too old" not in [e.key[2] for e in lines]


def test_a_torn_or_foreign_line_is_skipped(tmp_path: Path) -> None:
    path = write(tmp_path, "2026-12-06", "jsonl", [rec("good", NOW)])
    with open(path, "ab") as f:
        f.write(b'{"time": "not a time"}\n[1,2]\n{"torn":')
    _, lines = readback.logged_since(tmp_path, LogOptions(), "net", "#h", NOW - timedelta(1), NOW)
    assert [e.key[2] for e in lines] == ["good"]


def test_last_time_is_the_newest_line_or_the_newest_content_line(tmp_path: Path) -> None:
    options = LogOptions()
    assert readback.last_time(tmp_path, options, "net", "#h", NOW) is None
    said = NOW - timedelta(days=1, minutes=3)
    write(
        tmp_path,
        "2026-12-05",
        "jsonl",
        [rec("x", said), rec("bye", said + timedelta(minutes=1), "disconnect")],
    )
    assert readback.last_time(tmp_path, options, "net", "#h", NOW) == said + timedelta(minutes=1)
    assert readback.last_time(tmp_path, options, "net", "#h", NOW, content=True) == said


def test_nothing_readable_without_a_text_or_jsonl_format(tmp_path: Path) -> None:
    options = LogOptions(formats=())
    assert readback.logged_since(tmp_path, options, "net", "#h", NOW, NOW) == (None, [])
    assert readback.last_time(tmp_path, options, "net", "#h", NOW) is None


def test_last_time_of_a_channel_without_a_folder_looks_no_further(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A channel's first join: its folder is not there, so no day is tried (each
    would cost a path and a safe open); with a day in the folder's name, every day's
    folder is looked at as before."""
    tried: list[Path] = []
    real = readback._tail_lines
    monkeypatch.setattr(
        readback,
        "_tail_lines",
        lambda root, path, limit: tried.append(path) or real(root, path, limit),
    )
    assert readback.last_time(tmp_path, LogOptions(), "net", "#h", NOW) is None
    assert tried == []
    said = NOW - timedelta(days=3)
    write(tmp_path, "2026-12-03", "jsonl", [rec("x", said)])
    assert readback.last_time(tmp_path, LogOptions(), "net", "#h", NOW) == said
    assert len(tried) == 4  # today, then back to the day with a file
    by_day = LogOptions(path="{network}/{date:%Y-%m-%d}/{channel}.log")
    folder = tmp_path / "net" / "2026-12-02"
    folder.mkdir(parents=True)
    (folder / "#h.jsonl").write_text(format_jsonl(rec("y", said - timedelta(days=1)), UTC))
    assert readback.last_time(tmp_path, by_day, "net", "#h", NOW) == said - timedelta(days=1)
