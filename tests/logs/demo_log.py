"""A log the bot really wrote, for the tests of the jsonl format as other programs read
it (the schema, jq): ``logbot demo --seconds 0`` in a child process (the bot, the test
IRC server and scripted users talking, joining, changing nicks and topics, about a
second), rather than lines made up by the test that reads them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]


def run_demo(folder: Path) -> Path:
    """Runs the demo into ``folder``; the ``#demo`` channel's jsonl files, as a glob
    relative to ``folder`` (what the README's one-liners name)."""
    result = subprocess.run(
        [sys.executable, "-m", "logbot", "demo", "--seconds", "0", "--dir", str(folder)],
        cwd=folder.parent,
        env=dict(os.environ, PYTHONPATH=str(REPO)),
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert list(folder.glob("logs/demo/#demo/*.jsonl")), result.stdout
    return folder


def records(folder: Path, pattern: str = "logs/demo/*/*.jsonl") -> list[dict[str, Any]]:
    """Every line of the jsonl files under ``folder`` matching ``pattern``, parsed."""
    return [
        json.loads(line)
        for path in sorted(folder.glob(pattern))
        for line in path.read_text(encoding="utf-8").splitlines()
    ]
