"""Protocols and factories: the objects a transport talks to.

Compatibility surface (Twisted's names, see API.md): ``Protocol``, ``Factory``,
``ClientFactory``, ``ReconnectingClientFactory``, ``ProcessProtocol``, ``BaseProtocol``
(their common base), ``connectionDone``, and on them ``makeConnection``, ``connectionMade``,
``dataReceived``, ``connectionLost``, ``transport``, ``factory``, ``connected``,
``protocol``, ``buildProtocol``, ``doStart``, ``doStop``, ``startFactory``,
``stopFactory``, ``numPorts``, ``noisy``, ``forProtocol``, ``startedConnecting``,
``clientConnectionFailed``, ``clientConnectionLost``, ``maxDelay``, ``initialDelay``,
``factor``, ``jitter``, ``delay``, ``retries``, ``maxRetries``, ``continueTrying``,
``connector``, ``clock``, ``retry``, ``resetDelay``, ``stopTrying``, and the
``ProcessProtocol`` events.  Names of our own (``reset_after``, ``rng``,
``HalfCloseableProtocol``) follow PEP 8.

Half-close (Twisted's ``IHalfCloseableProtocol``, without zope.interface): a protocol
that *defines* ``readConnectionLost()`` is half-closeable.  When the peer shuts down
its side (EOF), the transport calls ``readConnectionLost()`` instead of closing, and the
connection stays open for writing; ``writeConnectionLost()`` is called when our write
side has been shut down.  The base ``Protocol`` deliberately does not define these
methods: their mere presence is the opt-in, so transports test for it with
``getattr(protocol, "readConnectionLost", None)``.  ``HalfCloseableProtocol`` is the
``typing.Protocol`` that describes the pair for type hints.
"""

from __future__ import annotations

import logging
import random as _random_module
from typing import TYPE_CHECKING, Any, runtime_checkable
from typing import Protocol as _TypingProtocol

from logbot.reactor.error import ConnectionDone
from logbot.reactor.failure import Failure

if TYPE_CHECKING:
    from logbot.reactor.timers import DelayedCall

log = logging.getLogger(__name__)

#: The reason passed to ``connectionLost`` when a connection was closed cleanly.
connectionDone = Failure(ConnectionDone())


@runtime_checkable
class HalfCloseableProtocol(_TypingProtocol):
    """A protocol that keeps writing after the peer's EOF (see the module docstring)."""

    def readConnectionLost(self) -> None: ...

    def writeConnectionLost(self) -> None: ...


class BaseProtocol:
    """What ``Protocol`` and ``ProcessProtocol`` share: being given a transport."""

    transport: Any = None
    connected = 0

    def makeConnection(self, transport: Any) -> None:
        """Called by the transport once the connection exists; do not override."""
        self.connected = 1
        self.transport = transport
        self.connectionMade()

    def connectionMade(self) -> None:
        """The connection is up (the process started) and ``self.transport`` is set."""


class Protocol(BaseProtocol):
    """Receives events for one connection; subclass and override the events.

    Events are past tense (``connectionMade``, ``dataReceived``, ``connectionLost``);
    the requests go to ``self.transport`` (``write``, ``loseConnection``).
    """

    factory: Any = None

    def dataReceived(self, data: bytes) -> None:
        """Some bytes arrived; they are not framed (a message may span calls)."""

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        """The connection is gone; ``reason.value`` says why (``ConnectionDone`` if clean)."""

    def logPrefix(self) -> str:
        return type(self).__name__


class Factory:
    """Builds one protocol per connection and holds what they share.

    ``doStart``/``doStop`` are called by each port or connector that uses the factory;
    ``numPorts`` counts them so that ``startFactory`` runs before the first and
    ``stopFactory`` after the last, however many ports share one factory.
    """

    protocol: Any = None
    numPorts = 0
    noisy = True

    @classmethod
    def forProtocol(cls, protocol: type, *args: Any, **kwargs: Any) -> Factory:
        """A factory of this class (built with ``args``) that builds ``protocol``."""
        factory = cls(*args, **kwargs)
        factory.protocol = protocol
        return factory

    def logPrefix(self) -> str:
        return type(self).__name__

    def doStart(self) -> None:
        if not self.numPorts:
            if self.noisy:
                log.debug("Starting factory %r", self)
            self.startFactory()
        self.numPorts += 1

    def doStop(self) -> None:
        if self.numPorts == 0:
            return  # more stops than starts: ignore, as Twisted does
        self.numPorts -= 1
        if not self.numPorts:
            if self.noisy:
                log.debug("Stopping factory %r", self)
            self.stopFactory()

    def startFactory(self) -> None:
        """Called before the first port or connector uses this factory."""

    def stopFactory(self) -> None:
        """Called after the last port or connector stopped using this factory."""

    def buildProtocol(self, addr: Any) -> Any:
        """A new ``self.protocol()`` with ``factory`` set; None refuses the connection."""
        p = self.protocol()
        p.factory = self
        return p


