"""The README's claim: ``logbot search --json`` is read by jq, one object per hit.

Runs the real ``jq`` (Debian's, installed by .ci/run) on the command's output, with the
index and with the file scan, and reads back what the README shows."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from .test_cli import config_file, env  # noqa: F401 (the fixture)


def jq_on_search(config: Path, program: str, *args: str) -> list[str]:
    jq = shutil.which("jq")
    assert jq, "jq is missing: apt-get install jq"
    search = subprocess.run(
        [sys.executable, "-m", "logbot", "search", "-c", str(config), "--json", *args],
        capture_output=True,
        env=env(),
        cwd=config.parent,
        timeout=60,
        check=True,
    )
    read = subprocess.run(
        [jq, "-r", program], input=search.stdout, capture_output=True, timeout=30, check=True
    )
    return read.stdout.decode().splitlines()


def test_jq_reads_the_hits_with_and_without_an_index(config_file: Path) -> None:  # noqa: F811
    program = '"\\(.network) \\(.channel) \\(.day)#L\\(.seq) <\\(.nick)> \\(.text)"'
    expected = [
        "other #x 2026-12-06#L1 <alice> cafe elsewhere",
        "net #chan 2026-12-06#L2 <bob> cafe time",
        "net #chan 2026-12-05#L1 <bob> the Café is open",
    ]
    assert jq_on_search(config_file, program, "--no-index", "cafe") == expected
    index = subprocess.run(
        [sys.executable, "-m", "logbot", "index", "-c", str(config_file)],
        capture_output=True,
        env=env(),
        cwd=config_file.parent,
        timeout=60,
    )
    assert index.returncode == 0, index.stderr
    # The index holds only the jsonl files: the text-only day is not in it.
    assert jq_on_search(config_file, program, "cafe") == expected[:2]
    counts = jq_on_search(config_file, 'select(.nick == "bob") | .time_ms', "cafe")
    assert len(counts) == 1 and counts[0].isdigit()
