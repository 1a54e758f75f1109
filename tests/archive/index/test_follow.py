"""The Follower's timing on a fake clock, with a real index of real files."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from logbot.archive.index import Follower, Index
from logbot.reactor import task
from tests.archive.index.files import append, day_file, record, texts


class RecordingClock(task.Clock):
    """A fake clock that remembers the delay of every call scheduled."""

    def __init__(self) -> None:
        super().__init__()
        self.delays: list[float] = []

    def callLater(self, delay: float, f: Any, *args: Any, **kw: Any) -> Any:
        self.delays.append(delay)
        return super().callLater(delay, f, *args, **kw)


def test_full_batches_go_on_at_the_next_turn_then_every_interval(root: Path, index: Index) -> None:
    append(day_file(root), [record(i, text=f"l{i}") for i in range(25)])
    clock = RecordingClock()
    follower = Follower(clock, index, root, interval=2.0, batch_lines=10)
    follower.start()
    assert follower.lines_indexed == 0  # nothing before the reactor turns
    clock.advance(0)
    # 10 and 10 (full: at once again), then 5 (caught up: the interval)
    assert clock.delays == [0, 0, 0, 2.0]
    assert (follower.updates, follower.lines_indexed, follower.caught_up) == (3, 25, True)
    append(day_file(root), [record(30, text="new")])
    clock.advance(1.9)
    assert follower.lines_indexed == 25
    clock.advance(0.1)
    assert follower.lines_indexed == 26 and texts(index)[-1] == (26, "new")
    assert clock.delays[-1] == 2.0


def test_counters_and_stop(root: Path, index: Index) -> None:
    append(day_file(root), b"not json\n")
    append(day_file(root), [record(0)])
    clock = task.Clock()
    follower = Follower(clock, index, root, interval=1.0, batch_lines=100)
    follower.start()
    follower.start()  # twice: still one loop
    clock.advance(0)
    assert (follower.lines_indexed, follower.bad_lines, follower.errors) == (1, 1, 0)
    assert len(clock.getDelayedCalls()) == 1
    follower.stop()
    assert clock.getDelayedCalls() == []
    append(day_file(root), [record(1)])
    clock.advance(5)
    assert follower.lines_indexed == 1


def test_an_error_is_logged_once_and_retried_every_interval(
    root: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A locked database (another process writing): the follower goes on."""
    append(day_file(root), [record(0, text="first")])
    path = tmp_path / "index.sqlite3"
    index = Index(path, busy_timeout=0.01)
    other = sqlite3.connect(path, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")  # holds the write lock
        clock = task.Clock()
        follower = Follower(clock, index, root, interval=1.0, batch_lines=100)
        with caplog.at_level(logging.INFO, "logbot.archive.index"):
            follower.start()
            clock.advance(0)
            clock.advance(1.0)
            clock.advance(1.0)
            assert follower.errors == 3 and follower.lines_indexed == 0
            assert follower.last_error is not None and "locked" in follower.last_error
            failed = [r for r in caplog.records if "update failed" in r.getMessage()]
            assert len(failed) == 1 and "retrying every 1 s" in failed[0].getMessage()
            other.execute("COMMIT")
            clock.advance(1.0)
        assert follower.last_error is None and follower.lines_indexed == 1
        assert "updates work again" in caplog.text
        assert texts(index) == [(1, "first")]
    finally:
        other.close()
        index.close()


def test_any_exception_is_survived(
    root: Path, index: Index, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = []

    def broken(*args: Any, **kw: Any) -> int:
        calls.append(args)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(index, "update", broken)
    clock = task.Clock()
    follower = Follower(clock, index, root, interval=3.0)
    follower.start()
    clock.pump([0, 3, 3])
    assert len(calls) == 3 and follower.errors == 3
    assert follower.last_error == "OSError: [Errno 28] No space left on device"


def test_bad_settings_are_refused(root: Path, index: Index) -> None:
    with pytest.raises(ValueError):
        Follower(task.Clock(), index, root, interval=0)
    with pytest.raises(ValueError):
        Follower(task.Clock(), index, root, batch_lines=0)
