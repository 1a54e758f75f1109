"""The ``process_*`` figures from ``/proc``: the parsers on made-up ``/proc`` files
(exact values, odd command names, missing parts), then the real ``/proc`` of this
process and of a child with a known open-file limit, checked against what the kernel
says through other calls (``os.times``, ``getrlimit``, an extra open descriptor)."""

from __future__ import annotations

import math
import os
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from logbot.health.metrics import render_metrics
from logbot.health.process_metrics import (
    ProcessStats,
    boot_time,
    cpu_and_start_ticks,
    max_fds,
    memory_bytes,
    open_fds,
    read_process,
)
from tests.health.test_metrics import parse, service

# A stat line whose command name holds a space and both parentheses, as a process may
# name itself (prctl PR_SET_NAME): only the last ")" ends the name.
# utime (field 14) 250, stime (15) 150, starttime (22) 123456.
STAT = (
    "4242 (we) ird (x) R 1 4242 4242 0 -1 4194560 2000 0 0 0 250 150 0 0 20 0 1 0 "
    "123456 43000000 9000 18446744073709551615 1 1 0 0 0 0 0 16781312 0 0 0 0 17 1 0 0 0 "
    "0 0 0 0 0 0 0 0 0 0\n"
)
PROC_STAT = "cpu  1 2 3 4\nintr 5\nctxt 6\nbtime 1700000000\nprocesses 7\n"
LIMITS = (
    "Limit                     Soft Limit           Hard Limit           Units     \n"
    "Max cpu time              unlimited            unlimited            seconds   \n"
    "Max open files            4096                 524288               files     \n"
    "Max locked memory         8388608              8388608              bytes     \n"
)


def fake_proc(root: Path, pid: str = "4242", fds: int = 3) -> Path:
    """A ``/proc`` holding one process, as the kernel writes its files."""
    base = root / pid
    (base / "fd").mkdir(parents=True)
    (base / "stat").write_text(STAT)
    (base / "statm").write_text("10000 2500 300 10 0 1500 0\n")
    (base / "limits").write_text(LIMITS)
    for n in range(fds):
        (base / "fd" / str(n)).write_text("")
    (root / "stat").write_text(PROC_STAT)
    return root


def test_the_parsers_read_the_kernels_layout() -> None:
    assert cpu_and_start_ticks(STAT) == (400, 123456)
    assert boot_time(PROC_STAT) == 1_700_000_000
    assert memory_bytes("10000 2500 300 10 0 1500 0\n", 4096) == (2500 * 4096, 10000 * 4096)
    assert max_fds(LIMITS) == 4096
    assert max_fds(LIMITS.replace("4096    ", "unlimited")) == math.inf


@pytest.mark.parametrize(
    "call",
    [
        lambda: cpu_and_start_ticks("4242 (no closing paren R 1 2"),
        lambda: boot_time("cpu  1 2 3\n"),
        lambda: max_fds("Limit Soft Hard\n"),
        lambda: memory_bytes("\n", 4096),
    ],
)
def test_the_parsers_refuse_what_they_cannot_read(call: Callable[[], object]) -> None:
    with pytest.raises((ValueError, IndexError)):
        call()


def test_a_made_up_proc_gives_exact_figures(tmp_path: Path) -> None:
    proc = fake_proc(tmp_path, fds=5)
    stats = read_process("4242", proc=str(proc), clock_ticks=100, page_size=4096)
    assert stats == ProcessStats(
        cpu_seconds=4.0,
        start_time=1_700_000_000 + 1234.56,
        resident_bytes=2500 * 4096,
        virtual_bytes=10000 * 4096,
        open_fds=5,
        max_fds=4096,
    )


def test_each_unreadable_part_is_none_on_its_own(tmp_path: Path) -> None:
    proc = fake_proc(tmp_path)
    (proc / "4242" / "statm").unlink()
    (proc / "4242" / "fd").rename(proc / "4242" / "fd-hidden")
    (proc / "stat").write_text("cpu 1 2 3\n")  # no btime: no start time, CPU time still
    stats = read_process("4242", proc=str(proc), clock_ticks=100, page_size=4096)
    assert stats == ProcessStats(cpu_seconds=4.0, max_fds=4096)
    assert read_process("4242", proc=str(tmp_path / "absent")) == ProcessStats()


def test_metrics_leave_out_the_families_that_could_not_be_read() -> None:
    types, _ = parse(render_metrics(service(), now=100.0, process=ProcessStats(cpu_seconds=1.0)))
    assert [name for name in types if name.startswith("process_")] == ["process_cpu_seconds_total"]
    assert "logbot_start_time_seconds" not in types  # process_start_time_seconds says it


def test_this_process_as_the_kernel_counts_it() -> None:
    before = os.times()
    stats = read_process()
    after = os.times()
    assert stats.cpu_seconds is not None
    assert before.user + before.system - 0.01 <= stats.cpu_seconds
    assert stats.cpu_seconds <= after.user + after.system + 0.01
    assert stats.max_fds == resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    assert stats.resident_bytes is not None and stats.virtual_bytes is not None
    assert 0 < stats.resident_bytes <= stats.virtual_bytes
    assert stats.start_time is not None and stats.start_time <= time.time()


def test_open_fds_follows_an_open_and_a_close(tmp_path: Path) -> None:
    base = open_fds("/proc/self/fd")
    fd = os.open(tmp_path / "f", os.O_CREAT | os.O_WRONLY)
    try:
        assert open_fds("/proc/self/fd") == base + 1
    finally:
        os.close(fd)
    assert open_fds("/proc/self/fd") == base


def test_resident_memory_grows_with_touched_memory() -> None:
    rss = read_process().resident_bytes
    block = b"x" * (64 << 20)  # written, so resident (a calloc'd block may not be)
    grown = read_process().resident_bytes
    assert rss is not None and grown is not None
    assert grown - rss >= 48 << 20, (rss, grown)
    del block


def _low_limit() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (77, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))


def test_another_process_by_pid() -> None:
    started = time.time()
    child = subprocess.Popen(
        [sys.executable, "-c", "import sys; sys.stdin.read()"],
        stdin=subprocess.PIPE,
        preexec_fn=_low_limit,
    )
    spawned = time.time()
    try:
        stats = read_process(child.pid)
    finally:
        assert child.stdin is not None
        child.stdin.close()
        child.wait(10)
    assert stats.max_fds == 77
    assert stats.open_fds is not None and stats.open_fds >= 3  # stdin, stdout, stderr
    # btime is whole seconds (rounded down), the start time is in clock ticks.
    assert stats.start_time is not None
    assert started - 1.05 <= stats.start_time <= spawned + 0.05, (started, stats, spawned)
