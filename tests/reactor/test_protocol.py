"""Protocol, Factory, ClientFactory, ReconnectingClientFactory, ProcessProtocol."""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from logbot.reactor.error import ConnectionDone, ConnectionLost, ConnectionRefusedError
from logbot.reactor.failure import Failure
from logbot.reactor.protocol import (
    ClientFactory,
    Factory,
    HalfCloseableProtocol,
    ProcessProtocol,
    Protocol,
    ReconnectingClientFactory,
    connectionDone,
)
from logbot.reactor.testing import MemoryReactorClock, StringTransport

REFUSED = Failure(ConnectionRefusedError())
LOST = Failure(ConnectionLost())

# -- Protocol and Factory ---------------------------------------------------------------


def test_makeConnection_sets_transport_and_calls_connectionMade():
    seen = []

    class P(Protocol):
        def connectionMade(self):
            seen.append((self.transport, self.connected))

    p, t = P(), StringTransport()
    p.makeConnection(t)
    assert seen == [(t, 1)]


def test_connectionDone_is_a_clean_close():
    assert connectionDone.check(ConnectionDone)
    Protocol().connectionLost()  # the default reason is accepted


def test_buildProtocol_sets_factory_and_forProtocol_passes_arguments():
    class Named(Factory):
        def __init__(self, name):
            self.name = name

    class P(Protocol):
        pass

    f = Named.forProtocol(P, "x")
    p = f.buildProtocol(None)
    assert isinstance(p, P) and p.factory is f and f.name == "x"


def test_startFactory_and_stopFactory_run_once_for_many_ports():
    events = []

    class F(Factory):
        def startFactory(self):
            events.append("start")

        def stopFactory(self):
            events.append("stop")

    f = F()
    f.doStart(), f.doStart()
    f.doStop()
    assert events == ["start"]
    f.doStop()
    f.doStop()  # one stop too many is ignored
    assert events == ["start", "stop"] and f.numPorts == 0


def test_half_closeable_is_opt_in():
    class Half(Protocol):
        def readConnectionLost(self):
            pass

        def writeConnectionLost(self):
            pass

    assert not hasattr(Protocol(), "readConnectionLost")
    assert isinstance(Half(), HalfCloseableProtocol)
    assert not isinstance(Protocol(), HalfCloseableProtocol)


def test_ClientFactory_events_are_no_ops_and_the_reactor_tells_startedConnecting():
    started = []

    class F(ClientFactory):
        def startedConnecting(self, connector):
            started.append(connector)

    reactor = MemoryReactorClock()
    f = F()
    connector = reactor.connectTCP("irc.example.org", 6667, f)
    assert started == [connector]
    ClientFactory().clientConnectionFailed(connector, REFUSED)
    ClientFactory().clientConnectionLost(connector, LOST)


# -- ReconnectingClientFactory ----------------------------------------------------------


def rcf(cls=ReconnectingClientFactory, **attrs):
    """A factory on a MemoryReactorClock, connected once (as connectTCP does)."""
    reactor = MemoryReactorClock()
    f = cls()
    f.clock = reactor
    f.protocol = Protocol
    for name, value in attrs.items():
        setattr(f, name, value)
    connector = reactor.connectTCP("irc.example.org", 6667, f)
    return f, reactor, connector


def pending_delay(reactor):
    (call,) = reactor.getDelayedCalls()
    return call.getTime() - reactor.seconds()


def test_twisteds_defaults():
    f = ReconnectingClientFactory()
    assert (f.maxDelay, f.initialDelay, f.jitter, f.maxRetries) == (3600, 1.0, 0.11962656472, None)
    assert f.factor == pytest.approx(math.e) and f.delay == 1.0 and f.retries == 0


def test_delays_grow_by_factor_until_maxDelay():
    f, reactor, connector = rcf(jitter=0, maxDelay=100)
    expected = [math.e, math.e**2, math.e**3, math.e**4, 100, 100]
    for n, want in enumerate(expected, start=2):
        f.clientConnectionFailed(connector, REFUSED)
        assert pending_delay(reactor) == pytest.approx(want)
        reactor.advance(want)
        assert connector.connect_count == n
    assert f.retries == len(expected)


def test_jitter_stays_near_the_nominal_delay():
    f, reactor, connector = rcf(rng=random.Random(7))
    f.clientConnectionFailed(connector, REFUSED)
    # normalvariate with sigma = 12% of e: within 6 sigma, and not exactly e.
    delay = pending_delay(reactor)
    assert abs(delay - math.e) < 6 * 0.11962656472 * math.e
    assert delay != pytest.approx(math.e, abs=1e-12)


@settings(max_examples=300, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    failures=st.integers(1, 40),
    max_delay=st.floats(0.5, 5000),
    jitter=st.floats(0, 3),
)
def test_jitter_never_pushes_the_delay_past_maxDelay(seed, failures, max_delay, jitter):
    f, reactor, connector = rcf(rng=random.Random(seed), maxDelay=max_delay, jitter=jitter)
    for _ in range(failures):
        f.clientConnectionFailed(connector, REFUSED)
        assert 0 <= f.delay <= max_delay  # what was passed to callLater
        assert pending_delay(reactor) == pytest.approx(f.delay)
        reactor.advance(f.delay)


