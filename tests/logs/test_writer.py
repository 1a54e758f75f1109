"""The log writer: where lines go, whole-line appends, handles, rotation, write errors.

Every timer runs on a ``task.Clock``; nothing sleeps.  Write errors are provoked two
ways, so the tests mean something as root too (where ``chmod`` stops nothing): real
obstacles in the file system (a file where the channel's directory should be; a
read-only directory when not root) and injected ones (``os.write`` failing with
``ENOSPC``, or writing only half a line).
"""

from __future__ import annotations

import errno
import json
import logging
import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from freezegun import freeze_time

from logbot.config.settings import LogOptions
from logbot.logs import paths
from logbot.logs.record import LogRecord
from logbot.logs.writer import BUFFER_LIMIT, LogWriter
from logbot.reactor.task import Clock
from logbot.reactor.testing import MemoryReactorClock
from tests.logs.torn import whole_lines_and_torn_tail

BASE = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
BERLIN = ZoneInfo("Europe/Berlin")
WRITER_LOG = "logbot.logs.writer"
REPO = Path(__file__).resolve().parents[2]


def rec(
    when: datetime, text: str = "hi", channel: str = "#c", network: str = "net", nick: str = "nick"
) -> LogRecord:
    return LogRecord(
        time=when,
        time_source="server",
        type="message",
        network=network,
        channel=channel,
        nick=nick,
        text=text,
    )


def opts(**kw: Any) -> LogOptions:
    kw.setdefault("formats", ("text",))
    # These tests route lines by their stamps, months from the real clock: trust them all
    # (the tolerance has its own tests, in test_server_time.py).
    kw.setdefault("server_time_tolerance", None)
    return LogOptions(**kw)


def messages(path: Path) -> list[str]:
    """The message texts of a text log, in order."""
    return [line.split("> ", 1)[1] for line in path.read_text().splitlines()]


def at(seconds: float) -> datetime:
    return BASE + timedelta(seconds=seconds)


def chan(root: Path, channel: str = "#c", network: str = "net") -> Path:
    return root / network / channel


def compressing(spawner: MemoryReactorClock) -> list[Path]:
    """The file each fake gzip child was given (as its stdin), in order."""
    return [proto.path for proto, *_ in spawner.spawnedProcesses]


class Fault:
    """Makes ``os.write`` on log files fail: ``"enospc"`` raises, ``"short"`` writes half."""

    def __init__(self, root: Path) -> None:
        self.root = str(root)
        self.mode: str | None = None
        self.writes = 0  # os.write calls on log files
        self.real = os.write

    def _ours(self, fd: int) -> bool:
        try:
            return os.readlink(f"/proc/self/fd/{fd}").startswith(self.root)
        except OSError:
            return True

    def write(self, fd: int, data: bytes) -> int:
        if not self._ours(fd):
            return self.real(fd, data)
        self.writes += 1
        if self.mode == "enospc":
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        if self.mode == "short":
            half = len(data) // 2
            return self.real(fd, bytes(data)[:half])
        return self.real(fd, data)


@pytest.fixture
def fault(root: Path, monkeypatch: pytest.MonkeyPatch) -> Fault:
    f = Fault(root)
    monkeypatch.setattr(os, "write", f.write)
    return f


def timers(clock: Clock) -> list[Any]:
    """The clock's pending calls but the once-a-minute end-of-day check."""
    return [c for c in clock.getDelayedCalls() if getattr(c.func, "__name__", "") != "_day_check"]


def warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == WRITER_LOG and r.levelno == logging.WARNING
    ]


def infos(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage() for r in caplog.records if r.name == WRITER_LOG and r.levelno == logging.INFO
    ]


# -- where a line goes ----------------------------------------------------------------------


def test_one_file_per_format_with_whole_lines(make: Callable[..., LogWriter], root: Path) -> None:
    w = make()
    o = opts(formats=("text", "jsonl"))
    for i in range(3):
        w.write(rec(at(i), f"m{i}"), "#c", o)
    text, jsonl = chan(root) / "2026-01-01.log", chan(root) / "2026-01-01.jsonl"
    assert messages(text) == ["m0", "m1", "m2"]
    assert [json.loads(line)["text"] for line in jsonl.read_text().splitlines()] == [
        "m0",
        "m1",
        "m2",
    ]
    assert text.read_bytes().endswith(b"\n") and jsonl.read_bytes().endswith(b"\n")
    assert w.stats.lines_written == 6
    assert w.stats.files_open == 2


def test_directories_and_files_are_created_with_their_modes(
    make: Callable[..., LogWriter], root: Path
) -> None:
    old = os.umask(0o022)
    try:
        w = make()
        w.write(rec(at(0)), "#c", opts())
    finally:
        os.umask(old)
    assert chan(root).stat().st_mode & 0o777 == 0o755
    assert (root / "net").stat().st_mode & 0o777 == 0o755
    assert (chan(root) / "2026-01-01.log").stat().st_mode & 0o777 == 0o644


def test_appends_to_an_existing_file(make: Callable[..., LogWriter], root: Path) -> None:
    chan(root).mkdir(parents=True)
    (chan(root) / "2026-01-01.log").write_text("2026-01-01T11:00:00+00:00 <old> before\n")
    w = make()
    w.write(rec(at(0), "after"), "#c", opts())
    assert messages(chan(root) / "2026-01-01.log") == ["before", "after"]


def test_midnight_utc(make: Callable[..., LogWriter], root: Path) -> None:
    w = make()
    o = opts()
    w.write(rec(datetime(2026, 1, 1, 23, 59, 59, tzinfo=UTC), "late"), "#c", o)
    w.write(rec(datetime(2026, 1, 2, 0, 0, 0, tzinfo=UTC), "early"), "#c", o)
    assert messages(chan(root) / "2026-01-01.log") == ["late"]
    assert messages(chan(root) / "2026-01-02.log") == ["early"]


def berlin(
    year: int, month: int, day: int, hour: int, minute: int, second: int, fold: int = 0
) -> datetime:
    """A Berlin wall-clock time, as UTC."""
    local = datetime(year, month, day, hour, minute, second, tzinfo=BERLIN, fold=fold)
    return local.astimezone(UTC)


def test_midnight_in_berlin_across_spring_forward(
    make: Callable[..., LogWriter], root: Path
) -> None:
    w = make()
    o = opts(timezone="Europe/Berlin")
    stamps = [
        (berlin(2026, 3, 28, 23, 59, 59), "2026-03-28"),
        (berlin(2026, 3, 29, 0, 0, 0), "2026-03-29"),
        (berlin(2026, 3, 29, 1, 59, 59), "2026-03-29"),  # then 02:00 -> 03:00
        (berlin(2026, 3, 29, 3, 0, 0), "2026-03-29"),
        (berlin(2026, 3, 29, 23, 59, 59), "2026-03-29"),
        (berlin(2026, 3, 30, 0, 0, 0), "2026-03-30"),
    ]
    assert stamps[3][0] - stamps[2][0] == timedelta(seconds=1)
    _write_and_check_days(w, o, root, stamps)


def test_midnight_in_berlin_across_fall_back(make: Callable[..., LogWriter], root: Path) -> None:
    w = make()
    o = opts(timezone="Europe/Berlin")
    stamps = [
        (berlin(2026, 10, 24, 23, 59, 59), "2026-10-24"),
        (berlin(2026, 10, 25, 0, 0, 0), "2026-10-25"),
        (berlin(2026, 10, 25, 2, 30, 0, fold=0), "2026-10-25"),  # 02:30 CEST
        (berlin(2026, 10, 25, 2, 30, 0, fold=1), "2026-10-25"),  # 02:30 CET, an hour on
        (berlin(2026, 10, 25, 23, 59, 59), "2026-10-25"),
        (berlin(2026, 10, 26, 0, 0, 0), "2026-10-26"),
    ]
    assert stamps[3][0] - stamps[2][0] == timedelta(hours=1)
    _write_and_check_days(w, o, root, stamps)


def _write_and_check_days(
    w: LogWriter, o: LogOptions, root: Path, stamps: list[tuple[datetime, str]]
) -> None:
    """Write message m<i> at each stamp; each day's file holds the messages of that day."""
    for index, (when, _) in enumerate(stamps):
        w.write(rec(when, f"m{index}"), "#c", o)
    for day in sorted({d for _, d in stamps}):
        expected = [f"m{i}" for i, (_, d) in enumerate(stamps) if d == day]
        assert messages(chan(root) / f"{day}.log") == expected


def test_the_time_in_the_line_is_local(make: Callable[..., LogWriter], root: Path) -> None:
    w = make()
    w.write(rec(berlin(2026, 3, 29, 3, 0, 0)), "#c", opts(timezone="Europe/Berlin"))
    assert (chan(root) / "2026-03-29.log").read_text().startswith("2026-03-29T03:00:00  ")


def test_a_late_stamp_goes_to_the_newer_file(make: Callable[..., LogWriter], root: Path) -> None:
    w = make()
    o = opts()
    w.write(rec(datetime(2026, 1, 1, 23, 0, tzinfo=UTC), "a"), "#c", o)
    w.write(rec(datetime(2026, 1, 2, 0, 0, 1, tzinfo=UTC), "b"), "#c", o)
    w.write(rec(datetime(2026, 1, 1, 23, 59, tzinfo=UTC), "late"), "#c", o)  # yesterday
    w.write(rec(datetime(2025, 12, 31, 12, 0, tzinfo=UTC), "very late"), "#c", o)
    assert messages(chan(root) / "2026-01-01.log") == ["a"]
    assert messages(chan(root) / "2026-01-02.log") == ["b", "late", "very late"]
    # The largest date is per (network, channel): another channel starts at its own date.
    w.write(rec(datetime(2026, 1, 1, 23, 59, tzinfo=UTC), "x", channel="#d"), "#d", o)
    w.write(rec(datetime(2026, 1, 1, 23, 59, tzinfo=UTC), "y", network="other"), "#c", o)
    assert messages(chan(root, "#d") / "2026-01-01.log") == ["x"]
    assert messages(chan(root, network="other") / "2026-01-01.log") == ["y"]


def test_a_naive_time_is_taken_as_utc(make: Callable[..., LogWriter], root: Path) -> None:
    w = make()
    w.write(rec(datetime(2026, 1, 1, 23, 59)), "#c", opts(timezone="Europe/Berlin"))
    assert (chan(root) / "2026-01-02.log").exists()


