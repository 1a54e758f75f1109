"""``logbot run``'s archive process: the index follower, and the web view if configured.

Why a child process and not more work on the bot's reactor: indexing parses and
stores every line a second time, and a web page of 10,000 lines takes tens of
milliseconds to build; neither may delay the logging path (a line read late is a
line at risk), and a bug or a memory blow-up in them must not take the logger down.
So with a ``web:`` section ``logbot run`` starts ``logbot web`` (which follows the
files into the index and serves the pages), and with only ``index: {enabled: true}``
it starts ``logbot index --follow``, each with the same config file, at a lower CPU
priority (the child calls ``os.nice``).  The child reads only the log files; the bot
never waits for it.

The child is supervised: when it exits (a crash, a kill), it is started again after
:data:`RESTART_DELAY` seconds, doubling up to :data:`MAX_RESTART_DELAY`, back to the
first delay once it has run :data:`HEALTHY_RUN` seconds.  Its stderr lines are
logged under the ``logbot.archive`` logger (bounded: :data:`MAX_LINE_BYTES` per line).
At shutdown it gets SIGTERM, then SIGKILL after :data:`STOP_TIMEOUT` seconds.  A
reload (SIGHUP) that changes the ``index`` or ``web`` section restarts it.
"""

from __future__ import annotations

import logging
import signal
import sys
from typing import Any

from logbot.config.settings import Config
from logbot.reactor import defer
from logbot.reactor.failure import Failure
from logbot.reactor.protocol import ProcessProtocol

__all__ = [
    "HEALTHY_RUN",
    "MAX_LINE_BYTES",
    "MAX_RESTART_DELAY",
    "RESTART_DELAY",
    "STOP_TIMEOUT",
    "ArchiveChild",
    "archive_argv",
]

log = logging.getLogger("logbot.archive")

RESTART_DELAY = 1.0  # seconds before the first restart of a child that exited
MAX_RESTART_DELAY = 60.0  # the longest wait between restarts
HEALTHY_RUN = 60.0  # a child that ran this long restarts after RESTART_DELAY again
STOP_TIMEOUT = 5.0  # seconds between SIGTERM and SIGKILL at shutdown
MAX_LINE_BYTES = 4096  # a longer stderr line of the child is cut


def archive_argv(config: Config) -> list[str] | None:
    """The child's command for ``config``, or None when it needs none (no ``web:``
    section, index not enabled, or a config not loaded from a file)."""
    if config.source is None:
        return None
    base = [sys.executable, "-m", "logbot"]
    if config.web is not None:
        return [*base, "web", "-c", config.source]
    if config.index.enabled:
        return [*base, "index", "--follow", "-c", config.source]
    return None


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
    """Keeps one archive child running for the service's config (see the module)."""

    def __init__(self, reactor: Any, config: Config) -> None:
        self.reactor = reactor
        self.argv = archive_argv(config)
        self.process: Any = None
        self.protocol: _ChildProtocol | None = None
        self.delay = RESTART_DELAY
        self.started_at = 0.0
        self.restarts = 0
        self._restart_call: Any = None
        self._stopping = False
        self._replacing = False  # a reload ended the child: start the new one at once
        self._stopped: defer.Deferred[None] | None = None
        self._kill_call: Any = None

    def start(self) -> None:
        if self.argv is None or self._stopping or self.process is not None:
            return
        self.protocol = _ChildProtocol(self)
        try:
            self.process = self.reactor.spawnProcess(
                self.protocol, self.argv[0], self.argv, env=None, newSession=True
            )
        except OSError as e:
            log.error("archive: cannot start %s: %s", " ".join(self.argv[3:5]), e)
            self.protocol = None
            self._schedule_restart()
            return
        self.started_at = self.reactor.seconds()
        what = " ".join(self.argv[3:5])
        log.info("archive: started `logbot %s` (pid %s)", what, self.process.pid)

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
        if self._replacing:
            self._replacing = False
            self.delay = 0.0  # ended on purpose: the new command starts at once
            log.info("archive: restarting for the new config")
            self._schedule_restart()
            return
        if ran >= HEALTHY_RUN:
            self.delay = RESTART_DELAY
        log.warning(
            "archive: the child ended (%s) after %.0f s; starting it again in %.0f s",
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

    def reconfigure(self, config: Config) -> None:
        """Restart the child if ``config`` asks for another one (a reload)."""
        argv = archive_argv(config)
        if argv == self.argv and self.process is not None:
            return
        self.argv = argv
        old = self.process
        if old is None:
            self._cancel_restart()
            self.delay = RESTART_DELAY
            self.start()
            return
        # The running child ends first; ended() then starts the new command.
        self._replacing = True
        self._signal(old, signal.SIGTERM)

    def stop(self) -> defer.Deferred[None]:
        """SIGTERM the child (SIGKILL after STOP_TIMEOUT); fires once it has ended."""
        self._stopping = True
        self._cancel_restart()
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
            log.warning("archive: the child did not stop in %.0f s: killing it", STOP_TIMEOUT)
            self._signal(self.process, signal.SIGKILL)

    def _finish_stop(self) -> None:
        if self._kill_call is not None and self._kill_call.active():
            self._kill_call.cancel()
        self._kill_call = None
        stopped = self._stopped
        if stopped is not None and not stopped.called:
            stopped.callback(None)

    def _cancel_restart(self) -> None:
        call, self._restart_call = self._restart_call, None
        if call is not None and call.active():
            call.cancel()

    @staticmethod
    def _signal(process: Any, signum: int) -> None:
        try:
            process.signalProcess(signum)
        except Exception:  # already gone: processEnded follows
            pass
