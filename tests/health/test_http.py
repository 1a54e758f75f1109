"""The small HTTP server's timers and limits on a task.Clock with a fake transport, and
its request parser."""

from __future__ import annotations

from typing import Any

import pytest

from logbot.health.http import (
    HEAD_TIMEOUT,
    MAX_CONNECTIONS_PER_CLIENT,
    WRITE_TIMEOUT,
    HTTPFactory,
    Request,
    Response,
    client_of,
    parse_head,
)
from logbot.reactor.address import IPv4Address, IPv6Address
from logbot.reactor.task import Clock
from logbot.reactor.testing import StringTransportWithDisconnection

GET_HEALTHZ = b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n"


def connect(
    factory: HTTPFactory, host: str | None = None
) -> tuple[Any, StringTransportWithDisconnection]:
    """A connection from ``host`` (None: an unknown peer); raises if it was refused."""
    peer = None if host is None else IPv4Address("TCP", host, 40000)
    channel = factory.buildProtocol(peer)
    assert channel is not None, f"a connection from {host} was refused"
    transport = StringTransportWithDisconnection(peerAddress=peer)
    transport.protocol = channel
    channel.makeConnection(transport)
    return channel, transport


def ok(request: Request) -> Response:
    return Response(200, b"fine\n")


def test_an_idle_connection_gets_408_then_is_cut() -> None:
    clock = Clock()
    factory = HTTPFactory(clock, ok, head_timeout=10.0)
    channel, transport = connect(factory)
    channel.dataReceived(b"GET /healthz HTTP/1.1\r\n")  # and then nothing
    clock.advance(9.9)
    assert transport.value() == b"" and transport.connected
    clock.advance(0.1)
    assert transport.value().startswith(b"HTTP/1.1 408 Request Timeout\r\n")
    assert not transport.connected and factory.channels == set()
    assert clock.getDelayedCalls() == []


def test_the_head_has_a_deadline_that_trickling_bytes_do_not_move() -> None:
    """Slowloris: the whole head, however it trickles in, within HEAD_TIMEOUT (2 s) of
    the connection; the old 10 s let 32 clients sending a byte now and then hold every
    slot."""
    assert HEAD_TIMEOUT == 2.0
    clock = Clock()
    factory = HTTPFactory(clock, ok)  # the defaults
    channel, transport = connect(factory)
    for byte in b"GET /":  # a byte every 0.39 s: the last one at 1.95 s
        clock.advance(0.39)
        channel.dataReceived(bytes([byte]))
    assert transport.value() == b"" and transport.connected
    clock.advance(HEAD_TIMEOUT - clock.seconds())
    assert transport.value().startswith(b"HTTP/1.1 408 Request Timeout\r\n")
    assert not transport.connected and factory.channels == set()


def test_a_peer_that_does_not_read_the_answer_is_cut_after_the_write_timeout() -> None:
    clock = Clock()
    factory = HTTPFactory(clock, ok)
    channel, transport = connect(factory)
    transport.loseConnection = lambda: setattr(transport, "disconnecting", True)  # type: ignore
    clock.advance(1.0)
    channel.dataReceived(b"GET /healthz HTTP/1.1\r\n\r\n")
    assert transport.value().startswith(b"HTTP/1.1 200 OK\r\n") and transport.connected
    clock.advance(WRITE_TIMEOUT - 0.1)  # counted from the answer, not the connection
    assert transport.connected
    clock.advance(0.1)  # the answer is still not flushed: aborted
    assert not transport.connected and clock.getDelayedCalls() == []
    assert factory.channels == set() and factory.clients == {}


def test_an_answered_connection_leaves_no_timer() -> None:
    clock = Clock()
    factory = HTTPFactory(clock, ok)
    channel, transport = connect(factory)
    channel.dataReceived(b"GET /healthz HTTP/1.1\r\n\r\nGET /again HTTP/1.1\r\n\r\n")
    assert transport.value() == (
        b"HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8"
        b"\r\nContent-Length: 5\r\nCache-Control: no-store\r\n"
        b"Connection: close\r\n\r\nfine\n"
    )  # one answer only
    assert not transport.connected and clock.getDelayedCalls() == []


def test_one_address_gets_at_most_four_connections_and_others_still_get_in() -> None:
    """The 5th connection from one address is closed unread (buildProtocol gives
    None); another address is let in, and the first gets a slot back as one closes."""
    clock = Clock()
    factory = HTTPFactory(clock, ok)  # the defaults
    assert MAX_CONNECTIONS_PER_CLIENT == 4
    held = [connect(factory, "10.0.0.2") for _ in range(4)]
    assert factory.buildProtocol(IPv4Address("TCP", "10.0.0.2", 40001)) is None
    assert factory.refused == 1
    other, other_transport = connect(factory, "10.0.0.3")
    other.dataReceived(GET_HEALTHZ)
    assert other_transport.value().startswith(b"HTTP/1.1 200 OK\r\n")
    held[0][1].loseConnection()  # the client closes one
    connect(factory, "10.0.0.2")
    assert len(factory.clients["10.0.0.2"]) == 4


