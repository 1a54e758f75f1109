"""Compression in child processes (real gzip on every reactor backend) and retention."""

from __future__ import annotations

import gzip
import logging
import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from logbot.config.settings import LogOptions
from logbot.logs import housekeeping
from logbot.logs.housekeeping import (
    Compressor,
    Retention,
    default_gzip_argv,
    sweep_retention,
)
from logbot.logs.record import LogRecord
from logbot.logs.writer import LogWriter
from logbot.reactor.error import ProcessDone, ProcessTerminated
from logbot.reactor.failure import Failure
from logbot.reactor.task import Clock
from logbot.reactor.testing import MemoryReactorClock

HK_LOG = "logbot.logs.housekeeping"


def rec(when: datetime, text: str) -> LogRecord:
    return LogRecord(
        time=when,
        time_source="server",
        type="message",
        network="net",
        channel="#c",
        nick="nick",
        text=text,
    )


def hk_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage() for r in caplog.records if r.name == HK_LOG and r.levelno == logging.WARNING
    ]


def ended(spawner: MemoryReactorClock, index: int, reason: Exception | None = None) -> None:
    """Tell the protocol of the ``index``-th fake child that it ended."""
    proto = spawner.spawnedProcesses[index][0]
    proto.processEnded(Failure(reason if reason is not None else ProcessDone(0)))


def gzipped(spawner: MemoryReactorClock, index: int, output: bytes = b"gz") -> None:
    """What gzip does as the ``index``-th fake child: ``output`` on its stdout (the
    descriptor it was given), then exit 0."""
    os.write(spawner.spawnedProcesses[index][5][1], output)
    ended(spawner, index)


def compressing(spawner: MemoryReactorClock) -> list[Path]:
    """The file each fake child was given, in order."""
    return [proto.path for proto, *_ in spawner.spawnedProcesses]


# -- real gzip, real reactor ----------------------------------------------------------------


def test_days_of_logs_are_gzipped_for_real(reactor: Any, run_until: Any, tmp_path: Path) -> None:
    w = LogWriter(reactor, root=tmp_path, spawner=reactor)
    # days of stamps months from the real clock: trusted (see test_server_time.py)
    o = LogOptions(formats=("text", "jsonl"), compress="gzip", server_time_tolerance=None)
    base = datetime(2026, 3, 1, tzinfo=UTC)
    for day in range(4):
        for i in range(200):
            w.write(rec(base + timedelta(days=day, seconds=i * 60), f"day {day} line {i}"), "#c", o)
    d = tmp_path / "net" / "#c"
    live = {"2026-03-04.log", "2026-03-04.jsonl"}
    run_until(w.housekeeping.idle())
    assert sorted(p.name for p in d.iterdir()) == sorted(
        [f"2026-03-0{n}.{ext}.gz" for n in (1, 2, 3) for ext in ("log", "jsonl")] + list(live)
    )
    for n in (1, 2, 3):
        text = gzip.decompress((d / f"2026-03-0{n}.log.gz").read_bytes()).decode()
        lines = text.splitlines()
        assert [line.split("> ", 1)[1] for line in lines] == [
            f"day {n - 1} line {i}" for i in range(200)
        ]
        assert len(gzip.decompress((d / f"2026-03-0{n}.jsonl.gz").read_bytes()).splitlines()) == 200
    assert w.housekeeping.compressed == 6 and w.housekeeping.failed == 0
    w.close()


