"""``logbot demo`` as a new user runs it (a child process, shortened by ``--seconds 0``),
on every reactor backend: what it printed and the logs it wrote."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from logbot.reactor.backends import available

REPO = Path(__file__).resolve().parents[2]


def _run_demo(folder: Path, backend: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "logbot",
            "demo",
            "--seconds",
            "0",
            "--dir",
            str(folder),
            "--reactor",
            backend,
        ],
        cwd=folder.parent,
        env=dict(os.environ, PYTHONPATH=str(REPO)),
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
        check=False,
    )


@pytest.mark.parametrize("backend", available())
def test_demo_logs_a_scripted_conversation(tmp_path: Path, backend: str) -> None:
    folder = tmp_path / "demo"
    result = _run_demo(folder, backend)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout

    # progress while it ran, the bot's replies included
    assert "test IRC server (not a real network) on 127.0.0.1:" in out
    assert "<alice> !ping" in out and "<logbot> alice: pong" in out
    assert "<logbot> carol: " in out  # the hello plugin
    assert "bob is now known as bobby" in out

    # the text log of #demo holds the whole conversation, in order, without the [nolog] line
    (log,) = (folder / "logs" / "demo").glob("#demo/*.log")
    text = log.read_text()
    events = [line.split("  ", 1)[1] for line in text.splitlines()]  # the default layout
    wanted = [
        "<alice> hi everyone, this channel is logged",
        "<bob> hello alice!",
        "<alice> !ping",
        "<logbot> alice: pong",
        "* carol waves",
        'alice changes topic to "logbot demo: every event here is logged"',
        "*** alice sets mode: +v carol",
        "*** bob is now known as bobby",
        "<bobby> !seen alice",
        "has left #demo (off to lunch)",
        "has quit IRC (see you)",
        "<alice> !help",
    ]
    positions = [next((i for i, e in enumerate(events) if w in e), -1) for w in wanted]
    assert -1 not in positions, (wanted, text)
    assert positions == sorted(positions), text
    assert "stays out of the log" not in text
    assert any(e.startswith("*** carol <carol!carol@demo.test> has joined #demo") for e in events)

    # the jsonl twin, and the other channel
    records = [json.loads(line) for line in log.with_suffix(".jsonl").read_text().splitlines()]
    assert {"message", "action", "join", "part", "quit", "nick", "topic"} <= {
        r["type"] for r in records
    }
    (random,) = (folder / "logs" / "demo").glob("#random/*.log")
    assert "<alice> quiet in here" in random.read_text()

    # the closing report names every file and shows their last lines
    assert f"logs are under {folder / 'logs'}" in out
    assert f"last lines of {log.relative_to(folder)}" in out
    assert text.splitlines()[-1] in out
    assert (folder / "config.yaml").is_file()
