"""The archive child of ``logbot run``: which command, restarts with backoff, stop.

The timing (restart delays, the SIGKILL after STOP_TIMEOUT) runs on a fake clock; the
real child (``logbot web`` started by ``logbot run``) is tested end to end in
tests/e2e/test_archive_run.py.
"""

from __future__ import annotations

import signal
import sys
from dataclasses import replace

from logbot.bot.archive_child import (
    MAX_RESTART_DELAY,
    RESTART_DELAY,
    STOP_TIMEOUT,
    ArchiveChild,
    archive_argv,
)
from logbot.config.settings import Config, IndexOptions, NetworkConfig, ServerConfig, WebOptions
from logbot.reactor.error import ProcessTerminated
from logbot.reactor.failure import Failure
from logbot.reactor.testing import MemoryReactorClock

NET = NetworkConfig(name="n", servers=(ServerConfig("127.0.0.1"),), nick="lb")
PLAIN = Config(networks=(NET,), source="/etc/logbot.yaml")
WEB = replace(PLAIN, web=WebOptions())
INDEXED = replace(PLAIN, index=IndexOptions(enabled=True))


def end(child: ArchiveChild, code: int = 1) -> None:
    assert child.protocol is not None
    child.protocol.processEnded(Failure(ProcessTerminated(exitCode=code)))


def test_the_command_follows_the_config() -> None:
    assert archive_argv(PLAIN) is None
    assert archive_argv(replace(WEB, source=None)) is None  # nothing to hand the child
    assert archive_argv(WEB) == [sys.executable, "-m", "logbot", "web", "-c", "/etc/logbot.yaml"]
    assert archive_argv(INDEXED) == [
        sys.executable, "-m", "logbot", "index", "--follow", "-c", "/etc/logbot.yaml",
    ]  # fmt: skip


def test_no_child_without_an_archive() -> None:
    reactor = MemoryReactorClock()
    child = ArchiveChild(reactor, PLAIN)
    child.start()
    assert reactor.spawnedProcesses == []


def test_a_child_that_ends_is_restarted_with_a_growing_delay() -> None:
    reactor = MemoryReactorClock()
    child = ArchiveChild(reactor, WEB)
    child.start()
    assert len(reactor.spawnedProcesses) == 1
    delays = []
    for _ in range(9):
        end(child)
        before = len(reactor.spawnedProcesses)
        waited = 0.0
        while len(reactor.spawnedProcesses) == before:
            reactor.advance(0.5)
            waited += 0.5
        delays.append(waited)
    assert delays[0] == RESTART_DELAY
    assert delays[1] == 2 * RESTART_DELAY
    assert max(delays) == MAX_RESTART_DELAY
    # A child that ran long enough restarts quickly again.
    reactor.advance(3600)
    end(child)
    reactor.advance(RESTART_DELAY)
    assert child.process is not None


def test_stop_terms_then_kills_and_fires_when_it_ended() -> None:
    reactor = MemoryReactorClock()
    child = ArchiveChild(reactor, WEB)
    child.start()
    process = child.process
    done = child.stop()
    assert process.signals == [signal.SIGTERM]
    reactor.advance(STOP_TIMEOUT)
    assert process.signals == [signal.SIGTERM, signal.SIGKILL]
    fired: list[object] = []
    done.addCallback(fired.append)
    end(child, -9)
    assert fired == [None]
    reactor.advance(MAX_RESTART_DELAY * 2)
    assert len(reactor.spawnedProcesses) == 1  # never restarted once stopping


def test_a_reload_that_changes_the_archive_restarts_the_child() -> None:
    reactor = MemoryReactorClock()
    child = ArchiveChild(reactor, INDEXED)
    child.start()
    first = child.process
    child.reconfigure(INDEXED)  # unchanged: left alone
    assert first.signals == []
    child.reconfigure(WEB)
    assert first.signals == [signal.SIGTERM]
    end(child, 0)
    reactor.advance(0)
    assert reactor.spawnedProcesses[-1][2][3] == "web"
    end(child)  # a crash of the new child waits again
    reactor.advance(RESTART_DELAY - 0.1)
    assert child.process is None
    reactor.advance(0.1)
    assert child.process is not None


def test_stderr_lines_are_logged_whole_and_bounded(caplog: object) -> None:
    import logging

    reactor = MemoryReactorClock()
    child = ArchiveChild(reactor, WEB)
    child.start()
    assert child.protocol is not None
    with caplog.at_level(logging.INFO, logger="logbot.archive"):  # type: ignore[attr-defined]
        child.protocol.childDataReceived(2, b"logbot web: serv")
        child.protocol.childDataReceived(2, b"ing http://127.0.0.1:8080/\n" + b"x" * 10000)
    messages = [r.getMessage() for r in caplog.records]  # type: ignore[attr-defined]
    assert "archive: logbot web: serving http://127.0.0.1:8080/" in messages
    assert any(m.startswith("archive: xxx") and len(m) < 4200 for m in messages)