class ClientFactory(Factory):
    """A factory for outgoing connections; also told how connection attempts go."""

    def startedConnecting(self, connector: Any) -> None:
        """A connection attempt began; ``connector.stopConnecting()`` aborts it."""

    def clientConnectionFailed(self, connector: Any, reason: Failure) -> None:
        """The attempt failed; ``connector.connect()`` would try again."""

    def clientConnectionLost(self, connector: Any, reason: Failure) -> None:
        """An established connection ended; ``connector.connect()`` would reconnect."""


class ReconnectingClientFactory(ClientFactory):
    """A client factory that reconnects with exponential backoff.

    Each retry waits ``delay * factor`` (at most ``maxDelay``), randomised by a normal
    distribution of relative width ``jitter``, so that many clients that lost one
    server do not all come back in the same second.  Call ``resetDelay()`` once a
    connection works, ``stopTrying()`` to give up.

    Twisted's defaults and behaviour, with its three known flaws fixed:

    (a) the jittered delay is clamped to ``[0, maxDelay]``; Twisted applies jitter
        after the ``maxDelay`` clamp, so its delay wanders above ``maxDelay``;
    (b) ``delay`` starts at the *instance's* ``initialDelay``; in Twisted ``delay`` is a
        class attribute copied from the base class's ``initialDelay`` (1.0), so a
        subclass's ``initialDelay`` was ignored until the first ``resetDelay()``;
    (c) a connection that stayed up ``reset_after`` seconds or more resets the delay
        when it is lost, even if the protocol never calls ``resetDelay()`` (in Twisted a
        bot that forgot to call it waited ever longer after each of its rare drops).
        The time is measured on ``clock`` from ``buildProtocol`` to
        ``clientConnectionLost``.  The default, 60 seconds, is longer than any
        registration exchange (so a server that accepts and at once drops us still
        backs off) and far shorter than a normal session.  ``None`` turns this off.

    As in Twisted, the first retry waits ``initialDelay * factor`` (about 2.7 s with
    the defaults): the delay grows *before* it is used.

    ``clock`` is what ``callLater``/``seconds`` are called on.  Our own code passes it
    (a reactor or a ``task.Clock``).  When it is None, the global default reactor
    (``from logbot.reactor import reactor``) is fetched on first need; that fallback
    exists only so that ported Twisted programs run unchanged.  ``rng`` is the source
    of jitter (anything with ``normalvariate``); None means the ``random`` module.
    """

    maxDelay: float = 3600
    initialDelay: float = 1.0
    # Note: this is the value Twisted uses, not math.e exactly; kept for compatibility.
    factor: float = 2.7182818284590451
    jitter: float = 0.11962656472
    retries = 0
    maxRetries: int | None = None
    continueTrying = 1
    connector: Any = None
    clock: Any = None
    reset_after: float | None = 60.0
    rng: Any = None

    _callID: DelayedCall | None = None
    _connected_at: float | None = None

    # ``delay`` is a property so that an instance that has never set it reads its own
    # ``initialDelay`` (flaw (b)); subclasses of Twisted code often skip
    # ``__init__``, so it cannot be set there.  A subclass may still shadow it with a
    # plain class attribute, as in Twisted.
    @property
    def delay(self) -> float:
        delay: float = self.__dict__.get("_delay", self.initialDelay)
        return delay

    @delay.setter
    def delay(self, value: float) -> None:
        self.__dict__["_delay"] = value

    def _clock(self) -> Any:
        if self.clock is None:
            from logbot.reactor import reactor  # only for ported programs; see docstring

            self.clock = reactor
        return self.clock

    def buildProtocol(self, addr: Any) -> Any:
        """Build the protocol and note when the connection began (for flaw (c))."""
        if self.reset_after is not None:
            self._connected_at = self._clock().seconds()
        return super().buildProtocol(addr)

    def clientConnectionFailed(self, connector: Any, reason: Failure) -> None:
        self._connected_at = None
        if self.continueTrying:
            self.connector = connector
            self.retry()

    def clientConnectionLost(self, connector: Any, reason: Failure) -> None:
        started, self._connected_at = self._connected_at, None
        if self.continueTrying:
            self.connector = connector
            if (
                started is not None
                and self.reset_after is not None
                and self._clock().seconds() - started >= self.reset_after
            ):
                self.resetDelay()
            self.retry()

    def _next_delay(self) -> float:
        """Grow the delay, jitter it, and clamp the result to ``[0, maxDelay]``."""
        delay = min(self.delay * self.factor, self.maxDelay)
        if self.jitter:
            rng = self.rng if self.rng is not None else _random_module
            delay = rng.normalvariate(delay, delay * self.jitter)
        return min(max(delay, 0.0), self.maxDelay)

    def retry(self, connector: Any = None) -> None:
        """Schedule ``connector.connect()`` after the next backoff delay."""
        if not self.continueTrying:
            if self.noisy:
                log.debug("Abandoning %s on explicit request", connector)
            return
        if connector is None:
            if self.connector is None:
                raise ValueError("no connector to retry")
            connector = self.connector
        self.retries += 1
        if self.maxRetries is not None and self.retries > self.maxRetries:
            if self.noisy:
                log.debug("Abandoning %s after %d retries.", connector, self.retries)
            return
        self.delay = self._next_delay()
        if self.noisy:
            log.debug("%s will retry in %d seconds", connector, self.delay)

        def reconnector() -> None:
            self._callID = None
            connector.connect()

        self._callID = self._clock().callLater(self.delay, reconnector)

    def stopTrying(self) -> None:
        """Cancel a scheduled retry, stop a connection attempt, and retry no more."""
        if self._callID is not None:
            if self._callID.active():
                self._callID.cancel()
            self._callID = None
        self.continueTrying = 0
        if self.connector is not None:
            try:
                self.connector.stopConnecting()
            except Exception:  # not connecting: nothing to stop (Twisted: NotConnectingError)
                pass

    def resetDelay(self) -> None:
        """Back to ``initialDelay`` and zero retries; call it once a connection works."""
        self.delay = self.initialDelay
        self.retries = 0
        self._callID = None
        self.continueTrying = 1