def test_maxDelay_clamp_applies_after_jitter_even_with_a_wild_rng():
    class Wild:
        def normalvariate(self, mu, sigma):
            return mu * 10  # as if jitter came out far above the mean

    f, reactor, connector = rcf(rng=Wild(), maxDelay=30)
    for _ in range(5):
        f.clientConnectionFailed(connector, REFUSED)
        assert f.delay <= 30
        reactor.advance(30)


def test_subclass_initialDelay_is_honoured_on_the_first_retry():
    class Slow(ReconnectingClientFactory):
        initialDelay = 10.0
        jitter = 0

    f, reactor, connector = rcf(Slow)
    assert f.delay == 10.0
    f.clientConnectionFailed(connector, REFUSED)
    assert pending_delay(reactor) == pytest.approx(10.0 * math.e)


def test_a_subclass_that_sets_delay_itself_keeps_it():
    class Fixed(ReconnectingClientFactory):
        delay = 5.0
        jitter = 0

    f, reactor, connector = rcf(Fixed)
    f.clientConnectionFailed(connector, REFUSED)
    assert pending_delay(reactor) == pytest.approx(5.0 * math.e)


def connect_and_lose(f, reactor, connector, lasted):
    proto = f.buildProtocol(connector.getDestination())
    proto.makeConnection(StringTransport())
    reactor.advance(lasted)
    f.clientConnectionLost(connector, LOST)


def test_a_long_lived_connection_resets_the_delay_without_resetDelay():
    f, reactor, connector = rcf(jitter=0)
    for _ in range(4):  # the server is down for a while
        f.clientConnectionFailed(connector, REFUSED)
        reactor.advance(pending_delay(reactor))
    assert f.retries == 4
    connect_and_lose(f, reactor, connector, lasted=f.reset_after)
    assert f.retries == 1
    assert pending_delay(reactor) == pytest.approx(math.e)


def test_a_short_connection_keeps_backing_off():
    f, reactor, connector = rcf(jitter=0)
    f.clientConnectionFailed(connector, REFUSED)
    reactor.advance(pending_delay(reactor))
    connect_and_lose(f, reactor, connector, lasted=f.reset_after - 1)
    assert f.retries == 2
    assert pending_delay(reactor) == pytest.approx(math.e**2)


def test_reset_after_none_keeps_twisteds_behaviour():
    f, reactor, connector = rcf(jitter=0, reset_after=None)
    f.clientConnectionFailed(connector, REFUSED)
    reactor.advance(pending_delay(reactor))
    connect_and_lose(f, reactor, connector, lasted=10_000)
    assert pending_delay(reactor) == pytest.approx(math.e**2)


def test_stopTrying_cancels_the_retry_and_stops_connecting():
    f, reactor, connector = rcf()
    f.clientConnectionFailed(connector, REFUSED)
    assert reactor.getDelayedCalls()
    f.stopTrying()
    assert reactor.getDelayedCalls() == []
    assert connector.stoppedConnecting
    f.clientConnectionLost(connector, LOST)  # no retry after stopTrying
    reactor.advance(10_000)
    assert connector.connect_count == 1


def test_stopTrying_then_a_long_connection_ends_does_not_resume():
    f, reactor, connector = rcf()
    f.buildProtocol(None)
    reactor.advance(f.reset_after * 2)
    f.stopTrying()
    f.clientConnectionLost(connector, LOST)
    assert not f.continueTrying and reactor.getDelayedCalls() == []


def test_maxRetries_gives_up():
    f, reactor, connector = rcf(jitter=0, maxRetries=2)
    for _ in range(3):
        f.clientConnectionFailed(connector, REFUSED)
        reactor.advance(10_000)
    assert connector.connect_count == 3  # the first connect, then two retries
    assert reactor.getDelayedCalls() == []


def test_resetDelay_restores_initialDelay_and_retry_needs_a_connector():
    f = ReconnectingClientFactory()
    f.clock = MemoryReactorClock()
    with pytest.raises(ValueError):
        f.retry()
    f.delay, f.retries = 99.0, 5
    f.resetDelay()
    assert (f.delay, f.retries, f.continueTrying) == (1.0, 0, 1)


def test_retry_with_an_explicit_connector():
    f, reactor, connector = rcf(jitter=0)
    other = reactor.connectTCP("irc2.example.org", 6667, f)
    f.retry(other)
    reactor.advance(pending_delay(reactor))
    assert other.connect_count == 2 and connector.connect_count == 1


# -- ProcessProtocol --------------------------------------------------------------------


def test_ProcessProtocol_dispatches_the_standard_descriptors():
    events = []

    class PP(ProcessProtocol):
        def outReceived(self, data):
            events.append(("out", data))

        def errReceived(self, data):
            events.append(("err", data))

        def inConnectionLost(self):
            events.append("in-lost")

        def outConnectionLost(self):
            events.append("out-lost")

        def errConnectionLost(self):
            events.append("err-lost")

    pp = PP()
    pp.makeConnection(object())
    for fd in (1, 2, 3):
        pp.childDataReceived(fd, b"x")
    for fd in (0, 1, 2, 3):
        pp.childConnectionLost(fd)
    assert events == [("out", b"x"), ("err", b"x"), "in-lost", "out-lost", "err-lost"]
    base = ProcessProtocol()
    base.processExited(LOST)
    base.processEnded(LOST)
