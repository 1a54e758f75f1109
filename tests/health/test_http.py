"""The small HTTP server's timers and limits on a task.Clock with a fake transport, and
its request parser."""

from __future__ import annotations

from typing import Any

import pytest

from logbot.health.http import HTTPFactory, Request, Response, parse_head
from logbot.reactor.task import Clock
from logbot.reactor.testing import StringTransportWithDisconnection

GET_HEALTHZ = b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n"


def connect(factory: HTTPFactory) -> tuple[Any, StringTransportWithDisconnection]:
    channel = factory.buildProtocol(None)
    transport = StringTransportWithDisconnection()
    transport.protocol = channel
    channel.makeConnection(transport)
    return channel, transport


def ok(request: Request) -> Response:
    return Response(200, b"fine\n")


def test_an_idle_connection_gets_408_then_is_cut() -> None:
    clock = Clock()
    factory = HTTPFactory(clock, ok, timeout=10.0)
    channel, transport = connect(factory)
    channel.dataReceived(b"GET /healthz HTTP/1.1\r\n")  # and then nothing
    clock.advance(9.9)
    assert transport.value() == b"" and transport.connected
    clock.advance(0.1)
    assert transport.value().startswith(b"HTTP/1.1 408 Request Timeout\r\n")
    assert not transport.connected and factory.channels == set()
    assert clock.getDelayedCalls() == []


def test_a_peer_that_does_not_read_the_answer_is_cut_after_a_second_period() -> None:
    clock = Clock()
    factory = HTTPFactory(clock, ok, timeout=10.0)
    channel, transport = connect(factory)
    transport.loseConnection = lambda: setattr(transport, "disconnecting", True)  # type: ignore
    channel.dataReceived(b"GET /healthz HTTP/1.1\r\n\r\n")
    assert transport.value().startswith(b"HTTP/1.1 200 OK\r\n") and transport.connected
    clock.advance(10.0)  # the answer is still not flushed: aborted
    assert not transport.connected and clock.getDelayedCalls() == []


def test_an_answered_connection_leaves_no_timer() -> None:
    clock = Clock()
    factory = HTTPFactory(clock, ok, timeout=10.0)
    channel, transport = connect(factory)
    channel.dataReceived(b"GET /healthz HTTP/1.1\r\n\r\nGET /again HTTP/1.1\r\n\r\n")
    assert transport.value() == (
        b"HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8"
        b"\r\nContent-Length: 5\r\nCache-Control: no-store\r\n"
        b"Connection: close\r\n\r\nfine\n"
    )  # one answer only
    assert not transport.connected and clock.getDelayedCalls() == []


def test_one_connection_too_many_gets_503() -> None:
    clock = Clock()
    factory = HTTPFactory(clock, ok, max_connections=2)
    first, second = connect(factory), connect(factory)
    _, third = connect(factory)
    assert third.value().startswith(b"HTTP/1.1 503 ") and not third.connected
    assert first[1].connected and second[1].connected and len(factory.channels) == 2


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
