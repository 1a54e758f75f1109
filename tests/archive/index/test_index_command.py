"""``logbot index`` as a process: index, rebuild, follow until SIGTERM, and its exits."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from logbot.archive.index import Index
from tests.archive.index.files import append, day_file, record, texts

#: Seconds a child may take before the test fails (a bound, never a wait).
DEADLINE = 60


def config(tmp_path: Path, root: Path) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(
        "networks:\n  - name: net\n    nick: bot\n    servers: [127.0.0.1]\n"
        f"logging:\n  root: {root}\n"
        f"plugins:\n  data_dir: {tmp_path / 'data'}\n"
    )
    return path


def logbot(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "logbot", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=DEADLINE,
        check=False,
    )


def test_index_then_read_through_the_api(root: Path, tmp_path: Path) -> None:
    append(day_file(root), [record(i, text=f"line {i}") for i in range(5)])
    done = logbot("index", "-c", str(config(tmp_path, root)), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    where = tmp_path / "data" / "index.sqlite3"
    assert "indexed 5 lines in " in done.stderr and f"index at {where}" in done.stderr
    with Index(where) as index:
        assert texts(index) == [(i + 1, f"line {i}") for i in range(5)]
    append(day_file(root), [record(5, text="line 5")])
    again = logbot("index", "-c", str(config(tmp_path, root)), cwd=tmp_path)
    assert "indexed 1 lines" in again.stderr
    rebuilt = logbot("index", "-c", str(config(tmp_path, root)), "--rebuild", cwd=tmp_path)
    assert rebuilt.returncode == 0 and "indexed 6 lines" in rebuilt.stderr
    with Index(where) as index:
        assert texts(index) == [(i + 1, f"line {i}") for i in range(6)]


def test_another_index_file(root: Path, tmp_path: Path) -> None:
    append(day_file(root), [record(0)])
    other = tmp_path / "elsewhere" / "x.sqlite3"
    done = logbot("index", "-c", str(config(tmp_path, root)), "--index", str(other), cwd=tmp_path)
    assert done.returncode == 0 and other.exists()
    assert not (tmp_path / "data" / "index.sqlite3").exists()


def test_a_bad_config_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("networks: []\nbogus: 1\n")
    done = logbot("index", "-c", str(bad), cwd=tmp_path)
    assert done.returncode == 2 and "invalid config" in done.stderr


def test_an_index_that_cannot_be_written_exits_1_with_one_line(root: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    where = blocker / "index.sqlite3"  # below a file: no folder can be made there
    done = logbot("index", "-c", str(config(tmp_path, root)), "--index", str(where), cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        f"logbot: cannot write the index at {where}: Not a directory"
    ]


class Stderr:
    """A child's stderr read line by line as it comes, with a deadline: ``os.read`` on
    the pipe (a buffered reader could hold a line that ``select`` no longer sees)."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        assert proc.stderr is not None
        self.fd = proc.stderr.fileno()
        self.text = ""
        self._pending = ""

    def wait_for(self, text: str) -> None:
        deadline = time.monotonic() + DEADLINE
        while text not in self._pending:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([self.fd], [], [], max(left, 0))
            chunk = os.read(self.fd, 65536).decode() if ready else ""
            if not chunk:
                raise AssertionError(f"{text!r} never came; stderr: {self.text}")
            self.text += chunk
            self._pending += chunk
        self._pending = self._pending[self._pending.index(text) + len(text) :]


def _nice(pid: int) -> int:
    stat = Path(f"/proc/{pid}/stat").read_text()
    return int(stat.rsplit(")", 1)[1].split()[16])


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc for the niceness")
def test_follow_until_sigterm(root: Path, tmp_path: Path) -> None:
    append(day_file(root), [record(i, text=f"line {i}") for i in range(3)])
    cfg = config(tmp_path, root)
    proc = subprocess.Popen(
        [sys.executable, "-m", "logbot", "--log-level", "debug", "index", "-c", str(cfg)]
        + ["--follow"],
        cwd=tmp_path,
        stderr=subprocess.PIPE,
    )
    stderr = Stderr(proc)
    try:
        stderr.wait_for("caught up")
        assert _nice(proc.pid) == min(19, os.nice(0) + 10)
        append(day_file(root), [record(3, text="line 3")])
        stderr.wait_for("1 lines indexed")
        with Index(tmp_path / "data" / "index.sqlite3") as index:
            assert texts(index) == [(i + 1, f"line {i}") for i in range(4)]
        proc.send_signal(signal.SIGTERM)
        stderr.wait_for("stopped (4 lines indexed, 0 bad lines skipped)")
        assert proc.wait(DEADLINE) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(DEADLINE)
        if proc.stderr is not None:
            proc.stderr.close()