def test_the_hot_path_does_not_render_paths(
    make: Callable[..., LogWriter], monkeypatch: pytest.MonkeyPatch, root: Path
) -> None:
    renders: list[date] = []
    real = paths.render_path

    def counting(template: str, network: str, channel: str, day: date) -> str:
        renders.append(day)
        return real(template, network, channel, day)

    monkeypatch.setattr(paths, "render_path", counting)
    w = make()
    o = opts(formats=("text", "jsonl"), timezone="Europe/Berlin")
    for i in range(1000):
        w.write(rec(at(i)), "#c", o)
    assert renders == [date(2026, 1, 1)]
    w.write(rec(datetime(2026, 1, 1, 23, 0, tzinfo=UTC)), "#c", o)  # midnight in Berlin
    assert renders == [date(2026, 1, 1), date(2026, 1, 2)]
    assert w.stats.lines_written == 2002


def test_one_write_per_line(make: Callable[..., LogWriter], fault: Fault) -> None:
    w = make()
    o = opts(formats=("text", "jsonl"))
    for i in range(50):
        w.write(rec(at(i), "x" * (i * 100)), "#c", o)
    assert fault.writes == 100


def test_odd_text_is_encoded_not_raised(make: Callable[..., LogWriter], root: Path) -> None:
    w = make()
    o = opts()
    w.write(rec(at(0), "caf\udce9"), "#c", o)  # a byte decoded with surrogateescape
    w.write(rec(at(1), "lone \ud800 surrogate"), "#c", o)
    data = (chan(root) / "2026-01-01.log").read_bytes()
    assert b"<nick> caf\xe9\n" in data
    assert b"<nick> lone ? surrogate\n" in data


def test_new_options_keep_the_file(make: Callable[..., LogWriter], root: Path) -> None:
    spawner = MemoryReactorClock()
    w = make(spawner=spawner)
    w.write(rec(at(0), "a"), "#c", opts(compress="gzip"))
    w.write(rec(at(1), "b"), "#c", opts(compress="gzip"))  # equal, but a new object
    assert messages(chan(root) / "2026-01-01.log") == ["a", "b"]
    assert spawner.spawnedProcesses == []  # a live file is never compressed
    assert w.stats.files_open == 1


# -- unsafe paths and bad options -----------------------------------------------------------


def test_an_unsafe_path_is_logged_once_and_never_raised(
    make: Callable[..., LogWriter], root: Path, caplog: pytest.LogCaptureFixture
) -> None:
    w = make()
    o = opts(path="../{channel}/{date:%Y-%m-%d}.log")
    for i in range(3):
        w.write(rec(at(i)), "#c", o)
    assert w.stats.write_errors == 3
    assert w.stats.dropped == 3
    errors = [r for r in caplog.records if r.name == WRITER_LOG and r.levelno == logging.ERROR]
    assert len(errors) == 1 and "no safe log path" in errors[0].getMessage()
    assert not root.parent.joinpath("#c").exists()
    # A template with an unknown field does not raise either.
    w.write(rec(at(5)), "#c", opts(path="{nope}/{channel}.log"))
    assert w.stats.write_errors == 4


def test_unknown_format_and_time_zone_are_logged(
    make: Callable[..., LogWriter], root: Path, caplog: pytest.LogCaptureFixture
) -> None:
    w = make()
    w.write(rec(at(0)), "#c", opts(formats=("text", "xml"), timezone="Nowhere/Land"))
    assert messages(chan(root) / "2026-01-01.log") == ["hi"]
    text = caplog.text
    assert "unknown log format 'xml'" in text and "unknown time zone 'Nowhere/Land'" in text


# -- bounded handles ------------------------------------------------------------------------


def fds_under(root: Path) -> int:
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            if os.readlink(f"/proc/self/fd/{fd}").startswith(str(root)):
                count += 1
        except OSError:
            pass
    return count


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc/self/fd")
def test_at_most_max_open_files(make: Callable[..., LogWriter], root: Path) -> None:
    w = make(max_open_files=2)
    o = opts(formats=("text", "jsonl"))
    most = 0
    for round_ in range(3):
        for n in range(50):
            w.write(rec(at(round_ * 100 + n), f"r{round_}", channel=f"#c{n}"), f"#c{n}", o)
            assert w.stats.files_open <= 2
            most = max(most, fds_under(root))
    assert most == 2
    for n in range(50):
        assert messages(chan(root, f"#c{n}") / "2026-01-01.log") == ["r0", "r1", "r2"]
        assert len((chan(root, f"#c{n}") / "2026-01-01.jsonl").read_text().splitlines()) == 3
    assert w.stats.lines_written == 300


def test_reopen_closes_everything(make: Callable[..., LogWriter], root: Path) -> None:
    w = make()
    o = opts()
    w.write(rec(at(0), "before"), "#c", o)
    live = chan(root) / "2026-01-01.log"
    live.rename(live.with_name("2026-01-01.log.1"))  # what logrotate does
    w.reopen()
    assert w.stats.files_open == 0
    w.write(rec(at(1), "after"), "#c", o)
    assert messages(live.with_name("2026-01-01.log.1")) == ["before"]
    assert messages(live) == ["after"]


# -- kill -9 leaves whole lines -------------------------------------------------------------


