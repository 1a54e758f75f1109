"""``logbot check`` tests that the log root and the data folder can be written to.

A read-only log root used to pass the check, and the bot then ran with every line
pending; the probe (create a file, remove it) finds it before the bot starts.
"""

from __future__ import annotations

import os
from pathlib import Path

from click.testing import CliRunner

from logbot.cli import main, probe_writable
from tests.e2e.test_faults import _set_writable


def _config(tmp_path: Path, root: Path, data: Path) -> Path:
    config = tmp_path / "c.yaml"
    config.write_text(
        "networks:\n  - name: n\n    nick: x\n    servers: [h]\n"
        f"logging:\n  root: '{root}'\n"
        f"plugins:\n  data_dir: '{data}'\n  enabled: []\n"
    )
    return config


def test_check_exits_1_naming_a_log_root_that_cannot_be_written(tmp_path: Path) -> None:
    root, data = tmp_path / "logs", tmp_path / "data"
    root.mkdir()
    data.mkdir()
    config = _config(tmp_path, root, data)
    assert CliRunner().invoke(main, ["check", "-c", str(config)]).exit_code == 0
    _set_writable(root, False)
    try:
        result = CliRunner().invoke(main, ["check", "-c", str(config)])
    finally:
        _set_writable(root, True)
    assert result.exit_code == 1, result.output
    problems = [line for line in result.output.splitlines() if line.startswith("logbot: ")]
    assert len(problems) == 1, result.output
    assert problems[0].startswith(f"logbot: log root {root}: cannot write: ")
    assert "Permission denied" in problems[0] or "not permitted" in problems[0]
    assert "OK, but" in result.output
    assert os.listdir(root) == []  # no probe file left behind


def test_check_exits_1_naming_a_data_folder_that_cannot_be_written(tmp_path: Path) -> None:
    root, data = tmp_path / "logs", tmp_path / "data"
    root.mkdir()
    data.mkdir()
    _set_writable(data, False)
    try:
        result = CliRunner().invoke(main, ["check", "-c", str(_config(tmp_path, root, data))])
    finally:
        _set_writable(data, True)
    assert result.exit_code == 1, result.output
    assert f"logbot: data folder {data}: cannot write: " in result.output


def test_a_folder_not_there_yet_is_probed_at_the_first_one_that_is(tmp_path: Path) -> None:
    """The bot creates missing folders; the check creates nothing, so it probes the
    nearest existing parent, where they would be created."""
    parent = tmp_path / "ro"
    parent.mkdir()
    missing = parent / "a" / "b"
    assert probe_writable(missing) is None
    assert not (parent / "a").exists()  # nothing created
    _set_writable(parent, False)
    try:
        problem = probe_writable(missing)
    finally:
        _set_writable(parent, True)
    assert problem is not None and problem.startswith(f"cannot create it in {parent}: ")
    assert os.listdir(parent) == []


def test_a_file_in_the_way_is_reported(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    assert probe_writable(tmp_path / "file") == "not a folder"
    assert probe_writable(tmp_path / "file" / "below") == f"{tmp_path / 'file'} is not a folder"
