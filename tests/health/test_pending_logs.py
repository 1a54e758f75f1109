"""/healthz and /metrics while log lines wait for a log file that cannot be written.

A real LogService and LogWriter on a fake clock, the log folder made read-only for
real (tests.logs.test_writer._read_only): lines pending up to ``health.pending_grace``
keep the bot healthy (a retry rides out a blip); longer, /healthz says 503 and names
the channels; written at last, healthy again.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from logbot.bot.service import LogService
from logbot.config.settings import Config, HealthOptions, LogOptions, PluginOptions
from logbot.health.metrics import render_metrics
from logbot.health.report import health_report
from logbot.logs.record import LogRecord
from logbot.reactor.testing import MemoryReactorClock
from tests.logs.test_writer import _read_only

BASE = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
OPTIONS = LogOptions(formats=("text",), server_time_tolerance=None)


def rec(seconds: float, channel: str, text: str) -> LogRecord:
    return LogRecord(
        time=BASE + timedelta(seconds=seconds),
        time_source="server",
        type="message",
        network="net",
        channel=channel,
        nick="alice",
        text=text,
    )


def service(tmp_path: Path, grace: float) -> tuple[LogService, MemoryReactorClock]:
    config = Config(
        networks=(),
        log=LogOptions(root=str(tmp_path / "logs")),
        source=str(tmp_path / "c.yaml"),
        plugins=PluginOptions(data_dir=str(tmp_path / "data")),
        health=HealthOptions(pending_grace=grace),
    )
    reactor = MemoryReactorClock()
    reactor.advance(1000.0)
    return LogService(config, reactor), reactor


def oldest_pending(text: str) -> float:
    [value] = re.findall(r"^logbot_log_oldest_pending_seconds (\S+)$", text, re.M)
    return float(value)


def test_healthz_is_503_once_lines_waited_past_the_grace_and_200_when_written(
    tmp_path: Path,
) -> None:
    svc, reactor = service(tmp_path, grace=30.0)
    folder = tmp_path / "logs" / "net"
    folder.mkdir(parents=True)
    _read_only(folder, True)
    try:
        assert health_report(svc, reactor.seconds())[0]
        svc.writer.write(rec(0, "#a", "one"), "#a", OPTIONS)
        reactor.advance(10.0)
        svc.writer.write(rec(1, "#b", "two"), "#b", OPTIONS)  # a later outage: not the oldest
        reactor.advance(20.0)  # the oldest has waited 30 s: not more than the grace
        healthy, body = health_report(svc, reactor.seconds())
        assert healthy and body["status"] == "ok" and "unhealthy" not in body
        assert body["logs"] == {
            "pending": 2,
            "pending_seconds": 30.0,
            "pending_grace": 30.0,
            "overdue": False,
            "channels": ["net #a", "net #b"],
        }
        reactor.advance(0.5)
        healthy, body = health_report(svc, reactor.seconds())
        assert not healthy and body["status"] == "unhealthy"
        assert body["unhealthy"] == ["logs"]
        assert body["logs"]["overdue"] and body["logs"]["pending_seconds"] == 30.5
        assert oldest_pending(render_metrics(svc, reactor.seconds())) == 30.5
    finally:
        _read_only(folder, False)
    reactor.advance(5.0)  # the writer's retry
    healthy, body = health_report(svc, reactor.seconds())
    assert healthy and "logs" not in body and "unhealthy" not in body
    assert oldest_pending(render_metrics(svc, reactor.seconds())) == 0.0
    assert [p.name for p in sorted(folder.iterdir())] == ["#a", "#b"]
    assert svc.pending_targets() == []
    svc.writer.close()


def test_the_oldest_file_written_leaves_the_next_oldest_as_the_age(tmp_path: Path) -> None:
    """The age is that of the earliest outage still waiting, not of the first one."""
    svc, reactor = service(tmp_path, grace=30.0)
    root = tmp_path / "logs" / "net"
    (root / "#a").mkdir(parents=True)
    (root / "#b").mkdir(parents=True)
    _read_only(root / "#a", True)
    _read_only(root / "#b", True)
    try:
        svc.writer.write(rec(0, "#a", "one"), "#a", OPTIONS)
        reactor.advance(3.0)
        svc.writer.write(rec(1, "#b", "two"), "#b", OPTIONS)
        _read_only(root / "#a", False)
        reactor.advance(5.0)  # the retry writes #a's line, not #b's
        healthy, body = health_report(svc, reactor.seconds())
        assert body["logs"]["pending"] == 1 and body["logs"]["channels"] == ["net #b"]
        assert body["logs"]["pending_seconds"] == 5.0
        reactor.advance(25.5)
        healthy, body = health_report(svc, reactor.seconds())
        assert not healthy and body["unhealthy"] == ["logs"]
    finally:
        _read_only(root / "#a", False)
        _read_only(root / "#b", False)
    svc.writer.close()


def test_a_grace_of_0_is_unhealthy_as_soon_as_a_line_waits(tmp_path: Path) -> None:
    svc, reactor = service(tmp_path, grace=0.0)
    folder = tmp_path / "logs" / "net"
    folder.mkdir(parents=True)
    _read_only(folder, True)
    try:
        svc.writer.write(rec(0, "#a", "one"), "#a", OPTIONS)
        assert health_report(svc, reactor.seconds())[0]  # 0 s waited: not more than 0
        reactor.advance(0.001)
        assert not health_report(svc, reactor.seconds())[0]
    finally:
        _read_only(folder, False)
    svc.writer.close()