class ProcessProtocol(BaseProtocol):
    """Receives events for one child process; every event is a no-op by default.

    ``childDataReceived`` and ``childConnectionLost`` dispatch the standard
    descriptors to the named events (1 -> ``outReceived``, 2 -> ``errReceived``;
    0/1/2 -> ``inConnectionLost``/``outConnectionLost``/``errConnectionLost``);
    override them to handle other descriptors given in ``childFDs``.
    ``processExited`` comes when the child exits, ``processEnded`` when it has exited
    *and* every pipe to it is closed; ``reason.value`` is ``ProcessDone`` or
    ``ProcessTerminated``.
    """

    def childDataReceived(self, childFD: int, data: bytes) -> None:
        if childFD == 1:
            self.outReceived(data)
        elif childFD == 2:
            self.errReceived(data)

    def outReceived(self, data: bytes) -> None:
        """The child wrote to its stdout."""

    def errReceived(self, data: bytes) -> None:
        """The child wrote to its stderr."""

    def childConnectionLost(self, childFD: int) -> None:
        if childFD == 0:
            self.inConnectionLost()
        elif childFD == 1:
            self.outConnectionLost()
        elif childFD == 2:
            self.errConnectionLost()

    def inConnectionLost(self) -> None:
        """The child's stdin was closed."""

    def outConnectionLost(self) -> None:
        """The child closed its stdout."""

    def errConnectionLost(self) -> None:
        """The child closed its stderr."""

    def processExited(self, reason: Failure) -> None:
        """The child exited (its pipes may still be open)."""

    def processEnded(self, reason: Failure) -> None:
        """The child exited and all its pipes are closed: the last event."""
