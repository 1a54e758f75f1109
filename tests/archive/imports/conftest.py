"""Helpers of the import tests: the samples, a config in tmp_path, a sample parsed.

The samples (``samples/<program>/...``) are hand-written in each program's default
layout and folders, one line of every kind it writes; each test module lists what
every line must give."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from logbot.archive.imports import IMPORTERS
from logbot.archive.imports.source import Left, Source, Unread, numbered_lines
from logbot.config.loader import parse_config
from logbot.config.settings import Config
from logbot.logs.record import LogRecord

SAMPLES = Path(__file__).parent / "samples"
BERLIN = ZoneInfo("Europe/Berlin")
SAMPLE_FILES = {
    "limnoria": SAMPLES / "limnoria/ChannelLogger/libera/#logbot/#logbot.log",
    "irssi": SAMPLES / "irssi/irclogs/libera/#logbot.log",
    "znc": SAMPLES / "znc/users/alice/networks/libera/moddata/log/#logbot/2026-03-10.log",
    "weechat": SAMPLES / "weechat/logs/irc.libera.#logbot.weechatlog",
}
SAMPLE_FOLDERS = {
    "limnoria": SAMPLES / "limnoria/ChannelLogger",
    "irssi": SAMPLES / "irssi/irclogs",
    "znc": SAMPLES / "znc/users",
    "weechat": SAMPLES / "weechat/logs",
}


def at(day: int, hour: int, minute: int, second: int = 0) -> datetime:
    """A local time of the samples: March 2026 in Berlin (UTC+01:00)."""
    return datetime(2026, 3, day, hour, minute, second, tzinfo=BERLIN)


Row = tuple[datetime, str, str | None, str | None, str | None, str | None, str | None]


def row(r: LogRecord) -> Row:
    """What the tests compare of a record: time, type, nick, user, host, target, text."""
    return (r.time, r.type, r.nick, r.user, r.host, r.target, r.text)


def parse_lines(
    program: str, lines: list[str], channel: str = "#logbot", day: datetime | None = None
) -> tuple[list[LogRecord], list[Left], list[Unread]]:
    """``lines`` parsed by ``program``'s importer in Berlin time."""
    src = Source(program, "libera", channel, BERLIN, None if day is None else day.date())
    items = list(IMPORTERS[program].parse(enumerate(lines, 1), src))
    return _split(items)


def parse_file(program: str, path: Path) -> tuple[list[LogRecord], list[Left], list[Unread]]:
    """The file ``path`` parsed as ``logbot import`` reads it, in Berlin time."""
    importer = IMPORTERS[program]
    name = importer.name_of(path)
    assert name is not None and name.channel is not None
    src = Source(program, "libera", name.channel, BERLIN, name.day)
    with open(path, "rb") as f:
        lines = ((n, t) for n, t in numbered_lines(f, {}) if t is not None)
        return _split(list(importer.parse(lines, src)))


def _split(items: list[object]) -> tuple[list[LogRecord], list[Left], list[Unread]]:
    records = [i for i in items if isinstance(i, LogRecord)]
    left = [i for i in items if isinstance(i, Left)]
    unread = [i for i in items if isinstance(i, Unread)]
    assert len(records) + len(left) + len(unread) == len(items)
    return records, left, unread


def config_text(root: Path, data: Path, logging: str = "", network: str = "") -> str:
    """A config with network libera, its log root ``root``; ``logging`` and ``network``
    are YAML lines added to the top-level logging section and to the network."""
    return (
        "networks:\n  - name: libera\n    nick: x\n    servers: [h]\n"
        + "".join(f"    {line}\n" for line in network.splitlines())
        + f"logging:\n  root: '{root}'\n"
        + "".join(f"  {line}\n" for line in logging.splitlines())
        + f"plugins:\n  data_dir: '{data}'\n  enabled: []\n"
    )


def make_config(tmp_path: Path, logging: str = "", network: str = "") -> Config:
    """The config of :func:`config_text`, its root ``tmp_path/logs``."""
    return parse_config(config_text(tmp_path / "logs", tmp_path / "data", logging, network))