def test_python_gzip_when_there_is_no_gzip(
    reactor: Any, run_until: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(housekeeping.shutil, "which", lambda name: None)
    assert default_gzip_argv() == [sys.executable, "-m", "gzip"]
    c = Compressor(reactor)
    path = tmp_path / "2026-01-01.log"
    path.write_bytes(b"one\ntwo\n")
    os.utime(path, (1_700_000_000, 1_700_000_000))
    c.compress(path)
    run_until(c.idle())
    gz = tmp_path / "2026-01-01.log.gz"
    assert not path.exists()  # python -m gzip keeps it: we delete it
    assert gzip.decompress(gz.read_bytes()) == b"one\ntwo\n"
    assert gz.stat().st_mtime == 1_700_000_000  # retention must still see its age
    assert c.compressed == 1


def test_a_failing_gzip_is_reported(
    reactor: Any, run_until: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    c = Compressor(reactor, ["/bin/sh", "-c", 'echo "disk on fire" >&2; exit 3', "sh"])
    path = tmp_path / "2026-01-01.log"
    path.write_text("keep me\n")
    c.compress(path)
    run_until(c.idle())
    [warning] = hk_warnings(caplog)
    assert str(path) in warning and "exit code 3" in warning and "disk on fire" in warning
    assert path.read_text() == "keep me\n"
    assert c.failed == 1 and c.compressed == 0


def test_a_gzip_that_cannot_start(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    spawner = MemoryReactorClock()

    def refuse(*args: Any, **kw: Any) -> None:
        raise FileNotFoundError(2, "No such file or directory")

    spawner.spawnProcess = refuse  # type: ignore[method-assign,assignment]
    c = Compressor(spawner, ["/nonexistent/gzip"])
    path = tmp_path / "a.log"
    path.write_text("x\n")
    c.compress(path)
    assert c.idle().called
    [warning] = hk_warnings(caplog)
    assert str(path) in warning and "No such file" in warning
    assert path.exists()


# -- the queue, with a fake spawner ---------------------------------------------------------


def gz(path: Path) -> Path:
    return path.with_name(path.name + ".gz")


def files(tmp_path: Path, n: int) -> list[Path]:
    out = []
    for i in range(n):
        p = tmp_path / f"2026-01-0{i + 1}.log"
        p.write_text(f"{i}\n")
        out.append(p)
    return out


def test_at_most_two_children(tmp_path: Path) -> None:
    spawner = MemoryReactorClock()
    c = Compressor(spawner, ["gzip"])
    paths = files(tmp_path, 5)
    for p in paths:
        c.compress(p)
    assert compressing(spawner) == paths[:2]
    assert [args for _, _, args, _, _, _ in spawner.spawnedProcesses] == [["gzip"]] * 2
    done = c.idle()
    assert not done.called
    for index in range(5):
        gzipped(spawner, index, f"gz {index}".encode())
        assert len(spawner.spawnedProcesses) == min(5, index + 3)
    assert done.called
    assert c.compressed == 5
    assert c.idle().called
    for index, p in enumerate(paths):
        assert not p.exists() and gz(p).read_bytes() == f"gz {index}".encode()
    assert sorted(tmp_path.iterdir()) == sorted(gz(p) for p in paths)  # no temporary left


def test_a_file_is_queued_once(tmp_path: Path) -> None:
    spawner = MemoryReactorClock()
    c = Compressor(spawner, ["gzip"], max_children=1)
    a, b = files(tmp_path, 2)
    for p in (a, b, a, b):
        c.compress(p)
    assert len(spawner.spawnedProcesses) == 1
    assert c.busy() == {a, b, a.with_name(a.name + ".gz"), b.with_name(b.name + ".gz")}


def test_an_existing_gz_is_not_overwritten(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    spawner = MemoryReactorClock()
    c = Compressor(spawner, ["gzip"])
    old_gz = tmp_path / "2026-01-01.log.gz"
    old_gz.write_bytes(b"the old day")
    path = tmp_path / "2026-01-01.log"
    path.write_text("a late line\n")
    c.compress(path)
    part = tmp_path / "2026-01-01.001.log"
    assert compressing(spawner) == [part]
    assert part.read_text() == "a late line\n" and not path.exists()
    gzipped(spawner, 0, b"the late line")
    assert old_gz.read_bytes() == b"the old day"
    assert gz(part).read_bytes() == b"the late line" and not part.exists()


def test_a_gz_that_does_not_appear_is_reported(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    spawner = MemoryReactorClock()
    c = Compressor(spawner, ["true"])
    [path] = files(tmp_path, 1)
    c.compress(path)
    ended(spawner, 0)  # exit 0, nothing written
    assert path.exists() and not gz(path).exists()
    [warning] = hk_warnings(caplog)
    assert "did not appear" in warning
    assert sorted(tmp_path.iterdir()) == [path]  # the temporary output is removed


def test_a_signal_is_a_failure(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    spawner = MemoryReactorClock()
    c = Compressor(spawner, ["gzip"])
    [path] = files(tmp_path, 1)
    c.compress(path)
    ended(spawner, 0, ProcessTerminated(signal=9))
    assert c.failed == 1 and "signal 9" in hk_warnings(caplog)[0]


def test_no_spawner_no_compression(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    c = Compressor(None)
    a, b = files(tmp_path, 2)
    c.compress(a)
    c.compress(b)
    assert len(hk_warnings(caplog)) == 1
    assert c.idle().called and a.exists()


def test_the_writer_without_a_spawner_warns_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    w = LogWriter(Clock(), root=tmp_path)
    o = LogOptions(formats=("text",), compress="gzip", server_time_tolerance=None)
    base = datetime(2026, 1, 1, tzinfo=UTC)
    for day in range(3):
        w.write(rec(base + timedelta(days=day), "x"), "#c", o)
    w.close()
    assert len(hk_warnings(caplog)) == 1
    assert (tmp_path / "net" / "#c" / "2026-01-01.log").exists()


# -- retention ------------------------------------------------------------------------------

NOW = 2_000_000_000.0


def aged(path: Path, days: float) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        path.write_text("x\n")
    t = NOW - days * 86400
    os.utime(path, (t, t), follow_symlinks=False)
    return path


def test_sweep_retention(tmp_path: Path) -> None:
    old = [aged(tmp_path / n, 10) for n in ("a.log", "a.jsonl", "b.log.gz", "b.jsonl.gz")]
    young = aged(tmp_path / "c.log", 2)
    protected = aged(tmp_path / "live.log", 10)
    other = aged(tmp_path / "notes.txt", 10)
    subdir = tmp_path / "dir.log"
    subdir.mkdir()
    os.utime(subdir, (0, 0))
    link = tmp_path / "link.log"
    link.symlink_to(young)
    os.utime(link, (0, 0), follow_symlinks=False)
    deleted = sweep_retention({tmp_path: NOW - 7 * 86400, tmp_path / "gone": NOW}, {protected})
    assert sorted(deleted) == sorted(old)
    assert young.exists() and protected.exists() and other.exists()
    assert subdir.is_dir() and link.is_symlink()


def test_retention_schedule(tmp_path: Path) -> None:
    clock = Clock()
    now = [NOW]
    protected: set[Path] = set()
    r = Retention(clock, lambda: now[0], lambda: protected, interval=3600)
    a, b = tmp_path / "a", tmp_path / "b"
    old_a = aged(a / "x.log", 10)
    r.watch(a, 7)  # a new directory is swept at once
    assert not old_a.exists()
    old_b = aged(b / "x.log", 10)
    mid_a = aged(a / "y.log", 5)
    r.watch(a, 7)  # known: no sweep now
    r.watch(b, 30)
    assert old_b.exists() and mid_a.exists()
    r.watch(b, 7)  # a smaller limit wins (and waits for the hourly sweep)
    now[0] += 3 * 86400
    clock.advance(3600)
    assert not mid_a.exists() and not old_b.exists()
    late = aged(a / "z.log", 100)
    protected.add(late)
    clock.advance(3600)
    assert late.exists()
    r.stop()
    assert clock.getDelayedCalls() == []
