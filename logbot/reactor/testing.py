"""Fakes for tests, ours and plugin authors': transports and reactors in memory.

Compatibility surface (Twisted's ``twisted.internet.testing`` names):
``StringTransport`` (``value``, ``clear``, ``write``, ``writeSequence``,
``loseConnection``, ``abortConnection``, ``getPeer``, ``getHost``,
``registerProducer``, ``unregisterProducer``, ``pauseProducing``,
``resumeProducing``, ``stopProducing``, ``disconnecting``, ``connected``,
``producer``, ``streaming``, ``producerState``, ``hostAddress``, ``peerAddress``),
``StringTransportWithDisconnection`` (``protocol``), ``MemoryReactor`` (``tcpClients``,
``tcpServers``, ``sslClients``, ``sslServers``, ``spawnedProcesses``, ``connectors``,
``whenRunningHooks``, ``triggers``, ``hasRun``, ``hasStopped``, ``running``,
``threadCallQueue``), ``MemoryReactorClock``, and ``Clock`` (re-exported from
``task``).  ``FakeConnector``, ``FakePort`` and ``FakeProcessTransport`` are ours (what
``MemoryReactor`` returns); their attributes of our own follow PEP 8.

Nothing here touches a socket, a thread or the wall clock: time moves only when a
test calls ``advance``, and a connection "happens" when a test builds the protocol
and gives it a ``StringTransport``.
"""

from __future__ import annotations

import io
import itertools
from collections.abc import Callable, Iterable
from typing import Any, TypeAlias

from logbot.reactor.address import IPv4Address, IPv6Address
from logbot.reactor.error import ConnectionAborted, ConnectionDone
from logbot.reactor.failure import Failure
from logbot.reactor.task import Clock

#: A queued call: ``(f, args, kw)``.
_Call: TypeAlias = "tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]"

__all__ = [
    "Clock",
    "FakeConnector",
    "FakePort",
    "FakeProcessTransport",
    "MemoryReactor",
    "MemoryReactorClock",
    "StringTransport",
    "StringTransportWithDisconnection",
]


def _address(host: str, port: int) -> IPv4Address | IPv6Address:
    if ":" in host:
        return IPv6Address("TCP", host, port)
    return IPv4Address("TCP", host, port)


class StringTransport:
    """A transport that records what is written to it.

    ``loseConnection`` only sets ``disconnecting``: the protocol is *not* told, so a
    test can inspect the state at the moment the protocol asked to close.  Use
    ``StringTransportWithDisconnection`` when ``connectionLost`` should follow.
    Writing ``str`` raises ``TypeError``, as the real transports do.
    """

    disconnecting = False
    producer: Any = None
    streaming: bool | None = None
    producerState = "producing"
    hostAddress: Any = None
    peerAddress: Any = None

    def __init__(self, hostAddress: Any = None, peerAddress: Any = None) -> None:
        self.clear()
        if hostAddress is not None:
            self.hostAddress = hostAddress
        if peerAddress is not None:
            self.peerAddress = peerAddress
        self.connected = True

    def clear(self) -> None:
        """Forget what was written so far."""
        self.io = io.BytesIO()

    def value(self) -> bytes:
        """Everything written since creation or the last ``clear()``."""
        return self.io.getvalue()

    def write(self, data: bytes) -> None:
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"write() takes bytes, not {type(data).__name__}")
        self.io.write(data)

    def writeSequence(self, data: Iterable[bytes]) -> None:
        for chunk in data:
            self.write(chunk)

    def loseConnection(self) -> None:
        self.disconnecting = True

    def abortConnection(self) -> None:
        self.loseConnection()

    def getPeer(self) -> Any:
        if self.peerAddress is None:
            return IPv4Address("TCP", "192.168.1.1", 54321)
        return self.peerAddress

    def getHost(self) -> Any:
        if self.hostAddress is None:
            return IPv4Address("TCP", "10.0.0.1", 12345)
        return self.hostAddress

    # -- producers: the transport as consumer, and as producer ----------------------------

    def registerProducer(self, producer: Any, streaming: bool) -> None:
        if self.producer is not None:
            raise RuntimeError("Cannot register two producers")
        self.producer = producer
        self.streaming = streaming

    def unregisterProducer(self) -> None:
        if self.producer is None:
            raise RuntimeError("Cannot unregister a producer unless one is registered")
        self.producer = None
        self.streaming = None

    def _check_state(self) -> None:
        if self.disconnecting:
            raise RuntimeError("Cannot resume producing after loseConnection")
        if self.producerState == "stopped":
            raise RuntimeError("Cannot resume a stopped producer")

    def pauseProducing(self) -> None:
        self._check_state()
        self.producerState = "paused"

    def resumeProducing(self) -> None:
        self._check_state()
        self.producerState = "producing"

    def stopProducing(self) -> None:
        self.producerState = "stopped"


