"""LogService.unwritten(): what ``logbot run`` turns into exit status 3.

A real writer on a MemoryReactorClock, its folder read-only for real: lines still
pending when the writer is closed count, those of a writer closed by a reload (a new
log root) too, and nothing counts once the lines were written.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from logbot.bot.service import LogService
from logbot.config.settings import Config, LogOptions, PluginOptions
from logbot.logs.record import LogRecord
from logbot.reactor.testing import MemoryReactorClock
from tests.logs.test_writer import _read_only

OPTIONS = LogOptions(formats=("text",), server_time_tolerance=None)


def rec(channel: str) -> LogRecord:
    return LogRecord(
        time=datetime(2026, 1, 1, 12, tzinfo=UTC),
        time_source="server",
        type="message",
        network="net",
        channel=channel,
        nick="alice",
        text="hi",
    )


def config(tmp_path: Path, root: str = "logs") -> Config:
    return Config(
        networks=(),
        log=LogOptions(root=str(tmp_path / root)),
        source=str(tmp_path / "c.yaml"),
        plugins=PluginOptions(data_dir=str(tmp_path / "data")),
    )


def test_lines_pending_at_close_are_unwritten_with_their_channels(tmp_path: Path) -> None:
    service = LogService(config(tmp_path), MemoryReactorClock())
    folder = tmp_path / "logs" / "net"
    folder.mkdir(parents=True)
    _read_only(folder, True)
    try:
        for chan in ("#b", "#a", "#a"):
            service.writer.write(rec(chan), chan, OPTIONS)
        service.writer.close()
    finally:
        _read_only(folder, False)
    assert service.unwritten() == (3, ["net #a", "net #b"])


def test_written_at_close_is_not_unwritten(tmp_path: Path) -> None:
    service = LogService(config(tmp_path), MemoryReactorClock())
    folder = tmp_path / "logs" / "net"
    folder.mkdir(parents=True)
    _read_only(folder, True)
    try:
        service.writer.write(rec("#a"), "#a", OPTIONS)
        assert service.writer.stats.pending == 1
    finally:
        _read_only(folder, False)
    service.writer.close()  # retries once: written
    assert service.unwritten() == (0, [])


def test_a_writer_closed_by_a_reload_counts_too(tmp_path: Path) -> None:
    new = config(tmp_path, root="elsewhere")
    service = LogService(config(tmp_path), MemoryReactorClock(), loader=lambda p: new)
    folder = tmp_path / "logs" / "net"
    folder.mkdir(parents=True)
    _read_only(folder, True)
    try:
        service.writer.write(rec("#a"), "#a", OPTIONS)
        assert service.reload() is True
    finally:
        _read_only(folder, False)
    service.writer.write(rec("#c"), "#c", OPTIONS)
    service.writer.close()
    assert service.unwritten() == (1, ["net #a"])
    assert (tmp_path / "elsewhere" / "net" / "#c").is_dir()