CHILD = textwrap.dedent("""
    import sys
    from datetime import UTC, datetime, timedelta
    sys.path.insert(0, sys.argv[1])
    from logbot.logs.record import LogRecord
    from logbot.config.settings import LogOptions
    from logbot.logs.writer import LogWriter
    from logbot.reactor.task import Clock

    w = LogWriter(Clock(), root=sys.argv[2])
    o = LogOptions(formats=("text", "jsonl"))
    base = datetime(2026, 1, 1, tzinfo=UTC)
    i = 0
    while True:
        text = "x" * (i * 7919 % 3000) + f" {i}"
        w.write(LogRecord(time=base + timedelta(microseconds=i), time_source="local",
                          type="message", network="net", channel="#c", nick="n",
                          text=text), "#c", o)
        if i == 3000:
            print("ready", flush=True)
        i += 1
""")


def test_kill_9_leaves_only_whole_lines(
    root: Path, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(REPO), str(root)], stdout=subprocess.PIPE
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline() == b"ready\n"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    text_path, jsonl_path = chan(root) / "2026-01-01.log", chan(root) / "2026-01-01.jsonl"
    text, text_torn = whole_lines_and_torn_tail(text_path)
    jsonl, jsonl_torn = whole_lines_and_torn_tail(jsonl_path)
    numbers = [int(line.rsplit(" ", 1)[1]) for line in text]
    assert numbers == list(range(len(numbers))) and len(numbers) > 3000
    for index, line in enumerate(text):
        assert line.split("> ", 1)[1] == "x" * (index * 7919 % 3000) + f" {index}"
    objs = [json.loads(line) for line in jsonl]
    assert [int(o["text"].rsplit(" ", 1)[1]) for o in objs] == list(range(len(objs)))
    # The next writer to open the files cuts a torn tail off (and says so) first.
    w = LogWriter(clock, root=root)
    w.write(
        rec(datetime(2026, 1, 1, 23, tzinfo=UTC), "after"), "#c", opts(formats=("text", "jsonl"))
    )
    w.close()
    assert text_path.read_text().split("\n")[:-2] == text
    assert jsonl_path.read_text().split("\n")[:-2] == jsonl
    assert caplog.text.count("removed a torn last line") == text_torn + jsonl_torn


# -- size rotation --------------------------------------------------------------------------

LINE = len("2026-01-01T12:00:00  <nick> m00\n")  # 32 bytes


def parts_in_order(directory: Path, live: str = "2026-01-01.log") -> list[Path]:
    names = sorted(p.name for p in directory.iterdir() if p.name != live)
    return [directory / n for n in names] + [directory / live]


