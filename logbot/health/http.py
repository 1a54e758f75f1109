"""A minimal HTTP/1.x server on the reactor: one request per connection, no body.

Why so small, and our own: its readers (a container's HEALTHCHECK, a Prometheus
scraper) need nothing more, and the bot must never wait on them.  So it reads the
request head (no body is ever needed), answers with ``Content-Length`` and
``Connection: close``, and closes.  What a peer can make it do is bounded by named
limits:

- ``max_head_bytes`` (:data:`MAX_HEAD_BYTES`, 8 KiB): a request head that grows past
  it gets ``431`` and the connection closes;
- ``timeout`` (:data:`TIMEOUT`, 10 s): the whole head must arrive within it, or the
  peer gets ``408`` and the connection closes (a slow reader is cut after a second
  period);
- ``max_connections`` (:data:`MAX_CONNECTIONS`, 32): one more is answered ``503`` at
  once.

A malformed request line or header gets ``400``.  What to answer is the ``handle``
function given to :class:`HTTPFactory` (a route table); an exception in it is a
``500`` and a logged traceback, never a broken bot.  Every timer is on ``clock`` (the
reactor, or a ``task.Clock``).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from logbot.reactor.failure import Failure
from logbot.reactor.protocol import Factory, Protocol, connectionDone

__all__ = [
    "MAX_CONNECTIONS",
    "MAX_HEAD_BYTES",
    "TIMEOUT",
    "BadRequest",
    "HTTPChannel",
    "HTTPFactory",
    "Request",
    "Response",
    "error",
    "parse_head",
]

log = logging.getLogger(__name__)

MAX_HEAD_BYTES = 8 * 1024
TIMEOUT = 10.0
MAX_CONNECTIONS = 32

REASONS = {
    200: "OK",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    408: "Request Timeout",
    431: "Request Header Fields Too Large",
    500: "Internal Server Error",
    503: "Service Unavailable",
}

_HEAD_END = re.compile(rb"\r?\n\r?\n")
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_VERSION = re.compile(r"HTTP/1\.[01]")


@dataclass(frozen=True)
class Request:
    method: str
    target: str  # as sent: path and query
    version: str
    headers: tuple[tuple[str, str], ...]  # (lower-case name, value), in order

    @property
    def path(self) -> str:
        return self.target.partition("?")[0]


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes = b""
    content_type: str = "text/plain; charset=utf-8"
    headers: tuple[tuple[str, str], ...] = ()

    def encode(self, head_only: bool = False) -> bytes:
        """The response as bytes; ``head_only`` (HEAD): the head, with the GET length."""
        lines = [
            f"HTTP/1.1 {self.status} {REASONS.get(self.status, 'Unknown')}",
            f"Content-Type: {self.content_type}",
            f"Content-Length: {len(self.body)}",
            "Cache-Control: no-store",
            "Connection: close",
            *(f"{name}: {value}" for name, value in self.headers),
        ]
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        return head if head_only else head + self.body


def error(status: int, headers: tuple[tuple[str, str], ...] = ()) -> Response:
    return Response(status, f"{status} {REASONS[status].lower()}\n".encode(), headers=headers)


class BadRequest(ValueError):
    pass


def parse_head(head: bytes) -> Request:
    """The request line and headers (without the blank line); ``BadRequest`` if malformed."""
    try:
        text = head.decode("ascii")
    except UnicodeDecodeError:
        raise BadRequest("not ASCII") from None
    if "\0" in text:
        raise BadRequest("NUL in the head")
    lines = [line.removesuffix("\r") for line in text.split("\n")]
    if any("\r" in line for line in lines):
        raise BadRequest("a bare CR")
    parts = lines[0].split(" ")
    if len(parts) != 3:
        raise BadRequest("the request line is not 'METHOD target HTTP/1.x'")
    method, target, version = parts
    if not _TOKEN.fullmatch(method) or not _VERSION.fullmatch(version):
        raise BadRequest("bad method or version")
    if not target.startswith("/") or any(c <= " " or c == "\x7f" for c in target):
        raise BadRequest("bad target")
    headers = []
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if not colon or not _TOKEN.fullmatch(name):  # (a folded line starts with a space)
            raise BadRequest("bad header line")
        headers.append((name.lower(), value.strip(" \t")))
    return Request(method, target, version, tuple(headers))


class HTTPChannel(Protocol):
    """One connection: one request, one response, then close."""

    factory: HTTPFactory

    def __init__(self) -> None:
        self._buffer = b""
        self._answered = False
        self._timer: Any = None

    def connectionMade(self) -> None:
        factory = self.factory
        factory.channels.add(self)
        self._timer = factory.clock.callLater(factory.timeout, self._timed_out)
        if len(factory.channels) > factory.max_connections:
            self._respond(error(503))

    def dataReceived(self, data: bytes) -> None:
        if self._answered:
            return
        self._buffer += data
        factory = self.factory
        end = _HEAD_END.search(self._buffer)
        if end is None:
            if len(self._buffer) > factory.max_head_bytes:
                self._respond(error(431))
            return
        if end.start() > factory.max_head_bytes:
            self._respond(error(431))
            return
        try:
            request = parse_head(self._buffer[: end.start()])
        except BadRequest as e:
            log.debug("health: bad request from %s: %s", self._peer(), e)
            self._respond(error(400))
            return
        try:
            response = factory.handle(request)
        except Exception:
            log.exception("health: answering %s %s failed", request.method, request.path)
            response = error(500)
        log.debug(
            "health: %s %s %s -> %d", self._peer(), request.method, request.target, response.status
        )
        self._respond(response, head_only=request.method == "HEAD")

    def _respond(self, response: Response, head_only: bool = False) -> None:
        self._answered = True
        self._buffer = b""
        self.transport.write(response.encode(head_only))
        self.transport.loseConnection()

    def _timed_out(self) -> None:
        """No complete request in time: 408; a peer that does not read even that is cut."""
        self._timer = None
        if self._answered:
            self.transport.abortConnection()
            return
        self._timer = self.factory.clock.callLater(self.factory.timeout, self._timed_out)
        self._respond(error(408))  # (which may close at once, cancelling that timer)

    def _peer(self) -> str:
        peer = self.transport.getPeer()
        return f"{getattr(peer, 'host', '?')}:{getattr(peer, 'port', '?')}"

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self.factory.channels.discard(self)
        timer, self._timer = self._timer, None
        if timer is not None and timer.active():
            timer.cancel()


class HTTPFactory(Factory):
    """Builds an :class:`HTTPChannel` per connection; ``handle(request)`` answers."""

    protocol = HTTPChannel
    noisy = False

    def __init__(
        self,
        clock: Any,
        handle: Callable[[Request], Response],
        *,
        timeout: float = TIMEOUT,
        max_head_bytes: int = MAX_HEAD_BYTES,
        max_connections: int = MAX_CONNECTIONS,
    ) -> None:
        self.clock = clock
        self.handle = handle
        self.timeout = timeout
        self.max_head_bytes = max_head_bytes
        self.max_connections = max_connections
        self.channels: set[HTTPChannel] = set()

    def buildProtocol(self, addr: Any) -> HTTPChannel:
        channel = HTTPChannel()
        channel.factory = self
        return channel