class StringTransportWithDisconnection(StringTransport):
    """A ``StringTransport`` whose ``loseConnection`` calls ``protocol.connectionLost``.

    Set ``protocol`` (Twisted's way) before closing.  The reason is ``ConnectionDone``,
    or ``ConnectionAborted`` for ``abortConnection``; a second close does nothing.
    """

    protocol: Any = None

    def loseConnection(self) -> None:
        self._close(ConnectionDone("Bye."))

    def abortConnection(self) -> None:
        self._close(ConnectionAborted())

    def _close(self, reason: BaseException) -> None:
        if not self.connected:
            return
        if self.protocol is None:
            raise RuntimeError("set transport.protocol before closing the connection")
        self.disconnecting = True
        self.connected = False
        self.protocol.connectionLost(Failure(reason))


class FakeConnector:
    """What ``MemoryReactor.connectTCP``/``connectSSL`` return.

    ``connect()`` counts the attempt (``connect_count``) and tells the factory
    ``startedConnecting``, as a real connector does; nothing connects.
    """

    def __init__(self, address: Any, factory: Any = None) -> None:
        self._address = address
        self.factory = factory
        self.state = "disconnected"
        self.connect_count = 0
        self.stoppedConnecting = False
        self.disconnected = False

    def connect(self) -> None:
        self.connect_count += 1
        self.state = "connecting"
        self.stoppedConnecting = False
        if self.factory is not None:
            self.factory.startedConnecting(self)

    def stopConnecting(self) -> None:
        self.stoppedConnecting = True
        self.state = "disconnected"

    def disconnect(self) -> None:
        self.disconnected = True
        self.state = "disconnected"

    def getDestination(self) -> Any:
        return self._address


class FakePort:
    """What ``MemoryReactor.listenTCP``/``listenSSL`` return."""

    def __init__(self, address: Any, factory: Any = None) -> None:
        self._address = address
        self.factory = factory
        self.listening = True

    def startListening(self) -> None:
        self.listening = True

    def stopListening(self) -> Any:
        """Stop; returns an already fired Deferred, as the real port does once closed."""
        from logbot.reactor.defer import succeed  # lazy: defer imports the reactor package

        self.listening = False
        return succeed(None)

    def getHost(self) -> Any:
        return self._address


_pids = itertools.count(1000)


class FakeProcessTransport:
    """What ``MemoryReactor.spawnProcess`` returns: records writes per child fd.

    ``written[fd]`` holds the bytes written to that child descriptor (``write`` is fd
    0), ``closed_fds`` the descriptors closed, ``signals`` the signals sent.
    """

    def __init__(self, processProtocol: Any) -> None:
        self.proto = processProtocol
        self.pid: int | None = next(_pids)
        self.written: dict[int, bytes] = {}
        self.closed_fds: set[int] = set()
        self.signals: list[str | int] = []
        self.lost = False
        self.newSession = False  # spawnProcess(..., newSession=True)

    def writeToChild(self, childFD: int, data: bytes) -> None:
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"writeToChild() takes bytes, not {type(data).__name__}")
        self.written[childFD] = self.written.get(childFD, b"") + bytes(data)

    def write(self, data: bytes) -> None:
        self.writeToChild(0, data)

    def writeSequence(self, data: Iterable[bytes]) -> None:
        for chunk in data:
            self.writeToChild(0, chunk)

    def closeChildFD(self, childFD: int) -> None:
        self.closed_fds.add(childFD)

    def closeStdin(self) -> None:
        self.closeChildFD(0)

    def closeStdout(self) -> None:
        self.closeChildFD(1)

    def closeStderr(self) -> None:
        self.closeChildFD(2)

    def signalProcess(self, signalID: str | int) -> None:
        self.signals.append(signalID)

    def loseConnection(self) -> None:
        self.lost = True
        for fd in (0, 1, 2):
            self.closeChildFD(fd)


