"""Child processes on the reactor: ``spawnProcess`` and the process transport.

``reactor.spawnProcess(protocol, executable, args, env={}, path=None, childFDs=None)``
starts ``executable`` and returns a ``Process``, the transport ``protocol`` talks to.
The child's pipes are ordinary selectables (``process_pipes.py``), so a child is driven
by the same loop, with the same event model, as a socket.

Starting a child (checks, ``posix_spawn`` or fork + exec, the descriptor plan) is
in ``process_spawn.py``, whose docstring says how and why.

Reaping: children are reaped with ``os.waitpid(pid, os.WNOHANG)`` for each child *of
this reactor* -- never ``waitpid(-1)``, which would steal the children of other code
(``subprocess`` for one).  What triggers the check is ``SIGCHLD``, through
``reactor.addSignalCallback``: the handler only wakes the loop, and the waitpids run
in the loop.  The handler is installed before the first fork of a busy period and
removed when the reactor's last child is reaped, so a reactor that is idle (or
closed) leaves ``SIGCHLD`` as it found it.  One check is also scheduled right after
each fork, in case the child already exited.  A SIGCHLD that arrives just before the
loop blocks in epoll_wait is not lost: the reactor points ``signal.set_wakeup_fd`` at
its waker, so the wait returns at once.  Signals need the main thread: when
``spawnProcess`` is called from another thread (a reactor running in a thread), the
reaper polls instead, with a timer from 1 ms doubling to 100 ms, reset at each spawn.

Events, in order: ``makeConnection``/``connectionMade`` (inside ``spawnProcess``),
``childDataReceived`` (``outReceived``/``errReceived`` via ``ProcessProtocol``),
``childConnectionLost(fd)`` for each pipe, ``processExited(reason)`` when the child is
reaped (its pipes may still be open), ``processEnded(reason)`` once it is reaped *and*
every pipe is closed.  ``reason.value`` is ``ProcessDone`` (exit 0) or
``ProcessTerminated(exitCode, signal, status)``.  A grandchild that inherited a pipe
keeps it open, and ``processEnded`` waits for it, as in Twisted.

Process groups (an extension; Twisted has no such argument): with
``spawnProcess(..., newSession=True)`` the child leads a session and process group of
its own, and the child and everything it starts are handled as one: every signal
(``signalProcess``, the shutdown's TERM and KILL) goes to the whole group with
``killpg``, and when the child exits, whatever it left in its group is sent
``SIGKILL`` before the child is reaped.  Why then: a zombie keeps its pid, and so the
group's id, reserved, so the signal cannot reach an unrelated group that got the
number later; once reaped, nothing would.  The exit is seen with
``waitid(..., WNOWAIT)``, which leaves the zombie in place.  This is for children the
bot owns outright (exec plugins: ``sleep 1000 &`` in a script must not outlive the
use); a grandchild that starts a session of its own (``setsid``, a daemon's double
fork) leaves the group and is not reached.

Shutdown: a ``before shutdown`` trigger sends ``SIGTERM`` to every child still running
and waits for their ``processEnded``; after ``SHUTDOWN_GRACE`` seconds (5 s) the ones
still running get ``SIGKILL`` and the pipes of reaped ones are closed without waiting
for grandchildren.  So protocols get their last events, and ``reactor.stop()`` returns
within the grace (the reactor's own ``shutdownTimeout`` bounds it too).  A child meant
to outlive the bot must detach itself (double fork); ``spawnProcess`` is for children
the bot owns.

Another user: ``spawnProcess(..., uid=, gid=)`` runs the child as that user and group
(numbers, as in Twisted), which needs a parent running as root; the child drops its
supplementary groups first (``setgroups([])``), then sets the group, then the user.
Not being allowed to is an ``OSError`` (``EPERM``) raised by ``spawnProcess``, like an
exec error (``process_spawn.py`` says how it comes back from the child).

A terminal: with ``usePTY=True`` the child's 0, 1 and 2 are the slave side of a new
pty, which is its controlling terminal in a session of its own (so ``isatty`` is
true, ``/dev/tty`` opens, and the child gets ``SIGHUP`` when we close the terminal).
The parent reads and writes the master: ``write`` types into the terminal, and
everything the child writes to it (stdout and stderr together, as on a screen)
arrives as ``childDataReceived(1, data)``.  The terminal's line discipline applies:
it echoes what we type and turns ``\n`` into ``\r\n`` on output.  As in Twisted,
``childFDs`` may not be given with ``usePTY`` (``ValueError``: the terminal *is* the
child's 0, 1 and 2), ``closeStdin``/``closeStdout``/``closeStderr`` do nothing (one
terminal cannot be half closed), and ``loseConnection`` closes the terminal.  When it
is gone (the child and everything that inherited it exited, or we closed it) the
protocol hears ``childConnectionLost`` for 0, 1 and 2 (Twisted calls none of them;
here they keep ``processEnded`` last, as with pipes).  Twisted's
``usePTY=(masterfd, slavefd, ttyname)`` form is accepted too; once the child is
started the descriptors are ours to close (if the spawn fails they stay the caller's).

Compatibility surface (Twisted's names, API.md): ``spawnProcess`` arguments
(``processProtocol``, ``executable``, ``args``, ``env``, ``path``, ``childFDs``,
``uid``, ``gid``, ``usePTY``); ``Process`` attributes ``pid``, ``pipes``, ``status``
and methods ``write``, ``writeSequence``, ``writeToChild``, ``closeChildFD``,
``closeStdin``, ``closeStdout``, ``closeStderr``, ``signalProcess``,
``loseConnection``, ``registerProducer``, ``unregisterProducer``, ``pauseProducing``,
``resumeProducing``, ``stopProducing``.  ``newSession`` and ``Process.ownGroup`` are
ours.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import weakref
from typing import Any

from logbot.reactor import error, process_spawn
from logbot.reactor.defer import Deferred
from logbot.reactor.failure import Failure
from logbot.reactor.process_pipes import PipeReader, PipeWriter, PTYMaster

log = logging.getLogger("logbot.reactor.process")

#: Seconds between SIGTERM and SIGKILL for the children still running at shutdown.
SHUTDOWN_GRACE = 5.0
#: The polling reaper's first and longest interval (no signals outside the main thread).
POLL_MIN = 0.001
POLL_MAX = 0.1


def spawnProcess(
    reactor: Any,
    processProtocol: Any,
    executable: str | bytes,
    args: Any = (),
    env: Any = {},  # noqa: B006  (Twisted's signature; never mutated)
    path: str | None = None,
    childFDs: dict[int, Any] | None = None,
    uid: Any = None,
    gid: Any = None,
    usePTY: Any = False,
    *,
    newSession: bool = False,
) -> Process:
    """Start ``executable`` with ``args`` and connect ``processProtocol`` to it.

    ``env=None`` inherits ``os.environ``; a mapping replaces it.  Raises ``OSError`` at
    once when the executable, ``path`` or an inherited descriptor is wrong, or when
    the child may not become ``uid``/``gid``.  ``usePTY``: the child runs on a
    terminal (see the module docstring).  ``newSession``: the child leads its own
    session and process group, signalled and cleaned up as a whole.
    """
    if usePTY and childFDs is not None:
        raise ValueError(
            "spawnProcess: childFDs cannot be used with usePTY: "
            "the terminal is the child's 0, 1 and 2"
        )
    process_spawn.checkIds(uid, gid)
    if env is None:
        env = os.environ
    envb = process_spawn.encodeEnv(env)
    argv = [os.fsencode(a) for a in args]
    if any(b"\0" in a for a in argv):
        raise ValueError("spawnProcess: an argument contains a NUL byte")
    name = os.fsdecode(executable)
    cwd = process_spawn.checkPath(name, path)
    program = process_spawn.findExecutable(name, env, cwd)
    plan: list[tuple[int, Any]] = []
    if not usePTY:
        plan = process_spawn.planFDs(
            process_spawn.DEFAULT_CHILD_FDS if childFDs is None else childFDs
        )

    reaper = _reaperFor(reactor)
    reaper.prepare()
    master = slave = -1  # the pty's two sides (usePTY): ours once the child runs
    made = False
    try:
        if usePTY:
            master, slave, made = process_spawn.openTerminal(usePTY)
            plan = [(0, slave), (1, slave), (2, slave)]
        pid, parentEnds = process_spawn.startChild(
            program,
            argv,
            envb,
            path,
            plan,
            name,
            setsid=newSession or bool(usePTY),
            uid=uid,
            gid=gid,
            ctty=bool(usePTY),
        )
    except BaseException:
        reaper.maybeIdle()
        if made:  # a pty we opened; the caller's own stays the caller's
            os.close(slave)
            os.close(master)
        raise
    terminal = None
    if usePTY:
        os.close(slave)  # the child has its copies; ours would keep the pty open
        terminal = master
    process = Process(
        reactor, processProtocol, pid, parentEnds, reaper, ownGroup=newSession, terminal=terminal
    )
    reaper.add(process)
    process._start()
    return process


# -- the transport ------------------------------------------------------------------------


class Process:
    """The transport of a running child: its pid, its pipes, its exit status."""

    def __init__(
        self,
        reactor: Any,
        proto: Any,
        pid: int,
        parentEnds: dict[int, tuple[str, int]],
        reaper: _Reaper,
        ownGroup: bool = False,
        terminal: int | None = None,
    ) -> None:
        self.reactor = reactor
        self.proto = proto
        self.pid: int | None = pid
        #: The child leads its own process group (``newSession``): signals go to it all.
        self.ownGroup = ownGroup
        self.status: int | None = None
        self._reaped = False
        self._ended = False
        self._reaper = reaper
        self._forceClose = False
        #: The child runs on a terminal (``usePTY``) whose master is ``pipes[0]``.
        self.usePTY = terminal is not None
        self.pipes: dict[int, PipeReader | PipeWriter] = {}
        self._writeFDs = {fd for fd, (kind, _) in parentEnds.items() if kind == "w"}
        for childFD, (kind, fd) in parentEnds.items():
            cls = PipeWriter if kind == "w" else PipeReader
            self.pipes[childFD] = cls(reactor, fd, self, childFD)
        if terminal is not None:
            self.pipes[0] = PTYMaster(reactor, terminal, self, 0)
            self._writeFDs.add(0)

    def _start(self) -> None:
        for pipe in self.pipes.values():
            if isinstance(pipe, PipeWriter):
                pipe.startWatching()
            else:
                pipe.startReading()
        self.proto.makeConnection(self)

    # -- writing --------------------------------------------------------------------

    def write(self, data: bytes) -> None:
        """Write to the child's stdin (buffered, non-blocking)."""
        self.writeToChild(0, data)

    def writeSequence(self, seq: Any) -> None:
        self.writeToChild(0, b"".join(seq))

    def writeToChild(self, childFD: int, data: bytes) -> None:
        """Write to the child's ``childFD``, a ``"w"`` pipe; ignored once it is closed."""
        pipe = self.pipes.get(childFD)
        if pipe is None:
            if childFD in self._writeFDs:
                return
            raise KeyError(f"child descriptor {childFD} is not a pipe the parent writes")
        if not isinstance(pipe, PipeWriter):
            raise KeyError(f"child descriptor {childFD} is a pipe the parent reads")
        pipe.write(data)

    # -- closing ----------------------------------------------------------------------

    def closeChildFD(self, childFD: int) -> None:
        """Close our end of ``childFD``: a write pipe after its buffer is written.

        On a terminal (``usePTY``) nothing: its one descriptor is the child's 0, 1 and
        2 at once, and only ``loseConnection`` closes it (as in Twisted).
        """
        if self.usePTY:
            return
        pipe = self.pipes.get(childFD)
        if pipe is not None:
            pipe.loseConnection()

    def closeStdin(self) -> None:
        self.closeChildFD(0)

    def closeStdout(self) -> None:
        self.closeChildFD(1)

    def closeStderr(self) -> None:
        self.closeChildFD(2)

    def loseConnection(self) -> None:
        """Close every pipe (stdin after its buffer); the child is not signalled.

        On a terminal: close it after what is buffered; the kernel sends the child's
        session ``SIGHUP``, as when a terminal window is closed.
        """
        for pipe in list(self.pipes.values()):
            pipe.loseConnection()

    def _closeAllNow(self) -> None:
        """Shutdown: close every pipe at once, dropping what is buffered."""
        for pipe in list(self.pipes.values()):
            pipe.connectionLost(Failure(error.ConnectionDone()))

    # -- signals ----------------------------------------------------------------------

    def signalProcess(self, signalID: str | int) -> None:
        """Send a signal: ``"TERM"``, ``"KILL"``, ``"INT"``, ``"HUP"``... or a number.

        Raises ``ProcessExitedAlready`` once the child has been reaped.  Until then its
        pid cannot be reused (it is our unreaped child), so the signal cannot reach
        another process.  With ``ownGroup`` the signal goes to the child's whole process
        group, whose id is that same reserved pid.
        """
        if isinstance(signalID, str):
            num = getattr(signal, "SIG" + signalID.upper().removeprefix("SIG"), None)
            if not isinstance(num, int):
                raise ValueError(f"unknown signal {signalID!r}")
        else:
            num = int(signalID)
        if self.pid is None:
            raise error.ProcessExitedAlready()
        try:
            if self.ownGroup:
                os.killpg(self.pid, num)
            else:
                os.kill(self.pid, num)
        except ProcessLookupError:
            raise error.ProcessExitedAlready() from None

    def _killLeftovers(self) -> None:
        """The child has exited but is not reaped yet: SIGKILL what it left in its group.

        Only here is that safe: the zombie still holds the group's id.
        """
        assert self.pid is not None
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):  # none left; or a setuid one
            pass

    # -- producers --------------------------------------------------------------------

    def registerProducer(self, producer: Any, streaming: bool) -> None:
        """A producer of what is written to the child's stdin."""
        pipe = self.pipes.get(0)
        if isinstance(pipe, PipeWriter):
            pipe.registerProducer(producer, streaming)
        else:
            producer.stopProducing()

    def unregisterProducer(self) -> None:
        pipe = self.pipes.get(0)
        if isinstance(pipe, PipeWriter):
            pipe.unregisterProducer()

    def pauseProducing(self) -> None:
        """As a producer of the child's output: stop reading its pipes."""
        for pipe in self.pipes.values():
            if isinstance(pipe, (PipeReader, PTYMaster)):
                pipe.stopReading()

    def resumeProducing(self) -> None:
        for pipe in self.pipes.values():
            if isinstance(pipe, (PipeReader, PTYMaster)):
                pipe.startReading()

    def stopProducing(self) -> None:
        self.loseConnection()

    # -- events from the pipes and the reaper ---------------------------------------------

    def _childDataReceived(self, childFD: int, data: bytes) -> None:
        self.proto.childDataReceived(childFD, data)

    def _childConnectionLost(self, childFD: int, reason: Failure) -> None:
        self.pipes.pop(childFD, None)
        # A terminal was the child's 0, 1 and 2 at once: all three are gone.
        for lost in (0, 1, 2) if self.usePTY else (childFD,):
            try:
                self.proto.childConnectionLost(lost)
            except Exception:
                log.exception("error in childConnectionLost of %r", self.proto)
        self._maybeEnded()

    def _exited(self, status: int | None) -> None:
        """Reaped with ``status`` (None: someone else reaped it and took the status)."""
        self.status = status
        self.pid = None
        self._reaped = True
        try:
            self.proto.processExited(Failure(self._reason()))
        except Exception:
            log.exception("error in processExited of %r", self.proto)
        if self._forceClose:
            self._closeAllNow()
        self._maybeEnded()

    def _maybeEnded(self) -> None:
        if self._reaped and not self.pipes and not self._ended:
            self._ended = True
            try:
                self.proto.processEnded(Failure(self._reason()))
            except Exception:
                log.exception("error in processEnded of %r", self.proto)
            self._reaper.ended(self)

    def _reason(self) -> Exception:
        status = self.status
        if status is None:
            return error.ProcessTerminated(None, None, None)
        if os.WIFSIGNALED(status):
            return error.ProcessTerminated(None, os.WTERMSIG(status), status)
        code = os.waitstatus_to_exitcode(status)
        if code == 0:
            return error.ProcessDone(status)
        return error.ProcessTerminated(code, None, status)

    def __repr__(self) -> str:
        return f"<Process pid={self.pid} status={self.status}>"


# -- reaping ------------------------------------------------------------------------------


_reapers: weakref.WeakKeyDictionary[Any, _Reaper] = weakref.WeakKeyDictionary()


def _reaperFor(reactor: Any) -> _Reaper:
    reaper = _reapers.get(reactor)
    if reaper is None:
        reaper = _reapers[reactor] = _Reaper(reactor)
    return reaper


class _Reaper:
    """The children of one reactor: reaps them and ends them at shutdown."""

    def __init__(self, reactor: Any) -> None:
        self._reactorRef = weakref.ref(reactor)  # a strong one would keep it alive
        self.running: dict[int, Process] = {}  # pid -> not yet reaped
        self.live: set[Process] = set()  # not yet ended (reaped or not)
        self._signals = False
        self._pollCall: Any = None
        self._pollInterval = POLL_MIN
        self._trigger: Any = None
        self._shutdownDone: Deferred[None] | None = None
        self.shutdownGrace: float | None = None  # None: the module's SHUTDOWN_GRACE

    @property
    def reactor(self) -> Any:
        return self._reactorRef()

    def prepare(self) -> None:
        """Before a fork: make sure its SIGCHLD cannot be missed."""
        if not self._signals and threading.current_thread() is threading.main_thread():
            self.reactor.addSignalCallback(signal.SIGCHLD, self.reapAll)
            self._signals = True

    def add(self, process: Process) -> None:
        self.running[process.pid] = process  # type: ignore[index]
        self.live.add(process)
        if self._trigger is None:
            self._trigger = self.reactor.addSystemEventTrigger("before", "shutdown", self._shutdown)
        if not self._signals:
            self._pollInterval = POLL_MIN
            if self._pollCall is not None and self._pollCall.active():
                self._pollCall.cancel()
            self._pollCall = self.reactor.callLater(POLL_MIN, self._poll)
        self.reactor.callLater(0, self._reap, process.pid)  # exited already?

    def _poll(self) -> None:
        self._pollCall = None
        self.reapAll()
        if not self.running or self._signals:
            return
        interval = self._pollInterval = min(self._pollInterval * 2, POLL_MAX)
        self._pollCall = self.reactor.callLater(interval, self._poll)

    def reapAll(self) -> None:
        """SIGCHLD (or a poll): check each of our children without blocking."""
        for pid in list(self.running):
            self._reap(pid)

    def _reap(self, pid: int) -> None:
        process = self.running.get(pid)
        if process is None:
            return
        try:
            if process.ownGroup:
                # Seen exited but left a zombie (WNOWAIT), its group is ended first.
                if os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is None:
                    return
                process._killLeftovers()
            wpid, status = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            log.warning("child %d was reaped by someone else; its status is lost", pid)
            wpid, status = pid, None
        if wpid == 0:
            return
        del self.running[pid]
        process._exited(status)
        if not self.running:
            self.maybeIdle()

    def ended(self, process: Process) -> None:
        self.live.discard(process)
        if not self.live:
            if self._shutdownDone is not None:
                d, self._shutdownDone = self._shutdownDone, None
                d.callback(None)
            self.maybeIdle()

    def maybeIdle(self) -> None:
        """No child left to reap: give SIGCHLD back and stop polling."""
        if self.running:
            return
        if self._signals:
            self._signals = False
            self.reactor.removeSignalCallback(signal.SIGCHLD, self.reapAll)
        if self._pollCall is not None:
            if self._pollCall.active():
                self._pollCall.cancel()
            self._pollCall = None
        if not self.live and self._trigger is not None:
            trigger, self._trigger = self._trigger, None
            try:
                self.reactor.removeSystemEventTrigger(trigger)
            except ValueError:  # shutdown is already running it
                pass

    def _shutdown(self) -> Deferred[None] | None:
        """``before shutdown``: TERM the running children, KILL them after the grace."""
        self._trigger = None
        if not self.live:
            return None
        for process in list(self.running.values()):
            try:
                process.signalProcess("TERM")
            except error.ProcessExitedAlready:
                pass
        d: Deferred[None] = Deferred()
        self._shutdownDone = d
        grace = SHUTDOWN_GRACE if self.shutdownGrace is None else self.shutdownGrace
        call = self.reactor.callLater(grace, self._kill)
        d.addBoth(lambda r: call.cancel() if call.active() else None)
        return d

    def _kill(self) -> None:
        for process in list(self.live):
            if process._reaped:
                process._closeAllNow()
            else:
                log.warning("child %d outlived the shutdown grace: killing it", process.pid)
                process._forceClose = True
                try:
                    process.signalProcess("KILL")
                except error.ProcessExitedAlready:
                    pass
