"""The health listener: /healthz and /metrics over real sockets on 127.0.0.1 on every
reactor backend (the HTTP limits on a task.Clock are in test_http.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from logbot.health.server import HealthListenError, HealthServer
from logbot.reactor import defer
from logbot.reactor.failure import Failure
from logbot.reactor.protocol import ClientFactory, Protocol
from tests.health.test_metrics import down_bot, parse, registered_bot, service

GET_HEALTHZ = b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n"


class Client(Protocol):
    """Sends ``chunks`` (each a write), collects everything until the server closes."""

    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks
        self.data = bytearray()
        self.done: defer.Deferred[bytes] = defer.Deferred()

    def connectionMade(self) -> None:
        for chunk in self.chunks:
            self.transport.write(chunk)

    def dataReceived(self, data: bytes) -> None:
        self.data += data

    def connectionLost(self, reason: Failure) -> None:
        self.done.callback(bytes(self.data))


def request(reactor: Any, port: int, *chunks: bytes) -> defer.Deferred[bytes]:
    client = Client(list(chunks))
    factory = ClientFactory()
    factory.buildProtocol = lambda addr: client  # type: ignore[method-assign]
    reactor.connectTCP("127.0.0.1", port, factory)
    return client.done


def split(raw: bytes) -> tuple[str, dict[str, str], bytes]:
    """(status line, headers, body) of one response; checks the framing."""
    head, sep, body = raw.partition(b"\r\n\r\n")
    assert sep, raw
    status, *lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines:
        name, _, value = line.partition(": ")
        headers[name.lower()] = value
    assert headers["connection"] == "close"
    return status, headers, body


@pytest.fixture
def up_and_down() -> Any:
    return service(registered_bot().bot, down_bot().bot)


def listening(reactor: Any, svc: Any, **limits: Any) -> HealthServer:
    server = HealthServer(reactor, svc, "127.0.0.1", 0, **limits)
    server.start()
    return server


# -- over real sockets, on every backend ---------------------------------------------------


def test_healthz_200_when_every_network_is_registered(reactor: Any, run_until: Any) -> None:
    server = listening(reactor, service(registered_bot().bot))
    try:
        status, headers, body = split(run_until(request(reactor, server.port, GET_HEALTHZ)))
    finally:
        server.stop()
    assert status == "HTTP/1.1 200 OK"
    assert headers["content-type"] == "application/json"
    assert int(headers["content-length"]) == len(body)
    report = json.loads(body)
    assert report["status"] == "ok" and report["networks"]["libera"]["registered"] is True


def test_healthz_503_names_the_network_that_is_down(
    reactor: Any, run_until: Any, up_and_down: Any
) -> None:
    server = listening(reactor, up_and_down)
    try:
        # in pieces: the head may arrive in many reads
        raw = run_until(
            request(
                reactor, server.port, b"GET /hea", b"lthz HTTP/1.0\r\n", b"Accept: */*\r\n", b"\r\n"
            )
        )
    finally:
        server.stop()
    status, _, body = split(raw)
    assert status == "HTTP/1.1 503 Service Unavailable"
    report = json.loads(body)
    assert report["unhealthy"] == ["oftc"]
    assert report["networks"]["oftc"]["state"] == "disconnected"
    assert "Connection was refused" in report["networks"]["oftc"]["last_error"]


def test_metrics_and_head(reactor: Any, run_until: Any, up_and_down: Any) -> None:
    server = listening(reactor, up_and_down)
    try:
        got = run_until(request(reactor, server.port, b"GET /metrics?x=1 HTTP/1.1\r\n\r\n"))
        head = run_until(request(reactor, server.port, b"HEAD /metrics HTTP/1.1\r\n\r\n"))
    finally:
        server.stop()
    status, headers, body = split(got)
    assert status == "HTTP/1.1 200 OK"
    assert headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    assert int(headers["content-length"]) == len(body)
    _, samples = parse(body.decode())
    assert samples['logbot_network_connected{network="libera"}'] == 1
    assert samples['logbot_network_connected{network="oftc"}'] == 0
    status, headers, body = split(head)
    assert status == "HTTP/1.1 200 OK" and body == b""
    assert int(headers["content-length"]) > 1000  # the length a GET would have


@pytest.mark.parametrize(
    "raw, status",
    [
        (b"GET /nope HTTP/1.1\r\n\r\n", "404 Not Found"),
        (b"GET / HTTP/1.1\r\n\r\n", "404 Not Found"),
        (b"POST /healthz HTTP/1.1\r\nContent-Length: 0\r\n\r\n", "405 Method Not Allowed"),
        (b"DELETE /metrics HTTP/1.1\r\n\r\n", "405 Method Not Allowed"),
        (b"hello\r\n\r\n", "400 Bad Request"),
        (b"GET /healthz\r\n\r\n", "400 Bad Request"),  # HTTP/0.9 style
        (b"GET /healthz HTTP/2.0\r\n\r\n", "400 Bad Request"),
        (b"GET healthz HTTP/1.1\r\n\r\n", "400 Bad Request"),
        (b"GET /healthz HTTP/1.1\r\nno colon here\r\n\r\n", "400 Bad Request"),
        (b"GET /healthz HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n", "400 Bad Request"),
        (b"GET /h\xc3\xa9 HTTP/1.1\r\n\r\n", "400 Bad Request"),
        (b"GET /healthz HTTP/1.1\r\nX: a\rb\r\n\r\n", "400 Bad Request"),
        (b"\r\n\r\n", "400 Bad Request"),
    ],
)
def test_errors(reactor: Any, run_until: Any, up_and_down: Any, raw: bytes, status: str) -> None:
    server = listening(reactor, up_and_down)
    try:
        got = run_until(request(reactor, server.port, raw))
    finally:
        server.stop()
    line, headers, body = split(got)
    assert line == f"HTTP/1.1 {status}"
    assert int(headers["content-length"]) == len(body) and body.startswith(status[:3].encode())
    if status.startswith("405"):
        assert headers["allow"] == "GET, HEAD"


def test_an_oversized_head_gets_431_and_is_closed(
    reactor: Any, run_until: Any, up_and_down: Any
) -> None:
    server = listening(reactor, up_and_down, max_head_bytes=1024)
    filler = b"X-Filler: " + b"y" * 100 + b"\r\n"
    try:  # never ends its head: the server answers and closes without waiting for it
        got = run_until(request(reactor, server.port, b"GET /healthz HTTP/1.1\r\n", *[filler] * 20))
        ended = run_until(
            request(reactor, server.port, b"GET /healthz HTTP/1.1\r\n" + filler * 20 + b"\r\n")
        )
    finally:
        server.stop()
    assert split(got)[0] == "HTTP/1.1 431 Request Header Fields Too Large"
    assert split(ended)[0] == "HTTP/1.1 431 Request Header Fields Too Large"


def test_a_silent_client_gets_408_over_a_real_socket(
    reactor: Any, run_until: Any, up_and_down: Any
) -> None:
    server = listening(reactor, up_and_down, timeout=0.2)
    try:  # half a request line, then nothing: the server's own timer ends it
        got = run_until(request(reactor, server.port, b"GET /heal"))
    finally:
        server.stop()
    status, headers, body = split(got)
    assert status == "HTTP/1.1 408 Request Timeout"
    assert int(headers["content-length"]) == len(body)


def test_stop_closes_the_port_and_open_connections(
    reactor: Any, run_until: Any, up_and_down: Any
) -> None:
    server = listening(reactor, up_and_down)
    port = server.port
    waiting = request(reactor, port, b"GET /healthz HTTP/1.1\r\n")  # never completed

    def stop_once_connected() -> None:
        if server.factory.channels:
            server.stop()
        else:
            reactor.callLater(0.01, stop_once_connected)

    reactor.callLater(0, stop_once_connected)
    assert run_until(waiting) == b""  # cut, no answer
    assert server.port is None and server.factory.channels == set()
    refused = ClientFactory()
    failed: defer.Deferred[Any] = defer.Deferred()
    refused.clientConnectionFailed = (  # type: ignore[method-assign]
        lambda connector, reason: failed.callback(reason.value)
    )
    reactor.connectTCP("127.0.0.1", port, refused)
    assert "refused" in str(run_until(failed)).lower()


def test_a_busy_port_is_a_clear_error(reactor: Any, up_and_down: Any) -> None:
    first = listening(reactor, up_and_down)
    port = first.port
    try:
        second = HealthServer(reactor, up_and_down, "127.0.0.1", port)
        with pytest.raises(HealthListenError) as info:
            second.start()
    finally:
        first.stop()
    assert str(info.value) == f"cannot listen on 127.0.0.1:{port}: Address already in use"
