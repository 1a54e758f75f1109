"""``logbot run``'s archive processes: the index follower, and the web view if configured.

Why child processes and not more work on the bot's reactor: indexing parses and
stores every line a second time, and a web page of 10,000 lines takes tens of
milliseconds to build; neither may delay the logging path (a line read late is a
line at risk), and a bug or a memory blow-up in them must not take the logger down.
So with the index on (``index.enabled``, or a ``web:`` section) ``logbot run`` starts
``logbot index --follow``; with ``archive.store: postgres``, ``logbot archive feed
--follow`` (the lines into the shared database); with a ``web:`` section also ``logbot
web --no-follow``
(the pages only), each with the same config file.  The child reads only the log
files; the bot never waits for it.

Their CPU priority is set from here, right after each start: the follower runs under
``SCHED_IDLE`` (:data:`IDLE`: it gets the CPU only when nothing else wants it, so a
flood being logged is never slowed by indexing it; it catches up after), the web view
at niceness :data:`WEB_NICENESS` (it answers people, so it must not starve, but the
bot comes first).  Where the policy cannot be set, the child runs as it is.

Each child is supervised: when it exits (a crash, a kill), it is started again after
:data:`RESTART_DELAY` seconds, doubling up to :data:`MAX_RESTART_DELAY`, back to the
first delay once it has run :data:`HEALTHY_RUN` seconds.  Its stderr lines are
logged under the ``logbot.archive`` logger (bounded: :data:`MAX_LINE_BYTES` per line).
At shutdown it gets SIGTERM, then SIGKILL after :data:`STOP_TIMEOUT` seconds.  A
reload (SIGHUP) that changes the ``index`` or ``web`` section restarts them.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
from dataclasses import dataclass
from typing import Any

from logbot.config.settings import Config
from logbot.reactor import defer
from logbot.reactor.failure import Failure
from logbot.reactor.protocol import ProcessProtocol

__all__ = [
    "HEALTHY_RUN",
    "IDLE",
    "WEB_NICENESS",
    "ArchiveChildren",
    "ChildCommand",
    "MAX_LINE_BYTES",
    "MAX_RESTART_DELAY",
    "RESTART_DELAY",
    "STOP_TIMEOUT",
    "ArchiveChild",
    "archive_commands",
    "set_priority",
    "sqlite_index_enabled",
]

log = logging.getLogger("logbot.archive")

RESTART_DELAY = 1.0  # seconds before the first restart of a child that exited
MAX_RESTART_DELAY = 60.0  # the longest wait between restarts
HEALTHY_RUN = 60.0  # a child that ran this long restarts after RESTART_DELAY again
STOP_TIMEOUT = 5.0  # seconds between SIGTERM and SIGKILL at shutdown
MAX_LINE_BYTES = 4096  # a longer stderr line of the child is cut
IDLE = "idle"  # the index follower's priority: SCHED_IDLE
WEB_NICENESS = 10  # the web view's niceness


@dataclass(frozen=True)
class ChildCommand:
    """One archive child: its name in the log, its argv, its priority (:data:`IDLE`
    or a niceness)."""

    name: str
    argv: tuple[str, ...]
    priority: str | int


def sqlite_index_enabled(config: Config) -> bool:
    """Whether this bot keeps the SQLite index: ``index.enabled``, or when left to
    default, with a ``web`` section and the archive in SQLite (with ``archive.store:
    postgres`` the web view reads the database; the index then only when asked for)."""
    enabled = config.index.enabled
    if enabled is None:
        return config.web is not None and config.archive.store == "sqlite"
    return enabled


def archive_commands(config: Config) -> list[ChildCommand]:
    """The children ``config`` asks for (none without a config file to hand them)."""
    if config.source is None:
        return []
    base = (sys.executable, "-m", "logbot")
    commands = []
    argv: tuple[str, ...]
    if sqlite_index_enabled(config):
        argv = (*base, "index", "--follow", "-c", config.source)
        commands.append(ChildCommand("index --follow", argv, IDLE))
    if config.archive.store == "postgres":
        argv = (*base, "archive", "feed", "--follow", "-c", config.source)
        commands.append(ChildCommand("archive feed --follow", argv, IDLE))
    if config.web is not None:
        argv = (*base, "web", "--no-follow", "-c", config.source)
        commands.append(ChildCommand("web", argv, WEB_NICENESS))
    return commands


def set_priority(pid: int, priority: str | int) -> None:
    """Lower ``pid``'s CPU priority as :class:`ChildCommand` says; a platform or a
    sandbox that refuses leaves it as it is (logged at debug)."""
    try:
        if priority == IDLE:
            os.sched_setscheduler(pid, os.SCHED_IDLE, os.sched_param(0))
        else:
            os.setpriority(os.PRIO_PROCESS, pid, int(priority))
    except (AttributeError, OSError) as e:
        log.debug("archive: cannot set the priority of %d to %s: %s", pid, priority, e)


class _ChildProtocol(ProcessProtocol):
    def __init__(self, owner: ArchiveChild) -> None:
        self.owner = owner
        self.partial = b""

    def errReceived(self, data: bytes) -> None:
        lines = (self.partial + data).split(b"\n")
        self.partial = lines.pop()
        if len(self.partial) > MAX_LINE_BYTES:
            lines.append(self.partial)
            self.partial = b""
        for line in lines:
            self.owner.child_said(line[:MAX_LINE_BYTES])

    outReceived = errReceived

    def processEnded(self, reason: Failure) -> None:
        if self.partial:
            self.owner.child_said(self.partial[:MAX_LINE_BYTES])
        self.owner.ended(self, reason)


class ArchiveChild:
    """Keeps one archive child running (see the module docstring)."""

    def __init__(self, reactor: Any, command: ChildCommand) -> None:
        self.reactor = reactor
        self.command = command
        self.process: Any = None
        self.protocol: _ChildProtocol | None = None
        self.delay = RESTART_DELAY
        self.started_at = 0.0
        self.restarts = 0
        self._restart_call: Any = None
        self._stopping = False
        self._stopped: defer.Deferred[None] | None = None
        self._kill_call: Any = None

    def start(self) -> None:
        if self._stopping or self.process is not None:
            return
        argv = list(self.command.argv)
        self.protocol = _ChildProtocol(self)
        try:
            # Not in a session of its own (no newSession): with the kernel's autogroup
            # scheduling (on by default on desktops and many servers), a new session is a
            # new group that gets an equal share of the CPU against the bot's, whatever
            # the child's own policy: measured, a SCHED_IDLE follower in its own session
            # took 40 % of the bot's CPU during a flood (29K lines/s instead of 50K).
            env = dict(os.environ, LOGBOT_PARENT_PID=str(os.getpid()))  # die_with_parent
            self.process = self.reactor.spawnProcess(self.protocol, argv[0], argv, env=env)
        except OSError as e:
            log.error("archive: cannot start `logbot %s`: %s", self.command.name, e)
            self.protocol = None
            self._schedule_restart()
            return
        self.started_at = self.reactor.seconds()
        pid = self.process.pid
        if isinstance(pid, int):
            set_priority(pid, self.command.priority)
        log.info("archive: started `logbot %s` (pid %s)", self.command.name, pid)

    def child_said(self, line: bytes) -> None:
        text = line.decode("utf-8", "replace").rstrip()
        if text:
            log.info("archive: %s", text)

    def ended(self, protocol: _ChildProtocol, reason: Failure) -> None:
        if protocol is not self.protocol:
            return
        self.process = self.protocol = None
        if self._stopping:
            self._finish_stop()
            return
        ran = self.reactor.seconds() - self.started_at
        if ran >= HEALTHY_RUN:
            self.delay = RESTART_DELAY
        log.warning(
            "archive: `logbot %s` ended (%s) after %.0f s; starting it again in %.0f s",
            self.command.name,
            reason.value,
            ran,
            self.delay,
        )
        self._schedule_restart()

    def _schedule_restart(self) -> None:
        if self._stopping:
            return
        delay = self.delay
        self.delay = min(max(delay * 2, RESTART_DELAY), MAX_RESTART_DELAY)
        self._restart_call = self.reactor.callLater(delay, self._restart)

    def _restart(self) -> None:
        self._restart_call = None
        self.restarts += 1
        self.start()

    def stop(self) -> defer.Deferred[None]:
        """SIGTERM the child (SIGKILL after STOP_TIMEOUT); fires once it has ended."""
        self._stopping = True
        call, self._restart_call = self._restart_call, None
        if call is not None and call.active():
            call.cancel()
        if self._stopped is not None:
            return self._stopped
        self._stopped = defer.Deferred()
        if self.process is None:
            self._stopped.callback(None)
            return self._stopped
        self._signal(self.process, signal.SIGTERM)
        self._kill_call = self.reactor.callLater(STOP_TIMEOUT, self._kill)
        return self._stopped

    def _kill(self) -> None:
        self._kill_call = None
        if self.process is not None:
            log.warning(
                "archive: `logbot %s` did not stop in %.0f s: killing it",
                self.command.name,
                STOP_TIMEOUT,
            )
            self._signal(self.process, signal.SIGKILL)

    def _finish_stop(self) -> None:
        if self._kill_call is not None and self._kill_call.active():
            self._kill_call.cancel()
        self._kill_call = None
        stopped = self._stopped
        if stopped is not None and not stopped.called:
            stopped.callback(None)

    @staticmethod
    def _signal(process: Any, signum: int) -> None:
        try:
            process.signalProcess(signum)
        except Exception:  # already gone: processEnded follows
            pass


class ArchiveChildren:
    """The service's archive children for its config: ``start()``, ``stop()`` (a
    Deferred), ``reconfigure(config)`` (a reload: children no longer asked for stop,
    new or changed ones start once the old one has ended)."""

    def __init__(self, reactor: Any, config: Config) -> None:
        self.reactor = reactor
        self.children = [ArchiveChild(reactor, c) for c in archive_commands(config)]
        self._started = False

    def start(self) -> None:
        self._started = True
        for child in self.children:
            child.start()

    def stop(self) -> defer.Deferred[Any]:
        return defer.gatherResults([c.stop() for c in self.children], consumeErrors=True)

    def reconfigure(self, config: Config) -> None:
        wanted = archive_commands(config)
        if wanted == [c.command for c in self.children]:
            return
        old, self.children = self.children, [ArchiveChild(self.reactor, c) for c in wanted]
        stopping = [child.stop() for child in old]
        log.info("archive: restarting the archive processes for the new config")
        if self._started:
            defer.gatherResults(stopping, consumeErrors=True).addCallback(lambda _: self.start())
