"""Per-target state is bounded: private logs of any number of correspondents.

Issue 14: with ``private: true`` every nick that ever wrote to the bot kept an entry in
the writer (its date, time zone, file objects and paths, a retention directory): 50,000
nicks held 217 MiB.  Now at most ``MAX_TARGETS`` targets keep state, the least recently
written dropped first, and a dropped one is rebuilt when it writes again: its lines go
on in the same file, none lost, none twice.  Memory is checked by counting entries
(``LogWriter.state_sizes``), never by RSS; the figures are in bench/README.md.
"""

from __future__ import annotations

import errno
import json
import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from logbot.config.settings import LogOptions
from logbot.logs.record import LogRecord
from logbot.logs.writer import MAX_TARGETS, LogWriter
from logbot.reactor.task import Clock
from logbot.reactor.testing import MemoryReactor

BASE = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)


def rec(nick: str, text: str, seconds: float = 0, when: datetime | None = None) -> LogRecord:
    """A private message from ``nick`` (its log is named after ``nick``)."""
    return LogRecord(
        time=when or BASE + timedelta(seconds=seconds),
        time_source="server",
        type="message",
        network="net",
        channel=nick,
        nick=nick,
        text=text,
    )


def private(**kw: Any) -> LogOptions:
    kw.setdefault("formats", ("text", "jsonl"))
    return LogOptions(private=True, **kw)


def messages(path: Path) -> list[str]:
    return [line.split("> ", 1)[1] for line in path.read_text().splitlines()]


def folder(root: Path, nick: str) -> Path:
    return root / "net" / nick


@pytest.fixture
def writer_defaults() -> dict[str, Any]:
    return {"wall": BASE.timestamp}  # the records' day (stamps far off are not used)


def test_5000_correspondents_keep_at_most_max_targets_entries(
    make: Callable[..., LogWriter], root: Path
) -> None:
    nicks = 5000
    assert nicks > MAX_TARGETS  # else this test could not fail
    w = make()
    o = private(formats=("text",))
    most: dict[str, int] = {}
    for i in range(nicks):
        w.write(rec(f"n{i:04d}", f"hello {i}", i), f"n{i:04d}", o)
        for key, value in w.state_sizes().items():
            most[key] = max(most.get(key, 0), value)
    assert most["targets"] == MAX_TARGETS
    assert most["dates"] == MAX_TARGETS
    assert most["files"] <= MAX_TARGETS  # one format: a live file per target at most
    assert most["open"] <= 512
    for i in range(nicks):  # nothing lost on the way
        assert messages(folder(root, f"n{i:04d}") / "2026-01-01.log") == [f"hello {i}"]
    assert w.stats.lines_written == nicks
    assert (w.stats.pending, w.stats.dropped, w.stats.write_errors) == (0, 0, 0)


def test_retention_watches_a_bounded_number_of_folders_and_a_returning_nicks_again(
    make: Callable[..., LogWriter], root: Path
) -> None:
    w = make(max_targets=4)
    o = private(formats=("text",), retention_days=1)
    for i in range(20):
        w.write(rec(f"n{i}", "hi", i), f"n{i}", o)
        assert w.state_sizes()["retention_dirs"] <= 4
    old = folder(root, "n0") / "2025-12-01.log"  # an expired file, seen by no sweep yet
    old.write_text("x\n")
    os.utime(old, (BASE.timestamp() - 3 * 86400,) * 2)
    assert not w.has_target("net", "n0")
    w.write(rec("n0", "back", 30), "n0", o)  # watched again: swept at once
    assert not old.exists()
    assert messages(folder(root, "n0") / "2026-01-01.log") == ["hi", "back"]


def test_an_evicted_nick_writing_again_goes_on_in_the_same_file(
    make: Callable[..., LogWriter], root: Path
) -> None:
    w = make(max_targets=4)
    o = private()
    w.write(rec("alice", "before", 0), "alice", o)
    for i, nick in enumerate(["bob", "carol", "dave", "erin", "frank"]):
        w.write(rec(nick, "hi", 1 + i), nick, o)
    assert w.state_sizes()["targets"] == 4
    assert not w.has_target("net", "alice")  # evicted: its state rebuilt below
    w.write(rec("alice", "after", 10), "alice", o)
    assert w.has_target("net", "alice")
    files = sorted(p.name for p in folder(root, "alice").iterdir())
    assert files == ["2026-01-01.jsonl", "2026-01-01.log"]
    assert messages(folder(root, "alice") / "2026-01-01.log") == ["before", "after"]
    jsonl = (folder(root, "alice") / "2026-01-01.jsonl").read_text().splitlines()
    assert [json.loads(line)["text"] for line in jsonl] == ["before", "after"]


