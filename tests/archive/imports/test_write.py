"""Imported days written as logbot's files (in-process, through
:func:`logbot.archive.imports.run.run`): the configured path, formats and layout; an
existing day never touched unless merged; merging keeps every line of the file and
drops only duplicates; a dry run writes nothing; nothing is written outside the log
root or through a link; an interrupted write leaves no file, whole or half."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from logbot.archive.imports import source, write
from logbot.archive.imports.run import Request, run
from logbot.config.settings import Config
from logbot.logs.formats import format_jsonl, format_text
from logbot.logs.record import LogRecord
from logbot.logs.schema import load_schema
from tests.archive.imports.conftest import SAMPLE_FOLDERS, make_config

VALIDATOR = Draft202012Validator(load_schema())


def request(program: str, *paths: Path, **kw: object) -> Request:
    kw.setdefault("timezone", "Europe/Berlin")
    return Request(program, "libera", paths, **kw)  # type: ignore[arg-type]


def tree(folder: Path) -> dict[str, bytes]:
    """Every file below ``folder`` (links as their target's name), by relative path."""
    out: dict[str, bytes] = {}
    for path in sorted(folder.rglob("*")):
        rel = str(path.relative_to(folder))
        if path.is_symlink():
            out[rel] = b"-> " + os.readlink(path).encode()
        elif path.is_file():
            out[rel] = path.read_bytes()
    return out


def jsonl(path: Path) -> list[dict[str, object]]:
    objs = [json.loads(line) for line in path.read_text().splitlines()]
    for obj in objs:
        error = next(iter(VALIDATOR.iter_errors(obj)), None)
        assert error is None, f"{error.message}: {obj}"
    return objs


def test_days_go_to_the_configured_path_formats_and_layout(tmp_path: Path) -> None:
    config = make_config(
        tmp_path,
        "path: '{network}/{channel}/{date:%Y}/{date:%m-%d}.log'\ntext_layout: irssi\n"
        "timezone: Europe/Berlin",
    )
    report = run(config, request("znc", SAMPLE_FOLDERS["znc"]))
    assert not report.troubled
    assert report.days == {"written": 2} and report.lines == {"#logbot": 13}
    assert report.files_read == 2 and report.files_skipped == 1  # the status window
    day = tmp_path / "logs/libera/#logbot/2026"
    assert sorted(p.name for p in day.iterdir()) == [
        "03-10.jsonl", "03-10.log", "03-11.jsonl", "03-11.log",
    ]  # fmt: skip
    text = (day / "03-10.log").read_text().splitlines()
    assert text[:3] == [
        "09:58 -!- alice [~alice@user/alice] has joined #logbot",
        "10:00 <alice> good morning",
        "10:00 <op> morning, see C:\\Users and \\o/",
    ]
    assert text[-1] == "10:08 -!- alice [~alice@user/alice] has quit [Quit: bye]"
    objs = jsonl(day / "03-10.jsonl")
    assert len(objs) == 12 and len(text) == 12
    assert objs[0]["time"] == "2026-03-10T09:58:02.000+01:00"
    assert {o["tags"] == {"logbot.imported": "znc"} for o in objs} == {True}
    assert {o["time_source"] for o in objs} == {"local"}
    assert [o["type"] for o in objs] == [
        "join", "message", "message", "action", "notice", "mode", "topic", "nick", "kick",
        "part", "part", "quit",
    ]  # fmt: skip


def test_a_day_in_two_files_is_one_day_in_time_order(tmp_path: Path) -> None:
    # ZNC dated its files in Berlin; in UTC, 00:30 on the 11th is 23:30 on the 10th
    config = make_config(tmp_path)
    report = run(config, request("znc", SAMPLE_FOLDERS["znc"]))
    assert report.days == {"written": 1} and not report.troubled
    folder = tmp_path / "logs/libera/#logbot"
    assert sorted(p.name for p in folder.iterdir()) == ["2026-03-10.jsonl", "2026-03-10.log"]
    text = (folder / "2026-03-10.log").read_text().splitlines()
    assert text[0].startswith("2026-03-10T08:58:02  *** alice <alice!~alice@user/alice>")
    assert text[-1] == "2026-03-10T23:30:00  <alice> after midnight (local)"
    times = [o["time_ms"] for o in jsonl(folder / "2026-03-10.jsonl")]
    assert len(times) == 13 and times == sorted(times)


def test_an_existing_day_is_skipped_and_named_its_files_untouched(tmp_path: Path) -> None:
    config = make_config(tmp_path, "timezone: Europe/Berlin")
    folder = tmp_path / "logs/libera/#logbot"
    folder.mkdir(parents=True)
    (folder / "2026-03-10.jsonl").write_bytes(b"the bot's own day\n")
    before = tree(tmp_path / "logs")
    report = run(config, request("limnoria", SAMPLE_FOLDERS["limnoria"]))
    assert report.skipped_days == ["#logbot 2026-03-10"] and report.skipped_lines == 16
    assert report.days == {"written": 1} and report.lines == {"#logbot": 1}
    after = tree(tmp_path / "logs")
    assert {k: v for k, v in after.items() if k in before} == before
    assert sorted(set(after) - set(before)) == [
        "libera/#logbot/2026-03-11.jsonl", "libera/#logbot/2026-03-11.log",
    ]  # fmt: skip
    assert "days skipped, already logged (--merge merges them): 1" in report.summary()


def test_a_compressed_day_is_skipped_and_never_merged(tmp_path: Path) -> None:
    config = make_config(tmp_path, "timezone: Europe/Berlin")
    folder = tmp_path / "logs/libera/#logbot"
    folder.mkdir(parents=True)
    (folder / "2026-03-10.log.gz").write_bytes(b"\x1f\x8b")
    assert run(config, request("limnoria", SAMPLE_FOLDERS["limnoria"])).skipped_days
    report = run(config, request("limnoria", SAMPLE_FOLDERS["limnoria"], merge=True))
    assert report.failed_days == ["#logbot 2026-03-10: compressed or split into parts: not merged"]
    assert not (folder / "2026-03-10.log").exists()


def _bot_line(hour: int, minute: int, second: int, kind: str, nick: str, text: str) -> LogRecord:
    when = datetime(2026, 3, 10, hour, minute, second, tzinfo=UTC)
    return LogRecord(when, "server", kind, "libera", "#logbot", nick, None, None, None, text)


def test_merge_keeps_every_line_of_the_day_and_drops_only_duplicates(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    folder = tmp_path / "logs/libera/#logbot"
    folder.mkdir(parents=True)
    bot = [
        _bot_line(9, 0, 0, "message", "alice", "good morning"),  # also in the import
        _bot_line(9, 0, 3, "message", "dave", "only the bot saw this"),
        _bot_line(9, 0, 5, "action", "bob", "waves"),  # also in the import
    ]
    damaged = b'{"time":"2026-03-10T09:00:03.5'  # a torn line: kept, after its predecessor
    (folder / "2026-03-10.jsonl").write_bytes(
        format_jsonl(bot[0], UTC).encode() + format_jsonl(bot[1], UTC).encode() + damaged
        + b"\n" + format_jsonl(bot[2], UTC).encode()
    )  # fmt: skip
    (folder / "2026-03-10.log").write_text("".join(format_text(r, UTC) for r in bot))
    lines = [
        "2026-03-10T10:00:00  <alice> good morning",
        "2026-03-10T10:00:00  <alice> good morning",  # said twice: one is new
        "2026-03-10T10:00:04  <erin> new here",
        "2026-03-10T10:00:05  * bob waves",
    ]
    old = tmp_path / "old/#logbot.log"
    old.parent.mkdir()
    old.write_text("\n".join(lines) + "\n")
    report = run(config, request("limnoria", old, merge=True))
    assert not report.troubled
    assert report.days == {"merged": 1} and report.duplicates == 2
    assert report.lines == {"#logbot": 2}
    raw = (folder / "2026-03-10.jsonl").read_bytes().splitlines()
    assert raw[3] == damaged  # after the line it followed
    got = [json.loads(line) for line in raw if line != damaged]
    assert [(o["nick"], o["text"], o["time_source"]) for o in got] == [
        ("alice", "good morning", "server"),
        ("alice", "good morning", "local"),
        ("dave", "only the bot saw this", "server"),
        ("erin", "new here", "local"),
        ("bob", "waves", "server"),
    ]
    assert (folder / "2026-03-10.log").read_text().splitlines() == [
        "2026-03-10T09:00:00  <alice> good morning",
        "2026-03-10T09:00:00  <alice> good morning",
        "2026-03-10T09:00:03  <dave> only the bot saw this",
        "2026-03-10T09:00:04  <erin> new here",
        "2026-03-10T09:00:05  * bob waves",
    ]
    again = run(config, request("limnoria", old, merge=True))  # nothing new: untouched
    assert again.duplicates == 4 and again.lines == {"#logbot": 0}


def test_merging_into_a_text_file_keeps_its_layout(tmp_path: Path) -> None:
    config = make_config(tmp_path, "text_layout: irssi\nformats: [text]")
    folder = tmp_path / "logs/libera/#logbot"
    folder.mkdir(parents=True)
    (folder / "2026-03-10.log").write_text("2026-03-10T08:00:00  <dave> limnoria layout\n")
    old = tmp_path / "old/#logbot.log"
    old.parent.mkdir()
    old.write_text("2026-03-10T10:00:04  <erin> new here\n")
    run(config, request("limnoria", old, merge=True))
    assert (folder / "2026-03-10.log").read_text().splitlines() == [
        "2026-03-10T08:00:00  <dave> limnoria layout",
        "2026-03-10T09:00:04  <erin> new here",
    ]


def test_a_dry_run_writes_nothing_and_says_what_it_would(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    dry = run(config, request("weechat", SAMPLE_FOLDERS["weechat"], dry_run=True))
    assert not (tmp_path / "logs").exists()
    assert dry.days == {"written": 1} and dry.lines == {"#logbot": 17}
    assert dry.summary()[:2] == [
        "files read: 1 (dry run: nothing written)",
        "  #logbot: 17 lines would be imported",
    ]
    real = run(config, request("weechat", SAMPLE_FOLDERS["weechat"]))
    assert (real.days, real.lines) == (dry.days, dry.lines)
    before = tree(tmp_path / "logs")
    merge = run(config, request("weechat", SAMPLE_FOLDERS["weechat"], merge=True, dry_run=True))
    assert merge.days == {"merged": 1} and merge.duplicates == 17
    assert tree(tmp_path / "logs") == before


def test_a_hostile_channel_name_stays_one_folder_under_the_root(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    old = tmp_path / "old/whatever.log"
    old.parent.mkdir()
    old.write_text("2026-03-10T10:00:00  <alice> hi\n")
    report = run(config, request("limnoria", old, channel="#../../x"))
    assert not report.troubled and report.days == {"written": 1}
    assert sorted(tree(tmp_path)) == [
        "logs/libera/#..%2F..%2Fx/2026-03-10.jsonl",
        "logs/libera/#..%2F..%2Fx/2026-03-10.log",
        "old/whatever.log",
    ]
    assert (
        json.loads((tmp_path / "logs/libera/#..%2F..%2Fx/2026-03-10.jsonl").read_text())["channel"]
        == "#../../x"
    )


def test_a_link_planted_in_the_root_is_never_followed(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    outside = tmp_path / "outside"
    outside.mkdir()
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs/libera").symlink_to(outside)
    report = run(config, request("weechat", SAMPLE_FOLDERS["weechat"]))
    assert report.troubled and report.days == {}
    assert len(report.failed_days) == 1
    assert report.failed_days[0].startswith("#logbot 2026-03-10: ")
    assert "symbolic link" in report.failed_days[0]
    assert list(outside.iterdir()) == []


def test_a_link_in_place_of_a_day_file_is_not_merged_through(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    folder = tmp_path / "logs/libera/#logbot"
    folder.mkdir(parents=True)
    (folder / "2026-03-10.jsonl").symlink_to(victim)
    assert run(config, request("weechat", SAMPLE_FOLDERS["weechat"])).skipped_days
    report = run(config, request("weechat", SAMPLE_FOLDERS["weechat"], merge=True))
    assert "symbolic link" in report.failed_days[0]
    assert victim.read_text() == "precious\n"
    assert (folder / "2026-03-10.jsonl").is_symlink()


def test_an_interrupted_write_leaves_no_file_whole_or_half(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = make_config(tmp_path)

    def fail(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(write.os, "link", fail)
    report = run(config, request("weechat", SAMPLE_FOLDERS["weechat"]))
    assert report.failed_days == ["#logbot 2026-03-10: No space left on device"]
    assert list((tmp_path / "logs/libera/#logbot").iterdir()) == []  # no temporary file


def test_long_and_latin1_lines(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(source, "MAX_LINE_BYTES", 100)
    config = make_config(tmp_path)
    old = tmp_path / "old/#logbot.log"
    old.parent.mkdir()
    old.write_bytes(
        b"2026-03-10T10:00:00  <alice> " + b"x" * 300 + b"\n2026-03-10T10:00:01  <bob> caf\xe9\n"
    )
    report = run(config, request("limnoria", old))
    assert report.unread == 1 and report.stats == {"latin1": 1}
    assert report.examples == [f"{old}:1: longer than 100 bytes"]
    objs = jsonl(tmp_path / "logs/libera/#logbot/2026-03-10.jsonl")
    assert [(o["nick"], o["text"]) for o in objs] == [("bob", "café")]


def test_files_that_cannot_be_read_are_named(tmp_path: Path) -> None:
    config: Config = make_config(tmp_path)
    odd = tmp_path / "old/2026-03-10.log"  # a ZNC file outside any channel folder
    odd.parent.mkdir()
    odd.write_text("[10:00:00] <alice> hi\n")
    undated = tmp_path / "old/notes.log"
    undated.write_text("[10:00:00] <alice> hi\n")
    report = run(config, request("znc", odd, undated))
    assert report.file_problems == [
        f"{odd}: its name does not say the channel: give --channel",
        f"{undated}: its name does not say the channel: give --channel",
    ]
    report = run(config, request("znc", odd, undated, channel="#logbot"))
    assert report.file_problems == [
        f"{undated}: its name is not a date (YYYY-MM-DD.log): its lines have none"
    ]
    assert report.days == {"written": 1} and report.troubled
    fifo = tmp_path / "old/#fifo.log"
    os.mkfifo(fifo)
    report = run(config, request("limnoria", fifo))
    assert report.file_problems == [f"{fifo}: not a regular file"]
    assert report.files_read == 0