@pytest.mark.parametrize("flush", ["line", "interval"])
def test_size_rotation(
    make: Callable[..., LogWriter], root: Path, clock: Clock, flush: str
) -> None:
    w = make()
    o = opts(rotation="size", max_bytes=5 * LINE + LINE // 2, flush=flush)
    for i in range(20):
        w.write(rec(at(i), f"m{i:02d}"), "#c", o)
    w.flush()
    files = parts_in_order(chan(root))
    assert [f.name for f in files] == [
        "2026-01-01.001.log",
        "2026-01-01.002.log",
        "2026-01-01.003.log",
        "2026-01-01.log",
    ]
    assert all(f.stat().st_size <= 5 * LINE + LINE // 2 for f in files)
    assert [f.stat().st_size // LINE for f in files] == [5, 5, 5, 5]
    assert [m for f in files for m in messages(f)] == [f"m{i:02d}" for i in range(20)]


def test_a_line_longer_than_max_bytes_goes_in_alone(
    make: Callable[..., LogWriter], root: Path
) -> None:
    w = make()
    o = opts(rotation="size", max_bytes=200)
    for i, text in enumerate(["a", "b", "L" * 500, "c"]):
        w.write(rec(at(i), text), "#c", o)
    files = parts_in_order(chan(root))
    assert [messages(f) for f in files] == [["a", "b"], ["L" * 500], ["c"]]


def test_size_counts_what_was_there(make: Callable[..., LogWriter], root: Path) -> None:
    chan(root).mkdir(parents=True)
    (chan(root) / "2026-01-01.log").write_text("2026-01-01T11:00:00  <old> x\n" * 6)  # 180 B
    (chan(root) / "2026-01-01.004.log.gz").write_bytes(b"")  # part numbers go on from it
    w = make()
    w.write(rec(at(0), "new"), "#c", opts(rotation="size", max_bytes=200))
    assert messages(chan(root) / "2026-01-01.005.log") == ["x"] * 6
    assert messages(chan(root) / "2026-01-01.log") == ["new"]


def test_size_rotation_compresses_the_parts(make: Callable[..., LogWriter], root: Path) -> None:
    spawner = MemoryReactorClock()
    w = make(spawner=spawner, gzip_argv=["gzip", "-n", "-c"])
    o = opts(rotation="size", max_bytes=2 * LINE + LINE // 2, compress="gzip")
    for i in range(6):  # two lines a file
        w.write(rec(at(i), f"m{i:02d}"), "#c", o)
    assert compressing(spawner) == [
        chan(root) / "2026-01-01.001.log",
        chan(root) / "2026-01-01.002.log",
    ]
    # a filter: the file is its stdin, never a path it would look up again
    assert [args for _, _, args, *_ in spawner.spawnedProcesses] == [["gzip", "-n", "-c"]] * 2


# -- date rotation and compression ----------------------------------------------------------


def test_date_rotation_compresses_the_old_files(make: Callable[..., LogWriter], root: Path) -> None:
    spawner = MemoryReactorClock()
    w = make(spawner=spawner, gzip_argv=["gzip"])
    o = opts(formats=("text", "jsonl"), compress="gzip")
    w.write(rec(at(0)), "#c", o)
    assert spawner.spawnedProcesses == []
    w.write(rec(at(86400)), "#c", o)
    assert compressing(spawner) == [
        chan(root) / "2026-01-01.log",
        chan(root) / "2026-01-01.jsonl",
    ]
    assert w.stats.files_open == 2  # the new day's files only
    env = spawner.spawnedProcesses[0][3]
    assert set(env) == {"PATH", "LC_ALL"}  # a minimal environment: no GZIP=...


def test_without_compress_nothing_is_spawned(make: Callable[..., LogWriter]) -> None:
    spawner = MemoryReactorClock()
    w = make(spawner=spawner)
    w.write(rec(at(0)), "#c", opts())
    w.write(rec(at(86400)), "#c", opts())
    assert spawner.spawnedProcesses == []


# -- flush "interval" and fsync -------------------------------------------------------------


def test_flush_interval_writes_one_batch(
    make: Callable[..., LogWriter], clock: Clock, fault: Fault, root: Path
) -> None:
    w = make()
    o = opts(flush="interval", flush_interval=2.0)
    for i in range(10):
        w.write(rec(at(i), f"m{i}"), "#c", o)
    assert fault.writes == 0
    clock.advance(1.9)
    assert fault.writes == 0
    clock.advance(0.1)
    assert fault.writes == 1
    assert messages(chan(root) / "2026-01-01.log") == [f"m{i}" for i in range(10)]
    assert w.stats.lines_written == 10
    clock.advance(10)
    assert fault.writes == 1  # nothing buffered: no write, no timer
    assert timers(clock) == []


def test_flush_interval_writes_at_64k_and_on_flush_and_close(
    make: Callable[..., LogWriter], fault: Fault, root: Path, clock: Clock
) -> None:
    w = make()
    o = opts(flush="interval", flush_interval=60.0)
    big = "y" * 1000
    n = 0
    while fault.writes == 0:
        w.write(rec(at(n), f"{big} {n}"), "#c", o)
        n += 1
    assert 64 <= n <= 66 and (chan(root) / "2026-01-01.log").stat().st_size >= BUFFER_LIMIT
    at_64k = fault.writes  # one write per page or so (see rotation.page_runs)
    w.write(rec(at(n), "tail"), "#c", o)
    assert fault.writes == at_64k
    w.flush()
    assert fault.writes == at_64k + 1
    assert messages(chan(root) / "2026-01-01.log")[-1] == "tail"
    w.write(rec(at(n + 1), "at close"), "#c", o)
    w.close()
    assert messages(chan(root) / "2026-01-01.log")[-1] == "at close"
    assert timers(clock) == []


def test_fsync_interval(
    make: Callable[..., LogWriter], clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[int] = []
    real = os.fsync

    def fsync(fd: int) -> None:
        synced.append(fd)
        real(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    w = make()
    o = opts(formats=("text", "jsonl"), fsync_interval=10.0)
    w.write(rec(at(0)), "#c", o)
    w.write(rec(at(1)), "#c", o)
    assert synced == []
    clock.advance(10)
    assert len(synced) == 2  # each file written since the last fsync, once
    clock.advance(30)
    assert len(synced) == 2  # nothing written: nothing to fsync
    w.write(rec(at(2)), "#c", o)
    clock.advance(10)
    assert len(synced) == 4
    w.close()
    assert len(synced) == 6  # close fsyncs every open file


# -- write errors ---------------------------------------------------------------------------


def test_enospc_outage(
    make: Callable[..., LogWriter],
    clock: Clock,
    fault: Fault,
    root: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    w = make(retry_interval=5.0)
    o = opts()
    live = chan(root) / "2026-01-01.log"
    w.write(rec(at(0), "m0"), "#c", o)
    fault.mode = "enospc"
    for i in range(1, 11):
        w.write(rec(at(i), f"m{i}"), "#c", o)  # never raises
    assert w.stats.write_errors == 1  # one attempt: later lines queue without a syscall
    assert w.stats.pending == 10
    assert fault.writes == 2
    [warning] = warnings(caplog)
    assert str(live) in warning and "No space left on device" in warning
    clock.advance(5.0)
    assert w.stats.write_errors == 2 and len(warnings(caplog)) == 1
    fault.mode = None
    w.write(rec(at(11), "m11"), "#c", o)  # behind the pending lines, not before them
    assert messages(live) == ["m0"]
    clock.advance(5.0)
    assert messages(live) == [f"m{i}" for i in range(12)]
    assert w.stats.pending == 0 and w.stats.lines_written == 12
    assert infos(caplog) == [f"resumed writing {live} after 2 errors; 11 delayed lines written"]
    w.write(rec(at(12), "m12"), "#c", o)  # back on the fast path
    assert messages(live)[-1] == "m12"
    assert timers(clock) == []


def test_a_short_write_is_undone(
    make: Callable[..., LogWriter],
    clock: Clock,
    fault: Fault,
    root: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    w = make()
    o = opts(formats=("text", "jsonl"))
    for i in range(3):
        w.write(rec(at(i), f"m{i}"), "#c", o)
    text, jsonl = chan(root) / "2026-01-01.log", chan(root) / "2026-01-01.jsonl"
    before = text.read_bytes(), jsonl.read_bytes()
    fault.mode = "short"
    w.write(rec(at(3), "m3"), "#c", o)
    assert (text.read_bytes(), jsonl.read_bytes()) == before  # no torn line stays
    assert w.stats.write_errors == 2 and w.stats.pending == 2
    assert len(warnings(caplog)) == 2  # one per file
    assert "wrote" in warnings(caplog)[0] and "undone" in warnings(caplog)[0]
    fault.mode = None
    clock.advance(5.0)
    assert messages(text) == ["m0", "m1", "m2", "m3"]
    assert [json.loads(x)["text"] for x in jsonl.read_text().splitlines()] == [
        "m0",
        "m1",
        "m2",
        "m3",
    ]


def test_a_short_batch_is_undone_whole(
    make: Callable[..., LogWriter], clock: Clock, fault: Fault, root: Path
) -> None:
    w = make()
    o = opts(flush="interval", flush_interval=1.0)
    for i in range(5):
        w.write(rec(at(i), f"m{i}"), "#c", o)
    fault.mode = "short"
    clock.advance(1.0)
    live = chan(root) / "2026-01-01.log"
    assert live.read_bytes() == b""
    assert w.stats.pending == 5
    fault.mode = None
    w.write(rec(at(5), "m5"), "#c", o)  # queued behind
    clock.advance(5.0)
    assert messages(live) == [f"m{i}" for i in range(6)]


def test_a_file_where_the_directory_should_be(
    make: Callable[..., LogWriter], clock: Clock, root: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # A real obstacle that stops root as well: ENOTDIR / EEXIST from the file system.
    (root / "net").mkdir(parents=True)
    chan(root).write_text("in the way")
    w = make(retry_interval=5.0)
    o = opts()
    for i in range(5):
        w.write(rec(at(i), f"m{i}"), "#c", o)
    assert w.stats.write_errors == 1 and w.stats.pending == 5
    [warning] = warnings(caplog)
    assert str(chan(root) / "2026-01-01.log") in warning
    clock.advance(5.0)
    clock.advance(5.0)
    assert w.stats.write_errors == 3 and len(warnings(caplog)) == 1
    chan(root).unlink()
    w.write(rec(at(5), "m5"), "#c", o)
    clock.advance(5.0)
    assert messages(chan(root) / "2026-01-01.log") == [f"m{i}" for i in range(6)]
    assert w.stats.pending == 0
    live = chan(root) / "2026-01-01.log"
    assert infos(caplog) == [f"resumed writing {live} after 3 errors; 6 delayed lines written"]


def _read_only(path: Path, on: bool) -> None:
    """chmod for ordinary users; as root (whom modes do not stop) the immutable flag."""
    if os.geteuid() == 0:
        subprocess.run(["chattr", "+i" if on else "-i", str(path)], check=True, capture_output=True)
    else:
        os.chmod(path, 0o555 if on else 0o755)


def test_a_read_only_directory(
    make: Callable[..., LogWriter], clock: Clock, root: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (root / "net").mkdir(parents=True)
    _read_only(root / "net", True)
    try:
        w = make(retry_interval=5.0)
        o = opts()
        for i in range(4):
            w.write(rec(at(i), f"m{i}"), "#c", o)
        [warning] = warnings(caplog)
        assert "Permission denied" in warning or "Operation not permitted" in warning
        clock.advance(5.0)
        assert len(warnings(caplog)) == 1
    finally:
        _read_only(root / "net", False)
    clock.advance(5.0)
    assert messages(chan(root) / "2026-01-01.log") == ["m0", "m1", "m2", "m3"]


def test_one_warning_per_outage(
    make: Callable[..., LogWriter], clock: Clock, fault: Fault, caplog: pytest.LogCaptureFixture
) -> None:
    w = make()
    o = opts()
    for outage in range(2):
        fault.mode = "enospc"
        for i in range(3):
            w.write(rec(at(outage * 10 + i)), "#c", o)
        clock.advance(5.0)
        fault.mode = None
        clock.advance(5.0)
    assert len(warnings(caplog)) == 2
    assert len(infos(caplog)) == 2


def test_pending_is_bounded_and_the_oldest_go(
    make: Callable[..., LogWriter],
    clock: Clock,
    fault: Fault,
    root: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    w = make(max_pending=5)
    o = opts()
    fault.mode = "enospc"
    for i in range(8):
        w.write(rec(at(i), f"m{i}"), "#c", o)
    assert w.stats.pending == 5 and w.stats.dropped == 3
    fault.mode = None
    clock.advance(5.0)
    assert messages(chan(root) / "2026-01-01.log") == ["m3", "m4", "m5", "m6", "m7"]
    [info] = infos(caplog)
    assert "5 delayed lines written" in info and "3 lines dropped" in info


def test_the_oldest_are_dropped_across_files(
    make: Callable[..., LogWriter], clock: Clock, fault: Fault, root: Path
) -> None:
    w = make(max_pending=4)
    o = opts()
    fault.mode = "enospc"
    for i in range(3):
        for c in ("#a", "#b"):
            w.write(rec(at(i), f"{c}{i}", channel=c), c, o)
    assert w.stats.dropped == 2
    fault.mode = None
    clock.advance(5.0)
    assert messages(chan(root, "#a") / "2026-01-01.log") == ["#a1", "#a2"]
    assert messages(chan(root, "#b") / "2026-01-01.log") == ["#b1", "#b2"]


def test_the_day_changes_during_an_outage(
    make: Callable[..., LogWriter], clock: Clock, fault: Fault, root: Path
) -> None:
    spawner = MemoryReactorClock()
    w = make(spawner=spawner, gzip_argv=["gzip"])
    o = opts(compress="gzip")
    fault.mode = "enospc"
    w.write(rec(at(0), "day1"), "#c", o)
    w.write(rec(at(86400), "day2"), "#c", o)
    assert spawner.spawnedProcesses == []  # the old file is not done yet
    fault.mode = None
    clock.advance(5.0)
    assert messages(chan(root) / "2026-01-01.log") == ["day1"]
    assert messages(chan(root) / "2026-01-02.log") == ["day2"]
    assert compressing(spawner) == [chan(root) / "2026-01-01.log"]  # once drained
    assert w.stats.files_open == 1


def test_close_reports_the_lines_it_could_not_write(
    make: Callable[..., LogWriter], fault: Fault, caplog: pytest.LogCaptureFixture, clock: Clock
) -> None:
    w = make()
    fault.mode = "enospc"
    for i in range(3):
        w.write(rec(at(i)), "#c", opts())
    w.close()
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and errors[0].startswith("3 log lines could not be written")
    assert timers(clock) == []
    assert w.stats.files_open == 0


def test_close_writes_pending_lines_when_it_can(
    make: Callable[..., LogWriter], fault: Fault, root: Path
) -> None:
    w = make()
    fault.mode = "enospc"
    w.write(rec(at(0), "a"), "#c", opts())
    fault.mode = None
    w.close()
    assert messages(chan(root) / "2026-01-01.log") == ["a"]
    assert w.stats.pending == 0


# -- retention ------------------------------------------------------------------------------

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC).timestamp()


def aged(path: Path, days: float, now: float = NOW, text: str = "x\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        path.write_text(text)
    os.utime(path, (now - days * 86400, now - days * 86400))
    return path


def test_retention_sweeps_at_first_write_then_hourly(
    make: Callable[..., LogWriter], clock: Clock, root: Path
) -> None:
    d = chan(root)
    old = [
        aged(d / "2026-05-01.log", 31),
        aged(d / "2026-05-01.jsonl.gz", 31),
        aged(d / "2026-05-02.003.log.gz", 30),
    ]
    young = aged(d / "2026-05-28.log", 4)
    other = aged(d / "notes.txt", 100)
    elsewhere = aged(chan(root, "#other") / "2026-01-01.log", 100)  # not written to
    w = make(wall=lambda: NOW)
    o = opts(retention_days=7)
    w.write(rec(datetime(2026, 6, 1, 11, tzinfo=UTC)), "#c", o)
    assert not any(p.exists() for p in old)
    assert young.exists() and other.exists() and elsewhere.exists()
    live = aged(d / "2026-06-01.log", 40)  # live: never deleted, however old it looks
    aged(young, 8)
    clock.advance(3599)
    assert young.exists()
    clock.advance(1)
    assert not young.exists() and live.exists()
    assert w.sweep() == []


def test_retention_takes_rotated_files(make: Callable[..., LogWriter], root: Path) -> None:
    now = [NOW]
    w = make(wall=lambda: now[0])
    o = opts(retention_days=1)
    w.write(rec(datetime(2026, 6, 1, 11, tzinfo=UTC)), "#c", o)
    w.write(rec(datetime(2026, 6, 2, 11, tzinfo=UTC)), "#c", o)
    now[0] += 3 * 86400
    for name in ("2026-06-01.log", "2026-06-02.log"):
        aged(chan(root) / name, 2, now=now[0])
    assert w.sweep() == [chan(root) / "2026-06-01.log"]
    assert (chan(root) / "2026-06-02.log").exists()  # live


def test_retention_with_frozen_time(
    make: Callable[..., LogWriter], clock: Clock, root: Path
) -> None:
    with freeze_time("2026-06-01 12:00:00") as frozen:
        d = chan(root)
        old, young = aged(d / "2026-05-20.log", 8), aged(d / "2026-05-27.log", 5)
        w = make()  # wall: time.time(), frozen
        w.write(rec(datetime(2026, 6, 1, 11, tzinfo=UTC)), "#c", opts(retention_days=7))
        assert not old.exists() and young.exists()
        frozen.tick(timedelta(days=3))
        clock.advance(3600)
        assert not young.exists()
        assert (d / "2026-06-01.log").exists()


def test_a_torn_tail_left_by_a_crash_is_cut_on_open(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from logbot.logs.logfile import LogFile

    path = tmp_path / "x.log"
    path.write_bytes(b"whole line\nhalf a li")
    f = LogFile(path)
    f.open()
    f.append(b"next line\n")
    f.close_fd()
    assert path.read_bytes() == b"whole line\nnext line\n"
    assert "removed a torn last line (9 bytes)" in caplog.text
    path.write_bytes(b"no newline at all")
    f.open()
    f.close_fd()
    assert path.read_bytes() == b""
    path.write_bytes(b"fine\n")
    f.open()
    f.close_fd()
    assert path.read_bytes() == b"fine\n"


# -- hold/release: the lines of one read from the server, one write per file -------------


def test_held_lines_reach_the_disk_at_release_with_one_write_per_file(
    make: Callable[..., LogWriter], root: Path, fault: Fault
) -> None:
    w = make()
    o = opts(formats=("text", "jsonl"))
    w.write(rec(at(0), "before"), "#c", o)  # opens the files outside a hold
    writes = fault.writes
    assert w.hold() and not w.hold()  # a nested hold is refused (the outer one releases)
    for i in range(50):
        w.write(rec(at(1 + i), f"m{i}"), "#c", o)
        w.write(rec(at(1 + i), f"d{i}", channel="#d"), "#d", o)
    assert messages(chan(root) / "2026-01-01.log") == ["before"]
    w.release()
    size = sum(p.stat().st_size for p in root.rglob("*.*"))
    # far fewer writes than lines: about two per page of each file (rotation.page_runs)
    assert 4 <= fault.writes - writes <= 6 + 2 * (size // 4096 + 4) < 200
    assert messages(chan(root) / "2026-01-01.log") == ["before"] + [f"m{i}" for i in range(50)]
    assert messages(chan(root, "#d") / "2026-01-01.log") == [f"d{i}" for i in range(50)]
    assert w.stats.lines_written == 2 + 200


def test_a_hold_keeps_order_through_eviction_size_rotation_and_errors(
    make: Callable[..., LogWriter], root: Path, fault: Fault, clock: Clock
) -> None:
    w = make(max_open_files=1, retry_interval=5.0)
    o = opts(rotation="size", max_bytes=400)
    w.write(rec(at(0), "c0"), "#c", o)
    w.write(rec(at(0), "d0"), "#d", o)
    w.hold()
    for i in range(1, 30):  # alternating channels with one descriptor: evictions
        w.write(rec(at(i), f"c{i}"), "#c", o)
        w.write(rec(at(i), f"d{i}"), "#d", o)
    fault.mode = "enospc"
    w.write(rec(at(30), "c30"), "#c", o)
    w.release()
    fault.mode = None
    clock.advance(5.0)
    for name in ("#c", "#d"):
        files = sorted(chan(root, name).glob("*.log"))
        assert len(files) > 1  # size rotation happened (parts sort before the live file)
        lines = [m for p in files for m in messages(p)]
        last = 31 if name == "#c" else 30
        assert lines == [f"{name[1]}{i}" for i in range(last)]
    assert w.stats.pending == 0


def test_a_quiet_channels_day_is_closed_and_compressed_after_midnight(
    clock: Clock, root: Path
) -> None:
    from logbot.logs.writer import DAY_CHECK_INTERVAL
    from logbot.reactor.testing import MemoryReactor

    spawner = MemoryReactor()
    start = datetime(2026, 3, 28, 23, 58, tzinfo=ZoneInfo("Europe/Berlin"))
    w = LogWriter(
        clock, root=root, wall=lambda: start.timestamp() + clock.seconds(), spawner=spawner
    )
    o = opts(timezone="Europe/Berlin", compress="gzip")
    w.write(rec(start.astimezone(UTC), "late evening"), "#c", o)
    assert w.stats.files_open == 1
    clock.advance(DAY_CHECK_INTERVAL)  # 23:59: still the same day
    assert w.stats.files_open == 1 and not spawner.spawnedProcesses
    clock.advance(DAY_CHECK_INTERVAL)  # 00:00 on the wall clock: the day is over
    assert w.stats.files_open == 0
    ((proto, *_),) = spawner.spawnedProcesses
    assert proto.path == chan(root) / "2026-03-28.log"
    # a line stamped before midnight that arrives now goes to the new day's file
    w.write(rec(start.astimezone(UTC), "late line"), "#c", o)
    assert messages(chan(root) / "2026-03-29.log") == ["late line"]
    w.close()
    assert clock.getDelayedCalls() == []


def test_files_of_earlier_days_left_by_an_earlier_run_are_compressed(
    clock: Clock, root: Path
) -> None:
    from logbot.reactor.testing import MemoryReactor

    folder = chan(root)
    folder.mkdir(parents=True)
    for name in (
        "2025-12-30.log",
        "2025-12-31.log",
        "2025-12-31.001.log",
        "2025-12-29.log.gz",
        "2025-12-31.jsonl",
        "2026-01-02.log",
        "notes.txt",
    ):
        (folder / name).write_text("x\n")
    spawner = MemoryReactor()
    w = LogWriter(clock, root=root, spawner=spawner)
    w.write(rec(at(0), "today"), "#c", opts(compress="gzip"))  # 2026-01-01
    compressed = sorted(proto.path.name for proto, *_ in spawner.spawnedProcesses)
    # two gzip children at once; the third waits in the queue
    queued = sorted(p.name for p in w.housekeeping.busy() if p.suffix != ".gz")
    assert compressed == ["2025-12-30.log", "2025-12-31.001.log"]
    assert queued == ["2025-12-30.log", "2025-12-31.001.log", "2025-12-31.log"]
    # without compression, or with a path whose folder is not the channel's: nothing
    spawner2 = MemoryReactor()
    w2 = LogWriter(clock, root=root, spawner=spawner2)
    w2.write(rec(at(0), "x"), "#c", opts(compress="gzip", path="{network}/{channel}-{date}.log"))
    w2.write(rec(at(0), "x"), "#d", opts())
    assert spawner2.spawnedProcesses == []
