"""The backend contract (epoll, poll, select) and select's FD_SETSIZE limit.

The contract is tested on each backend directly with pipes and socket pairs; the
FD_SETSIZE tests open enough descriptors (dups of /dev/null) that the next socket lands
above 1,024, then check that the select reactor refuses it with a clear error and that
the process and the loop keep working.
"""

from __future__ import annotations

import os
import resource
import socket
import time

import pytest

from logbot.reactor import backends, defer, error
from logbot.reactor.backends import ERROR, HUP, READ, READABLE, WRITE, available
from logbot.reactor.backends.select_backend import FD_SETSIZE, DescriptorTooLargeError
from logbot.reactor.failure import Failure
from logbot.reactor.loop import Reactor
from logbot.reactor.protocol import ClientFactory, Factory, Protocol

# -- choosing a backend ------------------------------------------------------------------


def test_linux_has_all_three_and_epoll_is_the_default():
    assert available() == ["epoll", "poll", "select"]
    assert backends.default_name() == "epoll"
    assert Reactor().backendName == "epoll"


@pytest.mark.parametrize("name", available())
def test_create_by_name(name):
    b = backends.create(name)
    try:
        assert b.name == name
    finally:
        b.close()


def test_unknown_backend_is_refused_with_the_choices():
    with pytest.raises(ValueError, match="epoll, poll or select"):
        backends.create("kqueue-on-linux")


# -- the contract ----------------------------------------------------------------------------


@pytest.fixture(params=available())
def backend(request):
    b = backends.create(request.param)
    yield b
    b.close()


@pytest.fixture
def pair():
    a, b = socket.socketpair()
    a.setblocking(False)
    b.setblocking(False)
    yield a, b
    a.close()
    b.close()


def events_for(backend, fd, timeout=0):
    return [ev for f, ev in backend.poll(timeout) if f == fd]


def test_unregister_after_close_is_a_no_op(backend, pair):
    """A transport that closes after its reactor did unregisters from a closed backend:
    that must not raise (the poll backend raised AttributeError)."""
    fd = pair[0].fileno()
    backend.register(fd, READ)
    backend.close()
    backend.unregister(fd)


def test_nothing_ready_returns_an_empty_list_without_blocking(backend, pair):
    a, _ = pair
    backend.register(a.fileno(), READ)
    start = time.monotonic()
    assert backend.poll(0) == []
    assert time.monotonic() - start < 0.5


def test_timeout_bounds_the_wait(backend, pair):
    a, _ = pair
    backend.register(a.fileno(), READ)
    start = time.monotonic()
    assert backend.poll(0.05) == []
    elapsed = time.monotonic() - start
    assert 0.045 <= elapsed < 2


def test_empty_backend_still_waits_for_the_timeout(backend):
    start = time.monotonic()
    assert backend.poll(0.03) == []
    assert time.monotonic() - start >= 0.025


def test_readable_is_reported_until_the_data_is_read(backend, pair):
    a, b = pair
    backend.register(a.fileno(), READ)
    b.send(b"x" * 10)
    (ev,) = events_for(backend, a.fileno(), timeout=1)
    assert ev & READ
    # Level-triggered: unread data is reported again.
    (ev,) = events_for(backend, a.fileno(), timeout=1)
    assert ev & READ
    a.recv(100)
    assert events_for(backend, a.fileno()) == []


def test_modify_switches_between_read_and_write(backend, pair):
    a, _ = pair
    fd = a.fileno()
    backend.register(fd, READ)
    assert events_for(backend, fd) == []  # nothing to read
    backend.modify(fd, WRITE)
    (ev,) = events_for(backend, fd, timeout=1)
    assert ev & WRITE and not ev & READ
    backend.modify(fd, READ | WRITE)
    (ev,) = events_for(backend, fd, timeout=1)
    assert ev & WRITE


def test_unregister_stops_reports_and_tolerates_unknown_or_closed_fds(backend, pair):
    a, b = pair
    fd = a.fileno()
    backend.register(fd, READ)
    b.send(b"x")
    assert events_for(backend, fd, timeout=1)
    backend.unregister(fd)
    assert events_for(backend, fd) == []
    backend.unregister(fd)  # twice
    r, w = os.pipe()
    backend.register(r, READ)
    os.close(r)
    os.close(w)
    backend.unregister(r)  # already closed


def test_peer_close_is_reported_as_readable(backend, pair):
    a, b = pair
    backend.register(a.fileno(), READ)
    b.close()
    (ev,) = events_for(backend, a.fileno(), timeout=1)
    assert ev & READABLE
    assert a.recv(10) == b""


def test_masks_are_the_select_module_values():
    import select

    assert (READ, WRITE, ERROR, HUP) == (
        select.POLLIN,
        select.POLLOUT,
        select.POLLERR,
        select.POLLHUP,
    )


# -- FD_SETSIZE ------------------------------------------------------------------------------


def open_fds():
    return len(os.listdir("/proc/self/fd"))


@pytest.fixture
def select_reactor():
    """A select Reactor made while descriptors are low (its waker must fit too)."""
    r = Reactor("select")
    yield r
    for s in r.removeAll():
        sock = getattr(s, "socket", None)
        if sock is not None:
            sock.close()
    r.close()


