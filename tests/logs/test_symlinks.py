"""Symbolic links planted below the log root are never followed (issue 15, item 1).

Each test plants a link where the bot writes (a channel's folder, a day's file), with
something outside the root behind it -- a shell script, a "binary" without a final
newline, another folder's logs -- and checks that it is untouched: nothing appended,
truncated, renamed, compressed, deleted or read through the link.  The lines of that
channel wait, as for any write error, and reach the real file once the link is gone.
Real files, real links, a task.Clock (and real gzip children on a real reactor).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from logbot.config.settings import LogOptions
from logbot.logs import readback
from logbot.logs.housekeeping import sweep_retention
from logbot.logs.record import LogRecord
from logbot.logs.writer import LogWriter
from logbot.reactor.task import Clock
from logbot.reactor.testing import MemoryReactorClock

BASE = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
SCRIPT = b"#!/bin/sh\necho harmless\n"
BINARY = b"\x7fELF\x02\x01\x01\x00 no newline at the end"


def rec(seconds: float, text: str = "hi", channel: str = "#c") -> LogRecord:
    return LogRecord(
        time=BASE + timedelta(seconds=seconds),
        time_source="server",
        type="message",
        network="net",
        channel=channel,
        nick="nick",
        text=text,
    )


def opts(**kw: Any) -> LogOptions:
    kw.setdefault("formats", ("text",))
    kw.setdefault("server_time_tolerance", None)
    return LogOptions(**kw)


def messages(path: Path) -> list[str]:
    return [line.split("> ", 1)[1] for line in path.read_text().splitlines()]


def link_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.levelno == logging.WARNING and "symbolic link" in r.getMessage()
    ]


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder outside the log root, with a script and a binary in it."""
    d = tmp_path / "outside"
    d.mkdir()
    (d / "run.sh").write_bytes(SCRIPT)
    (d / "tool").write_bytes(BINARY)
    return d


def tree(path: Path) -> dict[str, bytes]:
    """Every file under ``path`` (not following links) and its content."""
    return {
        str(p.relative_to(path)): p.read_bytes()
        for p in sorted(path.rglob("*"))
        if p.is_file() and not p.is_symlink()
    }


# -- the writer ------------------------------------------------------------------------------


