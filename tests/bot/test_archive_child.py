"""The archive children of ``logbot run``: which commands, priorities, restarts, stop.

The timing (restart delays, the SIGKILL after STOP_TIMEOUT) runs on a fake clock; the
real children (``logbot index --follow`` and ``logbot web --no-follow`` started by
``logbot run``) are tested end to end in tests/e2e/test_archive_run.py.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
from dataclasses import replace
from typing import Any

import pytest

from logbot.bot.archive_child import (
    IDLE,
    MAX_RESTART_DELAY,
    RESTART_DELAY,
    STOP_TIMEOUT,
    WEB_NICENESS,
    ArchiveChild,
    ArchiveChildren,
    ChildCommand,
    archive_commands,
    set_priority,
)
from logbot.config.settings import Config, IndexOptions, NetworkConfig, ServerConfig, WebOptions
from logbot.reactor.error import ProcessTerminated
from logbot.reactor.failure import Failure
from logbot.reactor.testing import MemoryReactorClock

NET = NetworkConfig(name="n", servers=(ServerConfig("127.0.0.1"),), nick="lb")
PLAIN = Config(networks=(NET,), source="/etc/logbot.yaml")
WEB = replace(PLAIN, web=WebOptions())
INDEXED = replace(PLAIN, index=IndexOptions(enabled=True))
BASE = (sys.executable, "-m", "logbot")
FOLLOW = ChildCommand(
    "index --follow", (*BASE, "index", "--follow", "-c", "/etc/logbot.yaml"), IDLE
)
SERVE = ChildCommand("web", (*BASE, "web", "--no-follow", "-c", "/etc/logbot.yaml"), WEB_NICENESS)


def end(child: ArchiveChild, code: int = 1) -> None:
    assert child.protocol is not None
    child.protocol.processEnded(Failure(ProcessTerminated(exitCode=code)))


def test_the_commands_follow_the_config() -> None:
    assert archive_commands(PLAIN) == []
    assert archive_commands(replace(WEB, source=None)) == []  # nothing to hand a child
    assert archive_commands(INDEXED) == [FOLLOW]
    assert archive_commands(WEB) == [FOLLOW, SERVE]  # the index is on with a web view
    no_index = replace(WEB, index=IndexOptions(enabled=False))
    assert archive_commands(no_index) == [SERVE]


def test_no_child_without_an_archive() -> None:
    reactor = MemoryReactorClock()
    ArchiveChildren(reactor, PLAIN).start()
    assert reactor.spawnedProcesses == []


def test_a_child_that_ends_is_restarted_with_a_growing_delay() -> None:
    reactor = MemoryReactorClock()
    child = ArchiveChild(reactor, SERVE)
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


def test_stop_terms_then_kills_and_fires_when_they_ended() -> None:
    reactor = MemoryReactorClock()
    children = ArchiveChildren(reactor, WEB)
    children.start()
    processes = [c.process for c in children.children]
    done = children.stop()
    assert [p.signals for p in processes] == [[signal.SIGTERM]] * 2
    reactor.advance(STOP_TIMEOUT)
    assert [p.signals for p in processes] == [[signal.SIGTERM, signal.SIGKILL]] * 2
    fired: list[object] = []
    done.addCallback(fired.append)
    end(children.children[0], -9)
    assert fired == []
    end(children.children[1], -9)
    assert fired == [[None, None]]
    reactor.advance(MAX_RESTART_DELAY * 2)
    assert len(reactor.spawnedProcesses) == 2  # never restarted once stopping


def test_a_reload_that_changes_the_archive_replaces_the_children() -> None:
    reactor = MemoryReactorClock()
    children = ArchiveChildren(reactor, INDEXED)
    children.start()
    first = children.children[0].process
    children.reconfigure(INDEXED)  # unchanged: left alone
    assert first.signals == []
    children.reconfigure(WEB)
    assert first.signals == [signal.SIGTERM]
    assert len(reactor.spawnedProcesses) == 1  # the new ones wait for the old to end
    old = first.proto.owner
    end(old, 0)
    started = [args[3:5] for _, _, args, *_ in reactor.spawnedProcesses[1:]]
    assert started == [["index", "--follow"], ["web", "--no-follow"]]


def test_stderr_lines_are_logged_whole_and_bounded(caplog: pytest.LogCaptureFixture) -> None:
    reactor = MemoryReactorClock()
    child = ArchiveChild(reactor, SERVE)
    child.start()
    assert child.protocol is not None
    with caplog.at_level(logging.INFO, logger="logbot.archive"):
        child.protocol.childDataReceived(2, b"logbot web: serv")
        child.protocol.childDataReceived(2, b"ing http://127.0.0.1:8080/\n" + b"x" * 10000)
    messages = [r.getMessage() for r in caplog.records]
    assert "archive: logbot web: serving http://127.0.0.1:8080/" in messages
    assert any(m.startswith("archive: xxx") and len(m) < 4200 for m in messages)


def _policy(pid: int) -> tuple[int, int]:
    return os.sched_getscheduler(pid), os.getpriority(os.PRIO_PROCESS, pid)


def test_priorities_are_set_on_a_real_child() -> None:
    """SCHED_IDLE for the follower, a niceness for the web view (Linux)."""
    procs: list[Any] = []
    try:
        for priority in (IDLE, WEB_NICENESS):
            proc = subprocess.Popen(["sleep", "30"])
            procs.append(proc)
            set_priority(proc.pid, priority)
        assert _policy(procs[0].pid)[0] == os.SCHED_IDLE
        assert _policy(procs[1].pid) == (os.SCHED_OTHER, WEB_NICENESS)
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()
