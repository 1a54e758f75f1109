"""``logbot archive export`` (the command object, through click's CliRunner): the bot's
files come back from the SQLite index byte for byte, the summary on stderr; exit 1
when a day fails, 2 for bad arguments or a bad OUT; the postgres store is not tested
here (it needs a server: tests/pg/)."""

from __future__ import annotations

import os
from pathlib import Path

from click.testing import CliRunner, Result

from logbot.cli.archive_export import export_command
from tests.archive.handover_logs import DAYS, NET, files, logging_yaml, make_logs
from tests.archive.imports.conftest import config_text


def setup(tmp_path: Path) -> Path:
    """A config file, its log root written and indexed (in the default place)."""
    _, index = make_logs(tmp_path)
    index.close()
    config = tmp_path / "config.yaml"
    config.write_text(config_text(tmp_path / "logs", tmp_path / "data", logging_yaml("limnoria")))
    return config


def run(config: Path, *args: str) -> Result:
    return CliRunner().invoke(export_command, ["-c", str(config), *args])


def test_exports_the_network_and_says_what_it_did(tmp_path: Path) -> None:
    config = setup(tmp_path)
    index = str(tmp_path / "data" / "index.sqlite3")
    done = run(config, str(tmp_path / "out"), "--network", NET, "--index", index, "--private")
    assert done.exit_code == 0, done.output
    assert files(tmp_path / "out") == files(tmp_path / "logs")
    assert "days written: 5, merged: 0, lines: 93" in done.stderr
    again = run(config, str(tmp_path / "out"), "--network", NET, "--channel", "#chan")
    assert again.exit_code == 0, again.output
    assert "days skipped, they exist (--merge merges them): 3 (69 lines)" in again.stderr


def test_since_until_and_channels(tmp_path: Path) -> None:
    config = setup(tmp_path)
    args = ["--network", NET, "--channel", "#chan", "--channel", "alice"]
    done = run(config, str(tmp_path / "out"), *args, "--since", DAYS[1], "--until", DAYS[1])
    assert done.exit_code == 0, done.output
    assert sorted(files(tmp_path / "out")) == [
        f"{NET}/{c}/{DAYS[1]}.{ext}" for c in ("#chan", "alice") for ext in ("jsonl", "log")
    ]


def test_a_day_that_fails_exits_1(tmp_path: Path) -> None:
    config = setup(tmp_path)
    out = tmp_path / "out"
    (out / NET).mkdir(parents=True)
    os.symlink(tmp_path, out / NET / "#chan")
    done = run(config, str(out), "--network", NET)
    assert done.exit_code == 1, done.output
    assert f"days not written: 3\n  #chan {DAYS[0]}:" in done.stderr
    assert files(out / NET / "#other")  # the other channel was written all the same


def test_bad_arguments_exit_2_and_write_nothing(tmp_path: Path) -> None:
    config = setup(tmp_path)
    out = tmp_path / "out"
    cases = [
        (["--network", NET, "--since", "2026-3-1"], "not a date"),
        (["--network", NET, "--since", DAYS[2], "--until", DAYS[0]], "is after"),
        (["--network", "efnet"], "no network 'efnet'"),
        (["--network", NET, "--channel", "#nowhere"], "no channel '#nowhere'"),
        ([], "Missing option '--network'"),
    ]
    for args, message in cases:
        done = run(config, str(out), *args)
        assert done.exit_code == 2, (args, done.output)
        assert message in done.stderr, (args, done.stderr)
    assert not out.exists()
    out.mkdir()
    (out / "report.pdf").write_text("not a log")
    done = run(config, str(out), "--network", NET)
    assert done.exit_code == 2 and "not a log file" in done.stderr
    done = run(config, str(tmp_path / "logs"), "--network", NET)
    assert done.exit_code == 2 and "overlap" in done.stderr
    bad = tmp_path / "bad.yaml"
    bad.write_text("networks: 3\n")
    done = run(bad, str(out), "--network", NET)
    assert done.exit_code == 2 and "invalid config" in done.stderr
