"""``logbot import`` as a process (``python -m logbot import``) on a config in tmp_path:
what it writes is valid jsonl and text in the configured layout; a second run skips
the days it finds; --dry-run writes nothing; --merge merges; a line it cannot read is
named (file:line) and exits 1 after importing the rest; bad arguments exit 2; a
hostile channel name or a link in the root writes nothing outside the root."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from jsonschema import Draft202012Validator

from logbot.logs.schema import load_schema
from tests.archive.imports.conftest import SAMPLE_FILES, SAMPLE_FOLDERS, config_text

VALIDATOR = Draft202012Validator(load_schema())
DAY = Path("libera/#logbot/2026-03-10")


def setup(tmp_path: Path, logging: str = "") -> Path:
    config = tmp_path / "config.yaml"
    config.write_text(config_text(tmp_path / "logs", tmp_path / "data", logging))
    return config


def logbot_import(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "logbot", "import", "-c", str(config), *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


def files(folder: Path) -> dict[str, bytes]:
    if not folder.exists():
        return {}
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def test_imports_valid_files_in_the_configured_layout_then_skips_them(tmp_path: Path) -> None:
    config = setup(tmp_path, "text_layout: znc")
    args = ("--from", "irssi", "--network", "libera", "--timezone", "Europe/Berlin")
    done = logbot_import(config, *args, str(SAMPLE_FOLDERS["irssi"]))
    assert done.returncode == 0, done.stderr
    out = done.stdout.splitlines()
    assert out[:3] == [
        "files read: 1",
        "  #logbot: 20 lines imported",
        "days written: 1, merged: 0",
    ]
    assert any(line.startswith("lines left out (no logbot line for them): ") for line in out)
    root = tmp_path / "logs"
    objs = [
        json.loads(line) for line in (root / DAY).with_suffix(".jsonl").read_text().splitlines()
    ]
    assert len(objs) == 20
    for obj in objs:
        error = next(iter(VALIDATOR.iter_errors(obj)), None)
        assert error is None, f"{error.message}: {obj}"
    assert objs[0]["time"] == "2026-03-10T08:57:00.000+00:00"  # 09:57 in Berlin
    text = (root / DAY).with_suffix(".log").read_text().splitlines()
    assert text[:2] == [
        "[08:57:00] *** Joins: alice (~alice@user/alice)",
        '[08:57:00] *** topic for #logbot is "logbot: logs" (set by op)',
    ]
    assert text[-1] == "[23:30:00] <alice> after midnight (local)"
    before = files(root)
    again = logbot_import(config, *args, str(SAMPLE_FOLDERS["irssi"]))
    assert again.returncode == 0, again.stderr
    assert "days skipped, already logged (--merge merges them): 1" in again.stdout
    assert "  #logbot 2026-03-10" in again.stdout.splitlines()
    assert files(root) == before


def test_dry_run_then_merge(tmp_path: Path) -> None:
    config = setup(tmp_path)
    base = ("--from", "limnoria", "--network", "libera", "--timezone", "Europe/Berlin")
    dry = logbot_import(config, *base, "--dry-run", str(SAMPLE_FILES["limnoria"]))
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.startswith("files read: 1 (dry run: nothing written)\n")
    assert "days would be written: 1, would be merged: 0" in dry.stdout
    assert files(tmp_path / "logs") == {}
    assert logbot_import(config, *base, str(SAMPLE_FILES["limnoria"])).returncode == 0
    # ZNC saw the same day: merged, its lines already there dropped
    merged = logbot_import(
        config, "--from", "znc", "--network", "libera", "--timezone", "Europe/Berlin",
        "--merge", str(SAMPLE_FOLDERS["znc"]),
    )  # fmt: skip
    assert merged.returncode == 0, merged.stderr
    assert "lines already in the merged days (dropped): 13" in merged.stdout
    assert "only while the bot is not running" in " ".join(
        logbot_import(config, "--help").stdout.split()
    )


def test_a_line_not_understood_is_named_and_the_rest_imported(tmp_path: Path) -> None:
    config = setup(tmp_path)
    old = tmp_path / "irc.libera.#logbot.weechatlog"
    sample = SAMPLE_FILES["weechat"].read_text()
    old.write_text(sample + "2026-03-11 00:40:00\tthis is not\x1b]0;a line\x07\n")
    done = logbot_import(config, "--from", "weechat", "--network", "libera", str(old))
    assert done.returncode == 1, done.stderr
    assert "lines not understood: 1" in done.stdout
    assert f"  {old}:24: not <time> TAB <prefix> TAB <message>: " in done.stdout
    assert "\x1b" not in done.stdout and "\\x1b" in done.stdout  # shown escaped
    assert "  #logbot: 17 lines imported" in done.stdout


def test_bad_arguments_exit_2(tmp_path: Path) -> None:
    config = setup(tmp_path)
    sample = str(SAMPLE_FOLDERS["znc"])
    for args, said in [
        (("--from", "znc", "--network", "libera", "--timezone", "Mars/Olympus", sample),
         "unknown time zone"),
        (("--from", "znc", "--network", "bad/name", sample), "letters, digits"),
        (("--from", "hexchat", "--network", "libera", sample), "'hexchat' is not one of"),
        (("--from", "weechat", "--network", "libera", sample), "no weechat log files in"),
    ]:  # fmt: skip
        done = logbot_import(config, *args)
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        assert said in done.stderr, (args, done.stderr)
    config.write_text("networks: nope\n")
    done = logbot_import(config, "--from", "znc", "--network", "libera", sample)
    assert done.returncode == 2 and "invalid config" in done.stderr
    assert files(tmp_path / "logs") == {}


def test_nothing_is_written_outside_the_root(tmp_path: Path) -> None:
    config = setup(tmp_path)
    old = tmp_path / "old.log"
    old.write_text("2026-03-10T10:00:00  <alice> hi\n")
    done = logbot_import(
        config, "--from", "limnoria", "--network", "libera", "--channel", "#../../x", str(old)
    )
    assert done.returncode == 0, done.stderr
    assert sorted(files(tmp_path)) == [
        "config.yaml",
        "logs/libera/#..%2F..%2Fx/2026-03-10.jsonl",
        "logs/libera/#..%2F..%2Fx/2026-03-10.log",
        "old.log",
    ]
    outside = tmp_path / "outside"
    outside.mkdir()
    (tmp_path / "logs/other").symlink_to(outside)
    done = logbot_import(config, "--from", "limnoria", "--network", "other", str(old),
                         "--channel", "#chan")  # fmt: skip
    assert done.returncode == 1
    assert "days not written: 1" in done.stdout and "symbolic link" in done.stdout
    assert list(outside.iterdir()) == []


def test_an_existing_index_is_brought_up_to_date(tmp_path: Path) -> None:
    from logbot.archive.index import open_index

    config = setup(tmp_path)
    (tmp_path / "logs").mkdir()
    open_index(tmp_path / "data/index.sqlite3", tmp_path / "logs").close()
    done = logbot_import(config, "--from", "weechat", "--network", "libera",
                         str(SAMPLE_FOLDERS["weechat"]))  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == (
        f"index: {tmp_path / 'data/index.sqlite3'} updated (17 lines)"
    )


def test_the_command_offers_every_importer() -> None:
    from logbot.archive.imports import PROGRAMS
    from logbot.cli import import_cmd

    assert import_cmd._PROGRAMS == PROGRAMS  # written out so --help loads no importer
