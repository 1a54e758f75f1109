"""The log read back by the writer's own files: jsonl or text, plain or gzip, bounded."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime, timedelta
from pathlib import Path

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


def test_text_only_logs_are_read_as_their_bodies(tmp_path: Path) -> None:
    options = LogOptions(formats=("text",))
    write(tmp_path, "2026-12-06", "text", [rec("a", NOW - timedelta(seconds=3.5))])
    fmt, lines = readback.logged_since(
        tmp_path, options, "net", "#h", NOW - timedelta(minutes=1), NOW
    )
    assert fmt == "text"
    (line,) = lines
    assert line.key == ("text", "<alice> a") and line.msgid is None
    assert line.time == (NOW - timedelta(seconds=4))  # whole seconds


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