def test_a_target_in_use_is_never_evicted(make: Callable[..., LogWriter], root: Path) -> None:
    """The eviction is least recently *used*: a busy channel among a crowd of one-line
    correspondents keeps its state (and its hot path) throughout."""
    w = make(max_targets=4)
    o = private()
    w.write(rec("#busy", "0"), "#busy", o)
    for i in range(50):
        w.write(rec(f"n{i}", "hi", i), f"n{i}", o)
        assert w.has_target("net", "#busy")
        w.write(rec("#busy", str(i + 1), i), "#busy", o)
    assert messages(folder(root, "#busy") / "2026-01-01.log") == [str(i) for i in range(51)]


def test_an_evicted_nicks_pending_lines_are_written_in_order(
    make: Callable[..., LogWriter], root: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_write = os.write
    broken = {"on": True}

    def write(fd: int, data: bytes) -> int:
        if broken["on"] and os.readlink(f"/proc/self/fd/{fd}").startswith(str(root / "net/al")):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", write)
    w = make(max_targets=2, retry_interval=5.0)
    o = private(formats=("text",))
    w.write(rec("alice", "one", 0), "alice", o)  # fails: pending
    for i, nick in enumerate(["bob", "carol", "dave"]):
        w.write(rec(nick, "hi", 1 + i), nick, o)
    assert not w.has_target("net", "alice")
    w.write(rec("alice", "two", 5), "alice", o)  # queued behind "one"
    assert w.stats.pending == 2
    broken["on"] = False
    clock.advance(5.0)
    w.write(rec("alice", "three", 6), "alice", o)
    assert messages(folder(root, "alice") / "2026-01-01.log") == ["one", "two", "three"]
    assert (w.stats.pending, w.stats.dropped) == (0, 0)


def test_an_evicted_nicks_buffer_is_written_at_eviction(
    make: Callable[..., LogWriter], root: Path, clock: Clock
) -> None:
    w = make(max_targets=2)
    o = private(formats=("text",), flush="interval", flush_interval=60.0)
    w.write(rec("alice", "buffered", 0), "alice", o)
    assert not (folder(root, "alice") / "2026-01-01.log").exists()
    w.write(rec("bob", "hi", 1), "bob", o)
    w.write(rec("carol", "hi", 2), "carol", o)  # alice is evicted: her buffer written
    assert messages(folder(root, "alice") / "2026-01-01.log") == ["buffered"]
    w.write(rec("alice", "later", 3), "alice", o)
    clock.advance(60.0)
    assert messages(folder(root, "alice") / "2026-01-01.log") == ["buffered", "later"]


def test_an_evicted_nicks_finished_day_is_compressed_and_a_current_one_is_not(
    clock: Clock, root: Path
) -> None:
    """As the end-of-day check would have done had the state stayed."""
    spawner = MemoryReactor()
    wall = datetime(2026, 1, 2, 0, 0, 30, tzinfo=UTC)  # just after midnight
    w = LogWriter(clock, root=root, wall=lambda: wall.timestamp(), spawner=spawner, max_targets=2)
    o = private(formats=("text",), compress="gzip")
    w.write(rec("alice", "yesterday", when=wall - timedelta(minutes=5)), "alice", o)
    w.write(rec("bob", "today", when=wall), "bob", o)
    w.write(rec("carol", "today", when=wall), "carol", o)  # alice evicted
    w.write(rec("dave", "today", when=wall), "dave", o)  # bob evicted
    compressed = [proto.path for proto, *_ in spawner.spawnedProcesses]
    assert compressed == [folder(root, "alice") / "2026-01-01.log"]
    w.close()


def test_a_late_line_of_a_rebuilt_nick_never_goes_into_a_file_being_compressed(
    clock: Clock, root: Path
) -> None:
    """Evicted, the nick's largest date is forgotten; its late line for the day whose
    file gzip is compressing goes to today's file, as it would have with the state."""
    spawner = MemoryReactor()  # its children never end: the file stays "being compressed"
    wall = datetime(2026, 1, 2, 0, 0, 30, tzinfo=UTC)
    w = LogWriter(clock, root=root, wall=wall.timestamp, spawner=spawner, max_targets=2)
    o = private(formats=("text",), compress="gzip")
    w.write(rec("alice", "yesterday", when=wall - timedelta(minutes=5)), "alice", o)
    w.write(rec("bob", "today", when=wall), "bob", o)
    w.write(rec("carol", "today", when=wall), "carol", o)  # alice evicted: compressing
    yesterday = folder(root, "alice") / "2026-01-01.log"
    assert yesterday in w.housekeeping.busy()
    w.write(rec("alice", "late", when=wall - timedelta(minutes=1)), "alice", o)
    assert messages(yesterday) == ["yesterday"]
    assert messages(folder(root, "alice") / "2026-01-02.log") == ["late"]
    w.close()