def test_a_link_at_the_channel_folder_is_not_followed(
    make: Callable[..., LogWriter],
    root: Path,
    clock: Clock,
    outside: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    (root / "net").mkdir(parents=True)
    (root / "net" / "#c").symlink_to(outside)  # a folder: the day's file would go there
    before = tree(outside)
    w = make()
    w.write(rec(0, "one"), "#c", opts())
    w.write(rec(1, "two"), "#c", opts())
    clock.advance(5.0)  # a retry: the link is still there
    assert tree(outside) == before  # nothing created or written through the link
    [warning] = link_warnings(caplog)  # once per file, not per line or retry
    assert str(root / "net" / "#c") in warning and "symbolic link" in warning
    assert w.stats.unsafe_links == 2 and w.stats.pending == 2 and w.stats.dropped == 0
    assert w.pending_targets() == ["net #c"]
    (root / "net" / "#c").unlink()  # the admin removes it: the lines were kept, in order
    clock.advance(5.0)
    assert messages(root / "net" / "#c" / "2026-01-01.log") == ["one", "two"]
    assert w.stats.pending == 0 and tree(outside) == before


@pytest.mark.parametrize("target", ["run.sh", "tool"])
def test_a_link_at_the_days_file_is_neither_appended_to_nor_repaired(
    make: Callable[..., LogWriter],
    root: Path,
    clock: Clock,
    outside: Path,
    target: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A script got an IRC user's line appended and ran it; a binary (no final newline,
    so a "torn last line") was truncated by the repair."""
    folder = root / "net" / "#c"
    folder.mkdir(parents=True)
    (folder / "2026-01-01.log").symlink_to(outside / target)
    w = make()
    w.write(rec(0, "rm -rf ~"), "#c", opts())
    assert (outside / "run.sh").read_bytes() == SCRIPT
    assert (outside / "tool").read_bytes() == BINARY
    [warning] = link_warnings(caplog)
    assert str(folder / "2026-01-01.log") in warning
    assert w.stats.unsafe_links == 1 and w.stats.pending == 1
    assert not any("torn" in r.getMessage() for r in caplog.records)


def test_a_link_planted_in_place_of_an_open_channels_folder_stops_size_rotation(
    make: Callable[..., LogWriter], root: Path, outside: Path, clock: Clock
) -> None:
    """Size rotation closes the file and renames it to a part by its path: through a
    folder link that renamed (and then compressed) another folder's file."""
    (outside / "2026-01-01.log").write_bytes(SCRIPT)
    before = tree(outside)
    spawner = MemoryReactorClock()
    w = make(spawner=spawner, gzip_argv=["gzip"])
    o = opts(rotation="size", max_bytes=120, compress="gzip")
    w.write(rec(0, "first"), "#c", o)
    real = root / "net" / "#c"
    real.rename(root / "net" / "moved")
    real.symlink_to(outside)
    w.write(rec(1, "x" * 100), "#c", o)  # past max_bytes: rotate
    assert tree(outside) == before
    assert spawner.spawnedProcesses == []  # nothing compressed through the link
    assert w.stats.unsafe_links == 1 and w.stats.pending == 1
    assert messages(root / "net" / "moved" / "2026-01-01.log") == ["first"]


def test_compression_does_not_go_through_a_folder_link(
    make: Callable[..., LogWriter], root: Path, outside: Path
) -> None:
    """Yesterday's file is compressed when the day turns; a link planted at the folder
    meanwhile would have had another folder's file of that name gzipped (and deleted)."""
    (outside / "2026-01-01.log").write_bytes(SCRIPT)
    before = tree(outside)
    spawner = MemoryReactorClock()
    w = make(spawner=spawner, gzip_argv=["gzip"])
    o = opts(compress="gzip", path="{network}/{channel}/{date:%Y-%m-%d}.log")
    w.write(rec(0, "day one"), "#c", o)
    real = root / "net" / "#c"
    real.rename(root / "net" / "moved")
    real.symlink_to(outside)
    w.write(rec(86400, "day two"), "#c", o)
    assert tree(outside) == before
    assert spawner.spawnedProcesses == []
    assert w.stats.unsafe_links >= 1
    assert w.housekeeping.failed == 1


def test_a_real_gzip_is_never_aimed_through_a_link(
    reactor: Any, run_until: Any, tmp_path: Path, outside: Path
) -> None:
    """With real gzip children: ``gzip -f <path>`` followed a folder link planted after
    the file was closed and replaced another folder's file with its ``.gz``.  The child
    now gets descriptors, never a path; a file reached safely is still compressed."""
    root = tmp_path / "logs"
    (outside / "2026-01-01.log").write_bytes(SCRIPT)
    before = tree(outside)
    w = LogWriter(reactor, root=root, spawner=reactor)
    o = opts(compress="gzip")
    w.write(rec(0, "day one"), "#c", o)
    w.write(rec(0, "day one"), "#d", o)
    real = root / "net" / "#c"
    real.rename(root / "net" / "moved")
    real.symlink_to(outside)
    w.write(rec(86400, "day two"), "#c", o)  # closes day one: compress it
    w.write(rec(86400, "day two"), "#d", o)
    run_until(w.housekeeping.idle())
    assert tree(outside) == before
    assert sorted(p.name for p in (root / "net" / "#d").iterdir()) == [
        "2026-01-01.log.gz",
        "2026-01-02.log",
    ]
    assert w.housekeeping.compressed == 1 and w.housekeeping.failed == 1
    assert w.stats.unsafe_links >= 1
    w.close()


def test_retention_does_not_delete_through_a_folder_link(
    make: Callable[..., LogWriter], root: Path, outside: Path, clock: Clock
) -> None:
    old = outside / "2025-01-01.log"
    old.write_bytes(SCRIPT)
    os.utime(old, (0, 0))
    w = make(wall=lambda: BASE.timestamp() + clock.seconds())
    w.write(rec(0, "x"), "#c", opts(retention_days=7))  # watches net/#c, sweeps it
    real = root / "net" / "#c"
    real.rename(root / "net" / "moved")
    real.symlink_to(outside)
    clock.advance(3600)  # the hourly sweep
    assert old.read_bytes() == SCRIPT
    assert w.stats.unsafe_links == 1


def test_sweep_retention_skips_a_linked_directory(tmp_path: Path, outside: Path) -> None:
    root = tmp_path / "logs"
    (root / "net").mkdir(parents=True)
    (root / "net" / "#c").symlink_to(outside)
    old = outside / "2025-01-01.log"
    old.write_bytes(SCRIPT)
    os.utime(old, (0, 0))
    refused: list[OSError] = []
    deleted = sweep_retention(
        {root / "net" / "#c": 1e9}, set(), root=root, on_unsafe_link=refused.append
    )
    assert deleted == [] and old.exists() and len(refused) == 1


def test_the_root_itself_may_be_a_link(
    make: Callable[..., LogWriter], tmp_path: Path, clock: Clock
) -> None:
    """The administrator's /var/log/logbot -> /srv/logs: only what is below is checked."""
    real = tmp_path / "srv-logs"
    real.mkdir()
    linked = tmp_path / "var-log-logbot"
    linked.symlink_to(real)
    w = make(root=linked)
    w.write(rec(0, "kept"), "#c", opts())
    assert messages(real / "net" / "#c" / "2026-01-01.log") == ["kept"]
    assert w.stats.unsafe_links == 0 and w.stats.pending == 0


def test_a_fifo_at_the_days_file_does_not_block_the_loop(
    make: Callable[..., LogWriter], root: Path
) -> None:
    folder = root / "net" / "#c"
    folder.mkdir(parents=True)
    os.mkfifo(folder / "2026-01-01.log")
    w = make()
    w.write(rec(0, "waits"), "#c", opts())
    assert w.stats.pending == 1 and w.stats.write_errors == 1


# -- reading the log back --------------------------------------------------------------------


def test_readback_does_not_read_through_a_link(tmp_path: Path, outside: Path) -> None:
    """The history dedupe and the restart gap read the channel's files back: a link
    at the folder would have them read (and trust) another folder's lines."""
    root = tmp_path / "logs"
    (root / "net").mkdir(parents=True)
    (root / "net" / "#c").symlink_to(outside)
    (outside / "2026-01-01.log").write_text("2026-01-01T11:00:00+00:00 <mallory> planted\n")
    o = opts(formats=("text",))
    now = BASE
    assert readback.last_time(root, o, "net", "#c", now) is None
    fmt, lines = readback.logged_since(root, o, "net", "#c", now - timedelta(hours=2), now)
    assert fmt == "text" and lines == []
    (root / "net" / "#c").unlink()
    (root / "net" / "#c").mkdir()
    (root / "net" / "#c" / "2026-01-01.log").symlink_to(outside / "2026-01-01.log")
    assert readback.last_time(root, o, "net", "#c", now) is None  # a file link neither
