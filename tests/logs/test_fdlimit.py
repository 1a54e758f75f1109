"""The open-file limit: raised at start, ``max_open_files`` fitted under it, and an
``EMFILE`` (or ``ENFILE``) on opening a log closes least recently used logs and retries.

Issue 14: with ``max_open_files`` above ``ulimit -n`` the writer kept every log it had
opened and failed every further open for ever.  The limits are real where they can be:
a child process lowers its own ``RLIMIT_NOFILE`` and runs the writer under it (a test
process cannot raise its hard limit back).  The finer tests inject ``EMFILE`` into
``os.open`` for files under the log root, with a limit counted on the open ones.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from logbot.config.settings import LogOptions
from logbot.logs.fdlimit import (
    FD_HEADROOM,
    FdLimit,
    describe_plan,
    fit_open_files,
    log_file_room,
)
from logbot.logs.record import LogRecord
from logbot.logs.writer import LogWriter
from logbot.reactor.task import Clock

REPO = Path(__file__).resolve().parents[2]
BASE = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
WRITER_LOG = "logbot.logs.writer"


def rec(seconds: float, text: str, channel: str) -> LogRecord:
    return LogRecord(
        time=BASE + timedelta(seconds=seconds),
        time_source="server",
        type="message",
        network="net",
        channel=channel,
        nick="alice",
        text=text,
    )


def messages(path: Path) -> list[str]:
    return [line.split("> ", 1)[1] for line in path.read_text().splitlines()]


def run_child(code: str, *args: str) -> dict[str, Any]:
    """Run ``code`` in a fresh Python (the repository importable); its last stdout line
    is JSON, returned."""
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        cwd=REPO,
        env=dict(os.environ, PYTHONPATH=str(REPO)),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    result: dict[str, Any] = json.loads(proc.stdout.splitlines()[-1])
    result["stderr"] = proc.stderr
    return result


# -- the limit itself -----------------------------------------------------------------------


def test_room_keeps_the_headroom_or_half_of_a_small_limit() -> None:
    assert log_file_room(1024) == 1024 - FD_HEADROOM
    assert log_file_room(2 * FD_HEADROOM) == FD_HEADROOM
    assert log_file_room(64) == 32
    assert log_file_room(1) == 1


def test_max_open_files_is_clamped_with_one_warning_naming_both_numbers(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, WRITER_LOG)
    assert fit_open_files(512, FdLimit(1024, 4096)) == 512
    assert not caplog.records
    assert fit_open_files(10000, FdLimit(1024, 1024)) == 1024 - FD_HEADROOM
    (warning,) = [r.getMessage() for r in caplog.records]
    assert "max_open_files is 10000" in warning
    assert f"room for {1024 - FD_HEADROOM}" in warning
    assert "soft 1024, hard 1024" in warning


def test_check_says_what_run_would_do() -> None:
    """``logbot check`` prints this line."""
    assert describe_plan(512, FdLimit(20000, 20000)) == (
        "open-file limit here: soft 20000, hard 20000; max_open_files 512 fits"
    )
    assert describe_plan(512, FdLimit(256, 4096)) == (
        f"open-file limit here: soft 256, hard 4096; run raises the soft limit to "
        f"{512 + FD_HEADROOM}; max_open_files 512 fits"
    )
    assert describe_plan(10000, FdLimit(256, 256)) == (
        "open-file limit here: soft 256, hard 256; max_open_files 10000 would be clamped "
        f"to {256 - FD_HEADROOM}"
    )


RAISE = """
    import json, resource, sys
    from logbot.logs.fdlimit import raise_soft_limit
    soft, hard, wanted = map(int, sys.argv[1:])
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    before, after = raise_soft_limit(wanted)
    now = resource.getrlimit(resource.RLIMIT_NOFILE)
    print(json.dumps({"before": before.soft, "after": after.soft, "now": list(now)}))
"""


@pytest.mark.parametrize(
    ("soft", "hard", "wanted", "expected"),
    [
        (64, 4096, 1000, 1000 + FD_HEADROOM),  # raised as far as needed, not to the hard
        (64, 512, 10000, 512),  # capped by the hard limit
        (2048, 4096, 100, 2048),  # never lowered
    ],
)
def test_the_soft_limit_is_raised_toward_the_hard_limit(
    soft: int, hard: int, wanted: int, expected: int
) -> None:
    out = run_child(RAISE, str(soft), str(hard), str(wanted))
    assert out["before"] == soft
    assert out["after"] == expected
    assert out["now"] == [expected, hard]


# -- the writer under a real limit (child processes) -----------------------------------------

UNDER_LIMIT = """
    import json, os, resource, sys
    from datetime import UTC, datetime, timedelta
    from logbot.config.settings import LogOptions
    from logbot.logs.record import LogRecord
    from logbot.logs.writer import LogWriter
    from logbot.reactor.task import Clock

    root, channels, rounds, hog = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))
    clock = Clock()
    base = datetime(2026, 1, 1, 12, tzinfo=UTC)
    w = LogWriter(clock, root=root, max_open_files=10000, wall=base.timestamp)
    # Another part of the process takes more than its share: pipes until ``hog`` are left.
    held = []
    while hog and len(os.listdir("/proc/self/fd")) < 64 - hog:
        held.extend(os.pipe())
    o = LogOptions()  # text and jsonl: two files per channel
    for r in range(rounds):
        for i in range(channels):
            ch = f"#c{i}"
            w.write(LogRecord(base + timedelta(seconds=r), "server", "message", "net", ch,
                              nick="alice", text=f"r{r}"), ch, o)
    stats = (w.stats.lines_written, w.stats.pending, w.stats.write_errors, w.stats.dropped)
    w.close()
    print(json.dumps({"written": stats[0], "pending": stats[1], "errors": stats[2],
                      "dropped": stats[3], "max_open": w._handles.max_open}))