class MemoryReactor:
    """A reactor that records what is asked of it and does nothing else.

    ``connectTCP``/``connectSSL`` record ``(host, port, factory, ...)`` tuples (the
    arguments in API.md's order), call ``connector.connect()`` (so the factory hears
    ``startedConnecting``) and return a ``FakeConnector``; ``listenTCP``/``listenSSL``
    record and return a ``FakePort``; ``spawnProcess`` records, builds a
    ``FakeProcessTransport`` and calls ``processProtocol.makeConnection`` with it, as the
    real one does synchronously.

    ``callFromThread`` never calls at once (the real one does not either): the call is
    queued in ``threadCallQueue`` and runs in ``run()`` (and, in
    ``MemoryReactorClock``, at each ``advance``), so a test controls when.

    ``run()`` runs the ``callWhenRunning`` hooks and the queued thread calls, then stops
    (it returns at once, there is no loop).  ``stop()`` fires the ``shutdown`` triggers
    (``before``, ``during``, ``after``) once; a Deferred returned by a ``before``
    trigger is not waited for.
    """

    def __init__(self) -> None:
        self.running = False
        self.hasRun = False
        self.hasStopped = False
        self.whenRunningHooks: list[_Call] = []
        self.triggers: dict[str, dict[str, list[_Call]]] = {}
        self.threadCallQueue: list[_Call] = []
        # (host, port, factory, timeout, bindAddress)
        self.tcpClients: list[tuple[str, int, Any, float, Any]] = []
        # (port, factory, backlog, interface)
        self.tcpServers: list[tuple[int, Any, int, str]] = []
        # (host, port, factory, contextFactory, timeout, bindAddress)
        self.sslClients: list[tuple[str, int, Any, Any, float, Any]] = []
        # (port, factory, contextFactory, backlog, interface)
        self.sslServers: list[tuple[int, Any, Any, int, str]] = []
        # (processProtocol, executable, args, env, path, childFDs)
        self.spawnedProcesses: list[
            tuple[Any, str, Any, dict[Any, Any] | None, str | None, dict[int, Any] | None]
        ] = []
        self.connectors: list[FakeConnector] = []

    # -- running ------------------------------------------------------------------------

    def callWhenRunning(self, f: Callable[..., Any], *args: Any, **kw: Any) -> None:
        """Call at once if running, else when ``run()`` is called."""
        if self.running:
            f(*args, **kw)
        else:
            self.whenRunningHooks.append((f, args, kw))

    def run(self) -> None:
        if self.running:
            raise RuntimeError("MemoryReactor is already running")
        self.running = True
        self.hasRun = True
        hooks, self.whenRunningHooks = self.whenRunningHooks, []
        for f, args, kw in hooks:
            f(*args, **kw)
        self._run_thread_calls()
        if self.running:
            self.stop()

    def stop(self) -> None:
        self.running = False
        self.hasStopped = True
        shutdown = {phase: events.pop("shutdown", []) for phase, events in self.triggers.items()}
        for phase in ("before", "during", "after"):
            for f, args, kw in shutdown.get(phase, []):
                f(*args, **kw)

    def addSystemEventTrigger(
        self, phase: str, eventType: str, f: Callable[..., Any], *args: Any, **kw: Any
    ) -> tuple[str, str, Any]:
        if phase not in ("before", "during", "after"):
            raise ValueError(f"phase must be before, during or after, not {phase!r}")
        entry = (f, args, kw)
        self.triggers.setdefault(phase, {}).setdefault(eventType, []).append(entry)
        return (phase, eventType, entry)

    def callFromThread(self, f: Callable[..., Any], *args: Any, **kw: Any) -> None:
        self.threadCallQueue.append((f, args, kw))

    def _run_thread_calls(self) -> None:
        # Calls queued by these calls wait for the next turn, as in the real loop.
        queue, self.threadCallQueue = self.threadCallQueue, []
        for f, args, kw in queue:
            f(*args, **kw)

    # -- networking and processes ---------------------------------------------------------

    def listenTCP(
        self, port: int, factory: Any, backlog: int = 50, interface: str = ""
    ) -> FakePort:
        self.tcpServers.append((port, factory, backlog, interface))
        return FakePort(_address(interface or "0.0.0.0", port), factory)

    def connectTCP(
        self, host: str, port: int, factory: Any, timeout: float = 30, bindAddress: Any = None
    ) -> FakeConnector:
        self.tcpClients.append((host, port, factory, timeout, bindAddress))
        return self._connector(host, port, factory)

    def listenSSL(
        self, port: int, factory: Any, contextFactory: Any, backlog: int = 50, interface: str = ""
    ) -> FakePort:
        self.sslServers.append((port, factory, contextFactory, backlog, interface))
        return FakePort(_address(interface or "0.0.0.0", port), factory)

    def connectSSL(
        self,
        host: str,
        port: int,
        factory: Any,
        contextFactory: Any = None,
        timeout: float = 30,
        bindAddress: Any = None,
    ) -> FakeConnector:
        self.sslClients.append((host, port, factory, contextFactory, timeout, bindAddress))
        return self._connector(host, port, factory)

    def _connector(self, host: str, port: int, factory: Any) -> FakeConnector:
        connector = FakeConnector(_address(host, port), factory)
        self.connectors.append(connector)
        connector.connect()
        return connector

    def spawnProcess(
        self,
        processProtocol: Any,
        executable: str,
        args: Any = (),
        env: dict[Any, Any] | None = {},  # noqa: B006  (Twisted's default; never mutated)
        path: str | None = None,
        childFDs: dict[int, Any] | None = None,
        *,
        newSession: bool = False,
    ) -> FakeProcessTransport:
        self.spawnedProcesses.append((processProtocol, executable, args, env, path, childFDs))
        transport = FakeProcessTransport(processProtocol)
        transport.newSession = newSession
        processProtocol.makeConnection(transport)
        return transport


class MemoryReactorClock(MemoryReactor, Clock):
    """A ``MemoryReactor`` that is also a ``task.Clock``: ``callLater``, ``seconds``,
    ``advance``.  ``advance`` first runs the calls queued by ``callFromThread``."""

    def __init__(self) -> None:
        MemoryReactor.__init__(self)
        Clock.__init__(self)

    def advance(self, amount: float) -> None:
        self._run_thread_calls()
        Clock.advance(self, amount)