def test_answered_connections_still_closing_do_not_count_for_their_client() -> None:
    """A client asking again and again (a scraper, a health check in a loop) has its
    last answers still closing while the server, in one accept loop, takes its next
    connections: counted, they had its fifth request refused."""
    clock = Clock()
    factory = HTTPFactory(clock, ok)
    for _ in range(2 * MAX_CONNECTIONS_PER_CLIENT):
        channel, transport = connect(factory, "10.0.0.2")
        transport.loseConnection = lambda: None  # type: ignore[method-assign]
        channel.dataReceived(GET_HEALTHZ)
        assert transport.value().startswith(b"HTTP/1.1 200 OK\r\n")
    assert len(factory.channels) == 8 and factory.clients == {} and factory.refused == 0


def test_when_full_the_most_idle_waiting_connection_makes_room() -> None:
    """Was: the new connection got 503, so whoever held every slot (32 slow or idle
    clients) turned every health check away."""
    clock = Clock()
    factory = HTTPFactory(clock, ok, max_connections=3)
    a, a_t = connect(factory, "10.0.0.1")
    b, b_t = connect(factory, "10.0.0.2")
    c, c_t = connect(factory, "10.0.0.3")
    a.dataReceived(b"GET /heal")  # a and c have sent something since b did
    c.dataReceived(b"G")
    new, new_t = connect(factory, "10.0.0.4")
    assert not b_t.connected and b_t.value() == b""  # cut, unanswered
    assert a_t.connected and c_t.connected and new_t.connected
    assert factory.evicted == 1 and len(factory.channels) == 3
    new.dataReceived(GET_HEALTHZ)
    assert new_t.value().startswith(b"HTTP/1.1 200 OK\r\n")


def test_eviction_takes_from_the_client_with_the_most_connections() -> None:
    clock = Clock()
    factory = HTTPFactory(clock, ok, max_connections=4)
    lone, lone_t = connect(factory, "10.0.0.1")  # the idlest, but alone
    crowd = [connect(factory, "10.0.0.9") for _ in range(3)]
    for channel, _ in crowd:
        channel.dataReceived(b"G")
    connect(factory, "10.0.0.5")
    assert lone_t.connected
    assert [t.connected for _, t in crowd] == [False, True, True]  # its least recent


def test_answered_connections_are_cut_last() -> None:
    clock = Clock()
    factory = HTTPFactory(clock, ok, max_connections=2)
    done, done_t = connect(factory, "10.0.0.1")
    done_t.loseConnection = lambda: setattr(done_t, "disconnecting", True)  # type: ignore
    done.dataReceived(GET_HEALTHZ)  # answered, still flushing
    waiting, waiting_t = connect(factory, "10.0.0.2")
    waiting.dataReceived(b"GET")
    connect(factory, "10.0.0.3")
    assert done_t.connected and not waiting_t.connected


@pytest.mark.parametrize(
    ("addr", "client"),
    [
        (IPv4Address("TCP", "192.0.2.7", 1), "192.0.2.7"),
        (IPv6Address("TCP", "2001:db8:1:2:aaaa::1", 1), "2001:db8:1:2::/64"),
        (IPv6Address("TCP", "2001:db8:1:2:bbbb::9", 1), "2001:db8:1:2::/64"),  # same /64
        (IPv6Address("TCP", "2001:db8:1:3::1", 1), "2001:db8:1:3::/64"),
        (IPv6Address("TCP", "::ffff:192.0.2.7", 1), "192.0.2.7"),  # the IPv4 client
        (IPv6Address("TCP", "fe80::1%eth0", 1), "fe80::/64"),
        (None, "?"),
    ],
)
def test_client_of(addr: Any, client: str) -> None:
    assert client_of(addr) == client


def test_a_failing_handler_is_a_500_not_a_crash(caplog: pytest.LogCaptureFixture) -> None:
    def broken(request: Request) -> Response:
        raise RuntimeError("bug")

    channel, transport = connect(HTTPFactory(Clock(), broken))
    channel.dataReceived(GET_HEALTHZ)
    assert transport.value().startswith(b"HTTP/1.1 500 Internal Server Error\r\n")
    assert "answering GET /healthz failed" in caplog.text and "RuntimeError: bug" in caplog.text


def test_parse_head() -> None:
    request = parse_head(b"GET /metrics?a=b HTTP/1.1\r\nHost: x:1\r\nX-Empty:\r\nA:  b c ")
    assert (request.method, request.target, request.path, request.version) == (
        "GET",
        "/metrics?a=b",
        "/metrics",
        "HTTP/1.1",
    )
    assert request.headers == (("host", "x:1"), ("x-empty", ""), ("a", "b c"))
    assert parse_head(b"HEAD / HTTP/1.0\nHost: x").headers == (("host", "x"),)  # bare LF