"""


@pytest.mark.parametrize(
    "hog",
    [
        pytest.param(0, id="clamped-to-the-limit"),
        pytest.param(12, id="limit-reached-anyway-EMFILE"),  # 12 left: opens fail, LRU closes
    ],
)
def test_every_line_written_under_a_real_low_limit(tmp_path: Path, hog: int) -> None:
    channels, rounds = 100, 3
    out = run_child(UNDER_LIMIT, str(tmp_path), str(channels), str(rounds), str(hog))
    assert out["written"] == channels * rounds * 2
    assert (out["pending"], out["errors"], out["dropped"]) == (0, 0, 0)
    for i in range(channels):
        folder = tmp_path / "net" / f"#c{i}"
        assert messages(folder / "2026-01-01.log") == [f"r{r}" for r in range(rounds)]
        jsonl = (folder / "2026-01-01.jsonl").read_text().splitlines()
        assert [json.loads(line)["text"] for line in jsonl] == [f"r{r}" for r in range(rounds)]
    assert "could not be written" not in out["stderr"]
    assert out["max_open"] == 32  # 64 - 32 kept: clamped
    assert out["stderr"].count("max_open_files is 10000") == 1
    if hog:
        assert out["stderr"].count("too many open files") == 1


# -- injected EMFILE / ENFILE ------------------------------------------------------------------


class OpenLimit:
    """``os.open`` of files under ``root`` fails with ``error`` while ``limit`` of them
    are open (counted in ``/proc/self/fd``), or always while ``always``."""

    def __init__(self, root: Path, limit: int, error: int = errno.EMFILE) -> None:
        self.root = str(root)
        self.limit = limit
        self.error = error
        self.always = False
        self.refused = 0
        self.real = os.open

    def open_here(self) -> int:
        count = 0
        for fd in os.listdir("/proc/self/fd"):
            try:
                if os.readlink(f"/proc/self/fd/{fd}").startswith(self.root):
                    count += 1
            except OSError:
                pass
        return count

    def open(self, path: Any, flags: int, mode: int = 0o777, **kw: Any) -> int:
        if os.fspath(path).startswith(self.root) and (
            self.always or self.open_here() >= self.limit
        ):
            self.refused += 1
            raise OSError(self.error, os.strerror(self.error), os.fspath(path))
        return self.real(path, flags, mode, **kw)


@pytest.fixture
def writer(clock: Clock, root: Path) -> Iterator[LogWriter]:
    w = LogWriter(clock, root=root, max_open_files=100, wall=BASE.timestamp)
    yield w
    w.close()


def _limit(monkeypatch: pytest.MonkeyPatch, root: Path, limit: int, error: int) -> OpenLimit:
    fake = OpenLimit(root, limit, error)
    monkeypatch.setattr(os, "open", fake.open)
    return fake


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc/self/fd")
@pytest.mark.parametrize("error", [errno.EMFILE, errno.ENFILE], ids=["EMFILE", "ENFILE"])
def test_an_open_refused_for_want_of_descriptors_closes_lru_logs_and_retries(
    writer: LogWriter,
    root: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    error: int,
) -> None:
    limit = _limit(monkeypatch, root, 8, error)
    o = LogOptions(formats=("text",))
    for r in range(4):
        for i in range(30):
            writer.write(rec(r * 100 + i, f"r{r}", f"#c{i}"), f"#c{i}", o)
            assert limit.open_here() <= 8
    for i in range(30):
        assert messages(root / "net" / f"#c{i}" / "2026-01-01.log") == [f"r{r}" for r in range(4)]
    assert writer.stats.lines_written == 120
    assert (writer.stats.pending, writer.stats.write_errors, writer.stats.dropped) == (0, 0, 0)
    # the file just written is open: the victims were the least recently used
    assert os.fspath(root / "net" / "#c29" / "2026-01-01.log") in {
        os.fspath(p) for p in writer._handles.lru
    }
    assert limit.refused > 0
    said = [r.getMessage() for r in caplog.records if r.name == WRITER_LOG]
    assert len([m for m in said if "too many open files" in m]) == 1  # once, not per open
    assert not [m for m in said if "cannot write" in m]


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc/self/fd")
def test_with_no_log_to_close_the_lines_wait_and_are_written_when_descriptors_free_up(
    writer: LogWriter, root: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    limit = _limit(monkeypatch, root, 1000, errno.EMFILE)
    limit.always = True  # the descriptors are all held by something else
    o = LogOptions(formats=("text",))
    writer.write(rec(0, "first", "#c"), "#c", o)
    writer.write(rec(1, "second", "#c"), "#c", o)
    assert writer.stats.pending == 2
    limit.always = False
    clock.advance(writer._outages.retry_interval)
    assert messages(root / "net" / "#c" / "2026-01-01.log") == ["first", "second"]
    assert writer.stats.pending == 0
