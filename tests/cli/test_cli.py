"""The ``logbot`` command: check, version, exit statuses, one-line diagnostics."""

from __future__ import annotations

import logging
from pathlib import Path

from click.testing import CliRunner

from logbot import __version__
from logbot.cli import OneLineFormatter, main

REPO = Path(__file__).resolve().parents[2]


def test_version_and_check_of_the_sample_config() -> None:
    runner = CliRunner()
    assert runner.invoke(main, ["version"]).output == f"logbot {__version__}\n"
    result = runner.invoke(main, ["check", "-c", str(REPO / "config.yaml")])
    assert result.exit_code == 0, result.output
    assert "config.yaml: OK" in result.output and "#logbot" in result.output


def test_check_reads_logbot_config_and_exits_2_on_a_bad_one(tmp_path: Path) -> None:
    bad = tmp_path / "c.yaml"
    bad.write_text(
        "networks:\n  - name: n\n    nick: x\n    servers: [h]\n"
        "    password: s3cret-value\n    bogus: 1\n"
    )
    result = CliRunner().invoke(main, ["check"], env={"LOGBOT_CONFIG": str(bad)})
    assert result.exit_code == 2
    assert "networks[0].bogus: unknown key" in result.output
    assert "s3cret-value" not in result.output


def test_a_traceback_is_one_line() -> None:
    formatter = OneLineFormatter("%(levelname)s %(message)s")
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.LogRecord(
            "x",
            logging.ERROR,
            __file__,
            1,
            "failed:\nline two",
            None,
            exc_info=__import__("sys").exc_info(),
        )
    line = formatter.format(record)
    assert "\n" not in line
    assert line.startswith("ERROR failed: | line two | Traceback") and "ValueError: boom" in line


def test_check_loads_the_plugins_and_exits_1_when_one_would_fail(tmp_path: Path) -> None:
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "broken.py").write_text("from logbot.plugin import command\n\ndef f(:\n")
    (folder / "fine.py").write_text(
        "from logbot.plugin import command\n\n@command('fine')\ndef f(c):\n    return 'ok'\n"
    )
    config = tmp_path / "c.yaml"
    config.write_text(
        "networks:\n  - name: n\n    nick: x\n    servers: [h]\n"
        f"plugins:\n  plugin_dirs: ['{folder}']\n"
        "  enabled: [fine, hello, broken, ghost, tool]\n"
        "  exec:\n    - name: tool\n      command: ./no-such-tool --flag\n"
    )
    result = CliRunner().invoke(main, ["check", "-c", str(config)])
    assert result.exit_code == 1, result.output
    problems = [line for line in result.output.splitlines() if line.startswith("logbot: ")]
    assert problems[0].startswith("logbot: plugin broken: SyntaxError: ")
    assert problems[1].startswith("logbot: plugin ghost: not found in ")
    assert problems[2] == (
        f"logbot: plugin tool: cannot run {tmp_path}/./no-such-tool: not an executable file"
    )
    assert len(problems) == 3
