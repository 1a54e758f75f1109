"""A log root as the bot writes it, for the export tests: every kind of line, in three
days of ``#chan`` (Berlin time), a day of ``#other``, and a private log.

The records go through :class:`~logbot.logs.writer.LogWriter`, as the bot's do: the
files are the bot's own, and an export must give them back byte for byte."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path

from logbot.archive.index import Index
from logbot.bot.netsplits import summaries
from logbot.config.loader import parse_config
from logbot.config.settings import Config, LogOptions
from logbot.logs.record import LogRecord, restamped
from logbot.logs.writer import LogWriter
from logbot.reactor.task import Clock
from tests.archive.imports.conftest import config_text

NET = "libera"
ZONE = "Europe/Berlin"
#: The days of #chan (Berlin): the first starts at 23:59 UTC the day before.
DAYS = ("2026-03-09", "2026-03-10", "2026-03-11")
START = datetime(2026, 3, 8, 23, 0, 0, 123000, tzinfo=UTC)  # 00:00:00.123 in Berlin


def _records(channel: str, start: datetime) -> list[LogRecord]:
    """One of every kind of line, from ``start`` on, a second apart."""
    clock = iter(range(1000))

    def at() -> datetime:
        return start + timedelta(seconds=next(clock))

    def rec(kind: str, nick: str | None = "mia", **kw: object) -> LogRecord:
        fields: dict[str, object] = {"user": "~mia", "host": "m.example"} if nick else {}
        fields.update(kw)
        return LogRecord(at(), "local", kind, NET, channel, nick, **fields)  # type: ignore[arg-type]

    served = at()
    records = [
        LogRecord(
            served,
            "server",
            "message",
            NET,
            channel,
            "mia",
            "~mia",
            "m.example",
            "mia",
            "hello, é and 🦀",
            None,
            "msg-1",
            {"time": served.strftime("%Y-%m-%dT%H:%M:%S.") + "123Z", "msgid": "msg-1"},
        ),
        rec("action", text="waves \\o/ at C:\\Users"),
        rec("notice", text="colours \x0304red\x0f and a bell \x07 and \x1b[2J"),
        rec("join"),
        rec("part", text="off to lunch"),
        rec("quit", text=None),
        rec("nick", target="mia_"),
        rec("kick", target="kyle", text="spamming"),
        rec("mode", text="+o mia"),
        rec("topic", text="a new topic"),
        rec("topic_info", text="the topic we found"),
        rec("chghost", target="~mia@new.example"),
        rec("setname", text="Mia M."),
        rec("away", text="gone fishing"),
        rec("back"),
        rec("connect", nick=None, text="connected to irc.example.net:6697"),
        rec("gap", nick=None, text="events between two times were not seen"),
        dataclasses.replace(rec("message", text="from history"), replayed="chathistory"),
        restamped(rec("message", text="a server clock ahead"), at(), "ahead"),
    ]
    # A netsplit: its QUITs in the jsonl only, then its summary in the text only.
    quits = [
        dataclasses.replace(
            rec("quit", nick=nick, text="*.net *.split", tags={"batch": "b1"}),
            split=("netsplit", "irc.hub.example irc.leaf.example"),
            only="jsonl",
        )
        for nick in ("sid", "sue", "sam")
    ]
    records += quits
    records += summaries(
        "netsplit",
        "irc.hub.example irc.leaf.example",
        NET,
        channel,
        ["sid", "sue", "sam"],
        quits[0].time,
        "local",
    )
    records.append(rec("message", text="after the split"))
    return records


def write_logs(root: Path, options: LogOptions) -> None:
    """The log root: #chan on :data:`DAYS`, #Other on the second, a private log."""
    records: list[LogRecord] = []
    for n in range(len(DAYS)):
        records += _records("#chan", START + timedelta(days=n))
    records += _records("#Other", START + timedelta(days=1, hours=5))
    records.append(
        LogRecord(
            START + timedelta(days=1, hours=6),
            "local",
            "message",
            NET,
            "alice",
            "alice",
            "~a",
            "a.example",
            None,
            "a private word",
        )  # fmt: skip
    )
    records.sort(key=lambda r: r.time)
    writer = LogWriter(Clock(), root=root, wall=lambda: START.timestamp())
    for record in records:
        writer.write(record, record.channel.lower(), options)
    writer.close()


def logging_yaml(layout: str) -> str:
    return f"text_layout: {layout}\ntimezone: {ZONE}\nprivate: true"


def make_logs(tmp_path: Path, layout: str = "limnoria") -> tuple[Config, Index]:
    """The config (log root ``tmp_path/logs``), the logs written, and their index."""
    config = parse_config(config_text(tmp_path / "logs", tmp_path / "data", logging_yaml(layout)))
    options = dataclasses.replace(config.log, server_time_tolerance=None)
    write_logs(tmp_path / "logs", options)
    index = Index(tmp_path / "data" / "index.sqlite3")
    index.update(tmp_path / "logs")
    return config, index


def files(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (its path below it) and its bytes."""
    if not folder.exists():
        return {}
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }
