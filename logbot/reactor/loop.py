"""The Reactor: one thread, one loop, every event of the process.

The loop is ``_run_once`` below, in the shape of asyncio's ``BaseEventLoop._run_once``:

1. compute the timeout: 0 when work is already queued (thread calls), else the time
   until the next timer (None when there is none);
2. wait in the backend (epoll/poll/select) for at most that long;
3. dispatch I/O: ``doRead`` / ``doWrite`` on the selectable that owns each ready fd;
4. run the timers that are due now (calls scheduled meanwhile wait for the next turn);
5. run the calls queued from other threads and signal handlers.

A *selectable* is any object with ``fileno()``, ``doRead()``, ``doWrite()`` and
``connectionLost(reason)``: TCP/TLS connections, listening ports, connect attempts, pipes
to child processes, the waker.  The reactor owns a backend; it is not a subclass of one.

An exception that escapes ``doRead``/``doWrite`` (that is, from a protocol callback) is
logged with its traceback and closes that one selectable; the loop goes on.  An exception
in a timed call is logged and the loop goes on.

Compatibility surface (Twisted's names, see API.md): ``run``, ``stop``, ``running``,
``callWhenRunning``, ``seconds``, ``callLater``, ``callFromThread``,
``addSystemEventTrigger``, ``removeSystemEventTrigger``, ``fireSystemEvent``,
``iterate``, ``addReader``, ``addWriter``, ``removeReader``, ``removeWriter``,
``removeAll``, ``getReaders``, ``getWriters``, ``listenTCP``, ``connectTCP``,
``listenSSL``, ``connectSSL``, ``spawnProcess``, ``resolve``.
"""

from __future__ import annotations

import collections
import logging
import signal
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol, TypeAlias

from logbot.reactor import backends, error
from logbot.reactor.backends import READ, READABLE, WRITE
from logbot.reactor.failure import Failure
from logbot.reactor.timers import DelayedCall, TimerQueue
from logbot.reactor.waker import Waker

log = logging.getLogger("logbot.reactor")

#: The longest single wait; keeps timeouts far from the kernel's integer limits.
MAX_WAIT = 3600.0
#: How long shutdown waits for the Deferreds that ``before`` triggers return.
SHUTDOWN_TIMEOUT = 10.0

#: A queued call: ``(f, args, kw)``.
_Call: TypeAlias = "tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]"


class _Selectable(Protocol):
    """What the loop calls on a watched object (see the module docstring)."""

    def fileno(self) -> int: ...

    def doRead(self) -> None: ...

    def doWrite(self) -> None: ...

    def connectionLost(self, reason: Failure) -> None: ...


class Reactor:
    """An event loop over one backend.

    ``backend`` is ``"epoll"``, ``"poll"``, ``"select"`` or None (the best available);
    ``clock`` is the time source (``time.monotonic``; injectable for tests of the loop
    itself — most tests use ``task.Clock`` instead of a reactor).
    """

    def __init__(
        self,
        backend: str | None = None,
        clock: Callable[[], float] = time.monotonic,
        shutdownTimeout: float = SHUTDOWN_TIMEOUT,
    ) -> None:
        self._backend = backends.create(backend)
        self.backendName = self._backend.name
        self.seconds = clock
        self.shutdownTimeout = shutdownTimeout
        self._timers = TimerQueue(clock)
        self._selectables: dict[int, _Selectable] = {}
        self._masks: dict[int, int] = {}
        self._threadCalls: collections.deque[_Call] = collections.deque()
        self._triggers: dict[tuple[str, str], list[_Call]] = collections.defaultdict(list)
        self._whenRunning: list[_Call] | None = []
        self.running = False
        self._stopping = False
        self._oldSignals: dict[int, Any] = {}
        self._oldWakeupFd: int | None = None
        self._signalCallbacks: dict[int, list[Callable[[], None]]] = {}
        self._waker = Waker()
        try:
            self.addReader(self._waker)
        except ValueError:  # select: the waker's descriptor is above FD_SETSIZE
            self._waker.close()
            self._backend.close()
            raise
        self._threadIdent: int | None = None

    # -- time -----------------------------------------------------------------------

    def callLater(self, delay: float, f: Callable[..., Any], *args: Any, **kw: Any) -> DelayedCall:
        """Run ``f(*args, **kw)`` after ``delay`` seconds; same-time calls run in order."""
        return self._timers.schedule(self.seconds() + delay, f, args, kw)

    def getDelayedCalls(self) -> list[DelayedCall]:
        return self._timers.active_calls()

    # -- threads and signals --------------------------------------------------------

    def callFromThread(self, f: Callable[..., Any], *args: Any, **kw: Any) -> None:
        """Queue ``f`` to run in the reactor thread soon; safe from any thread."""
        self._threadCalls.append((f, args, kw))
        self._waker.wake()

    def addSignalCallback(self, signum: int, callback: Callable[[], None]) -> None:
        """Run ``callback`` in the loop (not in the signal handler) after ``signum``.

        The handler itself only queues the callback and wakes the loop, so nothing runs
        half-way through another callback.  Must be called from the main thread.
        """
        callbacks = self._signalCallbacks.setdefault(signum, [])
        callbacks.append(callback)
        if len(callbacks) == 1:
            old = signal.signal(signum, self._onSignal)
            self._oldSignals.setdefault(signum, old)
            if self._oldWakeupFd is None:
                # Python runs a handler only between bytecodes, so a signal that lands
                # just before epoll_wait would be seen at the next wake-up, however
                # late.  The C-level handler writes to the wake-up fd at once: the
                # wait returns, and the Python handler runs right after it.
                self._oldWakeupFd = signal.set_wakeup_fd(
                    self._waker.write_fd, warn_on_full_buffer=False
                )

    def removeSignalCallback(self, signum: int, callback: Callable[[], None]) -> None:
        callbacks = self._signalCallbacks.get(signum, [])
        if callback in callbacks:
            callbacks.remove(callback)
        if not callbacks and signum in self._oldSignals:
            signal.signal(signum, self._oldSignals.pop(signum))
            self._signalCallbacks.pop(signum, None)
        if not self._oldSignals and self._oldWakeupFd is not None:
            signal.set_wakeup_fd(self._oldWakeupFd)
            self._oldWakeupFd = None

    def _onSignal(self, signum: int, frame: Any) -> None:
        for callback in self._signalCallbacks.get(signum, ()):
            self.callFromThread(callback)

    def _stopOnSignal(self) -> None:
        if self.running and not self._stopping:
            log.info("signal received: stopping the reactor")
            self.stop()

    # -- selectables ------------------------------------------------------------------

    def _watch(self, selectable: Any, add: int, remove: int) -> None:
        fd = selectable.fileno()
        old = self._masks.get(fd, 0)
        new = (old | add) & ~remove
        if new == old:
            return
        if not new:
            self._backend.unregister(fd)
            del self._masks[fd]
            del self._selectables[fd]
        elif not old:
            self._backend.register(fd, new)
            self._masks[fd] = new
            self._selectables[fd] = selectable
        else:
            self._backend.modify(fd, new)
            self._masks[fd] = new

    def addReader(self, selectable: Any) -> None:
        self._watch(selectable, READ, 0)

    def addWriter(self, selectable: Any) -> None:
        self._watch(selectable, WRITE, 0)

    def removeReader(self, selectable: Any) -> None:
        self._watch(selectable, 0, READ)

    def removeWriter(self, selectable: Any) -> None:
        self._watch(selectable, 0, WRITE)

    def removeSelectable(self, selectable: Any) -> None:
        """Stop watching ``selectable`` at all; call it before closing its descriptor."""
        fd = selectable.fileno()
        if fd in self._masks and self._selectables.get(fd) is selectable:
            self._backend.unregister(fd)
            del self._masks[fd]
            del self._selectables[fd]

    def getReaders(self) -> list[Any]:
        return [s for fd, s in self._selectables.items() if self._masks[fd] & READ]

    def getWriters(self) -> list[Any]:
        return [s for fd, s in self._selectables.items() if self._masks[fd] & WRITE]

    def removeAll(self) -> list[Any]:
        """Stop watching everything but the waker; returns what was watched."""
        removed = [s for s in self._selectables.values() if s is not self._waker]
        for s in removed:
            self.removeSelectable(s)
        return removed

    # -- the loop -----------------------------------------------------------------------

    def _run_once(self, timeout: float | None = None) -> None:
        """One loop iteration (see the module docstring). ``timeout`` caps the wait."""
        timers = self._timers
        if self._threadCalls:
            wait: float | None = 0.0
        else:
            when = timers.next_time()
            wait = None if when is None else min(max(0.0, when - self.seconds()), MAX_WAIT)
            if timeout is not None and (wait is None or timeout < wait):
                wait = timeout

        events = self._backend.poll(wait)

        selectables = self._selectables
        masks = self._masks
        for fd, ev in events:
            sel = selectables.get(fd)
            if sel is None:
                continue
            try:
                mask = masks[fd]
                if ev & READABLE:
                    if mask & READ:
                        sel.doRead()
                    elif mask & WRITE:
                        sel.doWrite()  # only writing: the send will report the error
                        continue
                if ev & WRITE and masks.get(fd, 0) & WRITE and selectables.get(fd) is sel:
                    sel.doWrite()
            except Exception:
                self._selectableFailed(sel, Failure())

        if timers._heap:
            due = timers.pop_due(self.seconds())
            for call in due:
                try:
                    timers.run(call)
                except Exception:
                    log.exception("error in timed call %r", call)

        calls = self._threadCalls
        for _ in range(len(calls)):
            f, args, kw = calls.popleft()
            try:
                f(*args, **kw)
            except Exception:
                log.exception("error in call from thread %r", f)

    def _selectableFailed(self, sel: Any, failure: Failure) -> None:
        """A callback of ``sel`` raised: log it and close that connection only."""
        log.error("unhandled error in %r; closing it:\n%s", sel, failure.getTraceback())
        self.removeSelectable(sel)
        try:
            sel.connectionLost(failure)
        except Exception:
            log.exception("error while closing %r", sel)

    def iterate(self, delay: float = 0.0) -> None:
        """Run one loop iteration, waiting at most ``delay`` seconds (for tests)."""
        self._run_once(delay)

    def run(self, installSignalHandlers: bool = True) -> None:
        """Run the loop until ``stop()`` has finished the shutdown sequence.

        With ``installSignalHandlers`` (the default, main thread only) SIGINT and
        SIGTERM stop the reactor through the shutdown triggers.
        """
        if self.running:
            raise error.ReactorError("the reactor is already running")
        self.running = True
        self._stopping = False
        self._threadIdent = threading.get_ident()
        installed = []
        if installSignalHandlers and threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGINT, signal.SIGTERM):
                self.addSignalCallback(signum, self._stopOnSignal)
                installed.append(signum)
        try:
            self.fireSystemEvent("startup")
            whenRunning, self._whenRunning = self._whenRunning or [], None
            for f, args, kw in whenRunning:
                self.callLater(0, f, *args, **kw)
            while self.running:
                self._run_once()
        finally:
            self.running = False
            for signum in installed:
                self.removeSignalCallback(signum, self._stopOnSignal)

    def stop(self) -> None:
        """Begin shutdown: fire ``before`` triggers (waiting for their Deferreds, up to
        ``shutdownTimeout``), then ``during`` and ``after``, then leave ``run()``."""
        if not self.running or self._stopping:
            raise error.ReactorNotRunning("stop() called on a reactor that is not running")
        self._stopping = True
        self.callLater(0, self._shutdown)

    def callWhenRunning(self, f: Callable[..., Any], *args: Any, **kw: Any) -> None:
        """Call ``f`` once the reactor runs (at once if it already does)."""
        if self.running and self._whenRunning is None:
            f(*args, **kw)
        else:
            if self._whenRunning is None:
                self._whenRunning = []
            self._whenRunning.append((f, args, kw))

    # -- system events ------------------------------------------------------------------

    def addSystemEventTrigger(
        self, phase: str, eventType: str, f: Callable[..., Any], *args: Any, **kw: Any
    ) -> tuple[str, str, Any]:
        if phase not in ("before", "during", "after"):
            raise ValueError(f"phase must be before, during or after, not {phase!r}")
        entry = (f, args, kw)
        self._triggers[(phase, eventType)].append(entry)
        return (phase, eventType, entry)

    def removeSystemEventTrigger(self, triggerID: tuple[str, str, Any]) -> None:
        phase, eventType, entry = triggerID
        self._triggers[(phase, eventType)].remove(entry)

    def fireSystemEvent(self, eventType: str) -> Any:
        """Fire the triggers of ``eventType``; returns a Deferred fired when all ran."""
        from logbot.reactor.defer import CancelledError, DeferredList, maybeDeferred, succeed

        def logError(fl: Failure) -> None:
            if fl.check(CancelledError):  # cancelled by the timeout below
                log.warning(
                    "%s: gave up waiting for a before-trigger after %.1f s",
                    eventType,
                    self.shutdownTimeout,
                )
            else:
                log.error("error in before-%s trigger:\n%s", eventType, fl.getTraceback())

        results = []
        for f, args, kw in self._triggers.pop(("before", eventType), []):
            d = maybeDeferred(f, *args, **kw)
            d.addErrback(logError)
            results.append(d)
        pending = [d for d in results if not d.called]
        d = DeferredList(pending) if pending else succeed(None)
        if pending:
            d.addTimeout(self.shutdownTimeout, self)
            d.addErrback(
                lambda fl: log.warning(
                    "%s: gave up waiting for before-triggers after %.1f s",
                    eventType,
                    self.shutdownTimeout,
                )
            )
        d.addBoth(lambda _: self._fireRest(eventType))
        return d

    def _fireRest(self, eventType: str) -> None:
        for phase in ("during", "after"):
            for f, args, kw in self._triggers.pop((phase, eventType), []):
                try:
                    f(*args, **kw)
                except Exception:
                    log.exception("error in %s-%s trigger", phase, eventType)

    def _shutdown(self) -> None:
        d = self.fireSystemEvent("shutdown")
        d.addBoth(lambda _: self._finishStop())

    def _finishStop(self) -> None:
        self.running = False
        self._stopping = False
        self._whenRunning = []

    # -- networking (in their own modules) -----------------------------------------------

    def listenTCP(self, port: int, factory: Any, backlog: int = 50, interface: str = "") -> Any:
        from logbot.reactor import tcp_server

        p = tcp_server.Port(self, port, factory, backlog, interface)
        p.startListening()
        return p

    def connectTCP(
        self,
        host: str,
        port: int,
        factory: Any,
        timeout: float = 30,
        bindAddress: tuple[str, int] | None = None,
    ) -> Any:
        from logbot.reactor import tcp_client

        c = tcp_client.Connector(self, host, port, factory, timeout, bindAddress)
        c.connect()
        return c

    def listenSSL(
        self,
        port: int,
        factory: Any,
        contextFactory: Any,
        backlog: int = 50,
        interface: str = "",
    ) -> Any:
        from logbot.reactor import tcp_server, tls

        p = tcp_server.Port(
            self, port, factory, backlog, interface, tls=tls.server_context(contextFactory)
        )
        p.startListening()
        return p

    def connectSSL(
        self,
        host: str,
        port: int,
        factory: Any,
        contextFactory: Any = None,
        timeout: float = 30,
        bindAddress: tuple[str, int] | None = None,
    ) -> Any:
        from logbot.reactor import tcp_client, tls

        c = tcp_client.Connector(
            self, host, port, factory, timeout, bindAddress, tls=tls.client_context(contextFactory)
        )
        c.connect()
        return c

    def resolve(self, host: str, port: int = 0, family: int = 0) -> Any:
        """Resolve ``host`` in a thread; a Deferred of getaddrinfo-style (family, addr)."""
        from logbot.reactor import resolve

        return resolve.resolve(self, host, port, family)

    def spawnProcess(
        self,
        processProtocol: Any,
        executable: str,
        args: Any = (),
        env: dict[Any, Any] | None = {},  # noqa: B006  (Twisted's signature; never mutated)
        path: str | None = None,
        childFDs: dict[int, Any] | None = None,
        **kw: Any,
    ) -> Any:
        from logbot.reactor import process

        return process.spawnProcess(
            self, processProtocol, executable, args, env, path, childFDs, **kw
        )

    def close(self) -> None:
        """Release the backend and the waker (a closed reactor cannot run again)."""
        self._backend.close()
        self._waker.close()

    def __repr__(self) -> str:
        return f"<Reactor {self.backendName} running={self.running}>"
