"""``logbot search`` as a user runs it: a child process on real files, its stdout,
stderr and exit status; on a pipe, and on a pseudo-terminal (colours, progress bar)."""

from __future__ import annotations

import errno
import json
import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import record, write_config, write_jsonl, write_text

HOSTILE = "look \x1b]0;owned\x07\x1b[2J\x9b2J \u202eevil"


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    logs = tmp_path / "logs"
    write_text(
        logs / "net/#chan/2026-12-05.log",
        ["2026-12-05T09:00:00  <bob> the Café is open", "2026-12-05T09:01:00  * alice waves"],
        gz=True,
    )
    write_jsonl(
        logs / "net/#chan/2026-12-06.jsonl",
        [
            record("2026-12-06T10:00:00", "before"),
            record("2026-12-06T10:00:01", "cafe time", nick="bob"),
            record("2026-12-06T10:00:02", "after"),
            record("2026-12-06T10:00:03", HOSTILE, nick="mallory"),
        ],
    )
    write_jsonl(
        logs / "other/#x/2026-12-06.jsonl",
        [record("2026-12-06T11:00:00", "cafe elsewhere", network="other", channel="#x")],
    )
    return write_config(tmp_path)


def env(**extra: str) -> dict[str, str]:
    out = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "LOGBOT_CONFIG")}
    return out | extra


def search(config: Path, *args: str, **environ: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "logbot", "search", "-c", str(config), *args],
        capture_output=True,
        text=True,
        env=env(**environ),
        cwd=config.parent,
        timeout=60,
    )


def test_words_newest_first_exit_0_and_the_scan_is_said(config_file: Path) -> None:
    done = search(config_file, "cafe")
    assert done.returncode == 0
    assert done.stdout.splitlines() == [
        "other #x 2026-12-06 11:00:00 <alice> cafe elsewhere",
        "net #chan 2026-12-06 10:00:01 <bob> cafe time",
        "net #chan 2026-12-05 09:00:00 <bob> the Café is open",
    ]
    index = config_file.parent / "data" / "index.sqlite3"
    assert done.stderr == (
        f"logbot search: no index at {index}: scanning the files (logbot index builds one)\n"
    )


def test_nothing_found_is_exit_1(config_file: Path) -> None:
    done = search(config_file, "zebra", "--no-index")
    assert (done.returncode, done.stdout, done.stderr) == (1, "", "")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--regex", "(unclosed"], "logbot search: bad regular expression '(unclosed'"),
        (["--since", "last tuesday"], "logbot search: --since: 'last tuesday' is not a time"),
        (["--type", "shout"], "logbot search: unknown --type shout"),
        (["--index", "/nowhere/index.sqlite3"], "logbot search: no index at /nowhere"),
        (["!!!"], "logbot search: no word to look for in '!!!'"),
        (["-C", "51"], "logbot search: --context 51: at most 50"),
    ],
)
def test_bad_arguments_are_exit_2_with_one_line(
    config_file: Path, args: list[str], message: str
) -> None:
    done = search(config_file, *args)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith(message) and "Traceback" not in done.stderr


def test_a_bad_config_is_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("networks: 5\n")
    done = search(bad, "x")
    assert done.returncode == 2 and done.stderr.startswith("logbot: invalid config:")


def test_filters_together(config_file: Path) -> None:
    done = search(config_file, "--nick", "BOB", "--channel", "#CHAN", "--network", "net",
                  "--type", "message", "--since", "2026-12-05T09:00", "--until", "2026-12-05",
                  "--no-index")  # fmt: skip
    assert done.stdout.splitlines() == ["net #chan 2026-12-05 09:00:00 <bob> the Café is open"]
    done = search(config_file, "--regex", "^AFTER$", "--case", "--no-index")
    assert done.returncode == 1
    done = search(config_file, "--limit", "1", "--no-index")
    assert done.stdout.splitlines() == [
        "other #x 2026-12-06 11:00:00 <alice> cafe elsewhere",
    ]
    done = search(config_file, "cafe time", "--no-index")  # one argument: a phrase
    assert done.stdout.splitlines() == ["net #chan 2026-12-06 10:00:01 <bob> cafe time"]


def test_json_with_context_reads_back(config_file: Path) -> None:
    done = search(config_file, "cafe", "--network", "net", "--json", "-C", "1", "--no-index")
    assert done.returncode == 0
    first, second = (json.loads(line) for line in done.stdout.splitlines())
    assert (first["text"], first["day"], first["seq"]) == ("cafe time", "2026-12-06", 2)
    assert [(c["seq"], c["text"]) for c in first["context"]] == [
        (1, "before"),
        (2, "cafe time"),
        (3, "after"),
    ]
    assert second["text"] == "the Café is open" and second["context"][-1]["text"] == "waves"


def test_context_groups_like_grep(config_file: Path) -> None:
    done = search(config_file, "cafe", "--network", "net", "-C", "1", "--no-index")
    assert done.stdout.splitlines() == [
        "  net #chan 2026-12-06 10:00:00 <alice> before",
        "net #chan 2026-12-06 10:00:01 <bob> cafe time",
        "  net #chan 2026-12-06 10:00:02 <alice> after",
        "--",
        "net #chan 2026-12-05 09:00:00 <bob> the Café is open",
        "  net #chan 2026-12-05 09:01:00 * alice waves",
    ]


def test_hostile_text_is_escaped_on_a_pipe_even_with_colours(config_file: Path) -> None:
    for args in ([], ["--color"], ["--json"]):
        done = search(config_file, "evil", "--no-index", *args)
        assert done.returncode == 0
        out = re.sub("\x1b\\[[0-9;]*m", "", done.stdout) if args == ["--color"] else done.stdout
        assert not re.search("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202e]", out), repr(out)
        assert "owned" in out
    assert "\x1b[" not in search(config_file, "cafe", "--no-index").stdout  # a pipe: none


def run_on_terminal(config: Path, *args: str, **environ: str) -> tuple[int, str]:
    """The command with stdout and stderr on a pseudo-terminal: its status and all it
    wrote there."""
    master, slave = pty.openpty()
    child = subprocess.Popen(
        [sys.executable, "-m", "logbot", "search", "-c", str(config), *args],
        stdin=subprocess.DEVNULL,
        stdout=slave,
        stderr=slave,
        env=env(**environ),
        cwd=config.parent,
    )
    os.close(slave)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError as e:  # EIO: every writer closed the terminal
            assert e.errno == errno.EIO
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(master)
    return child.wait(timeout=60), b"".join(chunks).decode()


def test_on_a_terminal_colours_and_a_progress_bar(config_file: Path) -> None:
    status, shown = run_on_terminal(config_file, "cafe", "--no-index")
    assert status == 0
    assert "\x1b[1;31mcafe\x1b[0m" in shown  # the word highlighted
    bar = re.search(r"\r\x1b\[K\[#+\] 3/3 files, [^\r]*", shown)  # the bar, finished ...
    assert bar is not None
    assert shown[bar.end() :].startswith("\r\x1b[K\x1b[36mother #x")  # ... erased, then hits
    status, shown = run_on_terminal(config_file, "cafe", "--no-index", NO_COLOR="1")
    assert "\x1b[1;31m" not in shown and "\x1b[36m" not in shown
