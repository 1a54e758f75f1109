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
    bad.write_text("networks:\n  - name: n\n    nick: x\n    servers: [h]\n"
                   "    password: s3cret-value\n    bogus: 1\n")
    result = CliRunner().invoke(main, ["check"], env={"LOGBOT_CONFIG": str(bad)})
    assert result.exit_code == 2
    assert "networks[0].bogus: unknown key" in result.output
    assert "s3cret-value" not in result.output


def test_a_traceback_is_one_line() -> None:
    formatter = OneLineFormatter("%(levelname)s %(message)s")
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed:\nline two",
                                   None, exc_info=__import__("sys").exc_info())
    line = formatter.format(record)
    assert "\n" not in line
    assert line.startswith("ERROR failed: | line two | Traceback") and "ValueError: boom" in line