@pytest.fixture
def high_fds():
    """Occupy every descriptor up to FD_SETSIZE + 8, so the next one is above it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < FD_SETSIZE + 200:
        pytest.skip("the open-file limit is too low to pass FD_SETSIZE")
    if soft != resource.RLIM_INFINITY and soft < FD_SETSIZE + 200:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(4096, hard), hard))
    base = os.open(os.devnull, os.O_RDONLY)
    held = [base]
    while held[-1] < FD_SETSIZE + 8:
        held.append(os.dup(base))
    yield held
    for fd in held:
        os.close(fd)
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_select_backend_refuses_a_descriptor_at_FD_SETSIZE(high_fds):
    b = backends.create("select")
    fd = next(f for f in high_fds if f >= FD_SETSIZE)
    with pytest.raises(DescriptorTooLargeError) as info:
        b.register(fd, READ)
    assert isinstance(info.value, ValueError)
    text = str(info.value)
    assert str(fd) in text and "FD_SETSIZE" in text and "1024" in text.replace(",", "")
    assert "epoll" in text and "poll" in text  # it names the way out
    b.register(FD_SETSIZE - 1, READ)  # the last one that fits is fine
    b.close()


@pytest.mark.parametrize("name", ["epoll", "poll"])
def test_epoll_and_poll_watch_descriptors_above_FD_SETSIZE(name, high_fds):
    a, b = socket.socketpair()
    try:
        assert a.fileno() > FD_SETSIZE
        be = backends.create(name)
        be.register(a.fileno(), READ)
        b.send(b"x")
        assert [ev for f, ev in be.poll(1) if f == a.fileno()]
        be.close()
    finally:
        a.close()
        b.close()


class Echo(Protocol):
    def dataReceived(self, data):
        self.transport.write(data)


def echo_once(r, portno):
    """Connect to ``portno``, send b"ping", return the Deferred of the echo."""
    got = defer.Deferred()

    class Client(Protocol):
        def connectionMade(self):
            self.transport.write(b"ping")

        def dataReceived(self, data):
            got.callback(data)
            self.transport.loseConnection()

    class CF(ClientFactory):
        protocol = Client

        def clientConnectionFailed(self, connector, reason):
            got.errback(reason)

    r.connectTCP("127.0.0.1", portno, CF())
    return got


def test_select_reactor_refuses_to_listen_on_a_high_fd_and_keeps_working(
    select_reactor, high_fds, run_until_on
):
    r = select_reactor
    started = []

    class F(Factory):
        protocol = Echo

        def startFactory(self):
            started.append(True)

    before = open_fds()
    with pytest.raises(ValueError, match="FD_SETSIZE") as info:
        r.listenTCP(0, F(), interface="127.0.0.1")
    assert "select" in str(info.value)
    assert open_fds() == before  # the refused socket was not leaked
    assert started == []  # nor was the factory started for a port that never listened
    assert r.getReaders() == [r._waker]
    # Free low descriptors again: the same reactor listens and echoes.
    for fd in high_fds[-40:]:
        os.close(fd)
    del high_fds[-40:]
    port = r.listenTCP(0, Factory.forProtocol(Echo), interface="127.0.0.1")
    assert port.fileno() < FD_SETSIZE
    assert run_until_on(r, echo_once(r, port.getHost().port)) == b"ping"
    port.stopListening()


def test_select_reactor_connect_on_a_high_fd_fails_with_a_clear_reason(
    select_reactor, high_fds, run_until_on
):
    r = select_reactor
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(5)
    failed = defer.Deferred()

    class CF(ClientFactory):
        protocol = Echo

        def clientConnectionFailed(self, connector, reason):
            failed.callback(reason.value)

    try:
        before = open_fds()
        r.connectTCP("127.0.0.1", server.getsockname()[1], CF())
        reason = run_until_on(r, failed)
        assert isinstance(reason, error.ConnectError)
        assert "FD_SETSIZE" in str(reason)
        assert open_fds() == before  # the attempt's socket was closed
    finally:
        server.close()


def test_select_reactor_drops_an_accepted_high_fd_and_serves_the_next(
    select_reactor, high_fds, run_until_on, caplog
):
    r = select_reactor
    # Listen while a low descriptor is free, then fill it again.
    os.close(high_fds.pop(5))
    port = r.listenTCP(0, Factory.forProtocol(Echo), interface="127.0.0.1")
    portno = port.getHost().port
    assert port.fileno() < FD_SETSIZE
    client = socket.create_connection(("127.0.0.1", portno), timeout=5)
    try:
        # The server's accepted socket is above FD_SETSIZE: refused, logged, closed.
        closed = defer.Deferred()

        def check_closed():
            client.setblocking(False)
            try:
                data = client.recv(10)
            except BlockingIOError:
                r.callLater(0.01, check_closed)
                return
            except ConnectionResetError:
                data = b""
            closed.callback(data)

        r.callLater(0, check_closed)
        assert run_until_on(r, closed) == b""
        assert "FD_SETSIZE" in caplog.text
    finally:
        client.close()
    for fd in high_fds[-40:]:
        os.close(fd)
    del high_fds[-40:]
    assert run_until_on(r, echo_once(r, portno)) == b"ping"
    port.stopListening()


@pytest.fixture
def run_until_on():
    """``run_until_on(reactor, d)``: run ``reactor`` until ``d`` fires (10 s bound)."""

    def run(r, d, timeout=10.0):
        box = []

        def done(result):
            box.append(result)
            if r.running and not r._stopping:
                r.stop()

        d.addBoth(done)
        if not box:
            guard = r.callLater(timeout, lambda: None if r._stopping else r.stop())
            r.run(installSignalHandlers=False)
            if guard.active():
                guard.cancel()
        assert box, f"the Deferred did not fire within {timeout} s"
        if isinstance(box[0], Failure):
            box[0].raiseException()
        return box[0]

    return run
