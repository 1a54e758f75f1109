"""A minimal HTTP/1.x server on the reactor: one request per connection, no body.

Why so small, and our own: its readers (a container's HEALTHCHECK, a Prometheus
scraper) need nothing more, and the bot must never wait on them.  So it reads the
request head (no body is ever needed), answers with ``Content-Length`` and
``Connection: close``, and closes.  What a peer can make it do is bounded by named
limits:

- ``max_head_bytes`` (:data:`MAX_HEAD_BYTES`, 8 KiB): a request head that grows past
  it gets ``431`` and the connection closes;
- ``head_timeout`` (:data:`HEAD_TIMEOUT`, 2 s): the whole head must arrive within it
  of the connection, however it trickles in, or the peer gets ``408`` and the
  connection closes.  A deadline, not an idle timer: a "slowloris" client that sends
  a byte a second would keep an idle timer running for ever.  The clients it serves
  send their head in one packet at once;
- ``write_timeout`` (:data:`WRITE_TIMEOUT`, 10 s): an answer the peer has not taken
  within it of being written is dropped and the connection cut;
- ``max_per_client`` (:data:`MAX_CONNECTIONS_PER_CLIENT`, 4): a client address (an
  IPv6 one by its /64, which one host usually has whole) with that many connections
  waiting for their request has its next ones closed at once, unanswered, before
  anything is read or registered.  Answered connections, which close as soon as the
  answer is sent, do not count: a client asking again and again would otherwise be
  turned away by its own last few answers, still closing while the server accepts;
- ``max_connections`` (:data:`MAX_CONNECTIONS`, 32): one more does not get a ``503``
  (which let 32 slow clients turn every health check away): it is let in, and another
  is cut to make room: one still waiting for its head (an answered one only if none
  is), of the client with the most connections open, the one silent the longest.  One
  address (4 connections) can never fill the server, and under a flood from many
  addresses a prober is not the one cut: its request, sent with the connection, is
  read as the connection is accepted (not at the next poll, by when up to 128 newer
  ones accepted in the same wakeup could each have cut the oldest).

``refused`` and ``evicted`` count what the last two did.

A malformed request line or header gets ``400``.  What to answer is the ``handle``
function given to :class:`HTTPFactory` (a route table); an exception in it is a
``500`` and a logged traceback, never a broken bot.  Every timer is on ``clock`` (the
reactor, or a ``task.Clock``).
"""

from __future__ import annotations

import dataclasses
import ipaddress
import itertools
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from logbot.reactor.failure import Failure
from logbot.reactor.protocol import Factory, Protocol, connectionDone

__all__ = [
    "HEAD_TIMEOUT",
    "MAX_CONNECTIONS",
    "MAX_CONNECTIONS_PER_CLIENT",
    "MAX_HEAD_BYTES",
    "WRITE_TIMEOUT",
    "BadRequest",
    "HTTPChannel",
    "HTTPFactory",
    "Request",
    "Response",
    "client_of",
    "error",
    "parse_head",
]

log = logging.getLogger(__name__)

MAX_HEAD_BYTES = 8 * 1024
HEAD_TIMEOUT = 2.0  # seconds from the connection to the end of the request head
WRITE_TIMEOUT = 10.0  # seconds for the peer to take the answer
MAX_CONNECTIONS = 32  # open at once (logbot.logs.fdlimit.FD_HEADROOM counts them)
MAX_CONNECTIONS_PER_CLIENT = 4  # open at once from one address (an IPv6 /64)

REASONS = {
    200: "OK",
    301: "Moved Permanently",
    400: "Bad Request",
    401: "Unauthorized",
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


def client_of(addr: Any) -> str:
    """Who a peer is, for :data:`MAX_CONNECTIONS_PER_CLIENT`: its IPv4 address, or the
    /64 of its IPv6 one (an IPv4-mapped one is its IPv4 address); ``"?"`` if unknown."""
    host = getattr(addr, "host", None)
    if not isinstance(host, str):
        return "?"
    if ":" not in host:
        return host
    try:
        ip = ipaddress.IPv6Address(host.partition("%")[0])
    except ValueError:
        return host
    if ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    return str(ipaddress.IPv6Network((ip, 64), strict=False))


class HTTPChannel(Protocol):
    """One connection: one request, one response, then close."""

    factory: HTTPFactory
    client = "?"  # client_of() its peer, set by the factory

    def __init__(self) -> None:
        self._buffer = b""
        self.answered = False  # the response is written: the connection is closing
        self._timer: Any = None
        self.last_read = 0  # the factory's tick of the last data (or of the connection)

    def connectionMade(self) -> None:
        factory = self.factory
        factory.admit(self)
        self._timer = factory.clock.callLater(factory.head_timeout, self._head_timed_out)
        # Read what has already arrived, now rather than at the next poll: a client
        # that sent its request with the connection (every health checker does) is
        # answered before newer connections can cut it (HTTPFactory.admit), as a flood
        # from many addresses did, up to 128 accepted in one wakeup.
        read_now = getattr(self.transport, "doRead", None)
        if read_now is not None:
            read_now()  # (one recv(); EAGAIN if nothing is there)

    def dataReceived(self, data: bytes) -> None:
        if self.answered:
            return
        factory = self.factory
        self.last_read = next(factory.ticks)
        self._buffer += data
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
        extra = self.factory.headers
        if extra:  # on every answer, this module's own errors (400, 408, 431, 500) too
            have = {name.lower() for name, _ in response.headers}
            missing = tuple(h for h in extra if h[0].lower() not in have)
            if missing:
                response = dataclasses.replace(response, headers=response.headers + missing)
        self.answered = True
        self.factory.done_waiting(self)
        self._buffer = b""
        self._cancel_timer()  # before closing: loseConnection may end it at once
        self._timer = self.factory.clock.callLater(self.factory.write_timeout, self.cut)
        self.transport.write(response.encode(head_only))
        self.transport.loseConnection()

    def _head_timed_out(self) -> None:
        """No complete request head in time: 408 (and close)."""
        self._timer = None
        self._respond(error(408))

    def cut(self) -> None:
        """Close now, dropping anything unsent; the slot is free at once."""
        self._cancel_timer()
        self.factory.release(self)
        if self.transport is not None:
            self.transport.abortConnection()

    def _cancel_timer(self) -> None:
        timer, self._timer = self._timer, None
        if timer is not None and timer.active():
            timer.cancel()

    def _peer(self) -> str:
        peer = self.transport.getPeer()
        return f"{getattr(peer, 'host', '?')}:{getattr(peer, 'port', '?')}"

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self.factory.release(self)
        self._cancel_timer()


class HTTPFactory(Factory):
    """Builds an :class:`HTTPChannel` per connection; ``handle(request)`` answers.

    ``channels`` are the connections open; ``clients`` those still waiting for their
    request, by :func:`client_of`, each client's oldest first."""

    protocol = HTTPChannel
    noisy = False

    def __init__(
        self,
        clock: Any,
        handle: Callable[[Request], Response],
        *,
        head_timeout: float = HEAD_TIMEOUT,
        write_timeout: float = WRITE_TIMEOUT,
        max_head_bytes: int = MAX_HEAD_BYTES,
        max_connections: int = MAX_CONNECTIONS,
        max_per_client: int = MAX_CONNECTIONS_PER_CLIENT,
        headers: tuple[tuple[str, str], ...] = (),
    ) -> None:
        self.clock = clock
        self.headers = headers  # added to every response that does not have them
        self.handle = handle
        self.head_timeout = head_timeout
        self.write_timeout = write_timeout
        self.max_head_bytes = max_head_bytes
        self.max_connections = max_connections
        self.max_per_client = max_per_client
        self.channels: set[HTTPChannel] = set()
        self.clients: dict[str, dict[HTTPChannel, None]] = {}
        self.ticks = itertools.count(1)  # orders reads without a clock: no two alike
        self.refused = 0  # connections closed unread: their client had too many
        self.evicted = 0  # connections cut to make room for a new one

    def buildProtocol(self, addr: Any) -> HTTPChannel | None:
        """A channel for a new connection; None (the port closes it at once, nothing
        read or watched: the cheapest refusal) when its client has too many waiting."""
        client = client_of(addr)
        mine = self.clients.get(client, {})
        if len(mine) >= self.max_per_client:
            self.refused += 1
            log.debug("health: %s has %d connections waiting: refused", client, len(mine))
            return None
        channel = HTTPChannel()
        channel.factory = self
        channel.client = client
        return channel

    def admit(self, channel: HTTPChannel) -> None:
        """Count ``channel`` in, cutting another first when the server is full."""
        if self.channels and len(self.channels) >= self.max_connections:
            self._evict()
        channel.last_read = next(self.ticks)
        self.channels.add(channel)
        self.clients.setdefault(channel.client, {})[channel] = None

    def done_waiting(self, channel: HTTPChannel) -> None:
        """``channel`` has its answer (or is gone): it no longer counts for its client."""
        mine = self.clients.get(channel.client)
        if mine is None or channel not in mine:
            return
        del mine[channel]
        if not mine:
            del self.clients[channel.client]

    def release(self, channel: HTTPChannel) -> None:
        """Count ``channel`` out (again is harmless)."""
        self.channels.discard(channel)
        self.done_waiting(channel)

    def _evict(self) -> None:
        """Cut the connection whose loss costs least: one still waiting for its head
        (an answered one is about to close by itself), of the client with the most
        connections waiting, the one that has sent nothing for the longest."""
        waiting = [c for c in self.channels if not c.answered] or list(self.channels)
        clients = self.clients
        victim = max(waiting, key=lambda c: (len(clients.get(c.client, ())), -c.last_read))
        self.evicted += 1
        log.debug(
            "health: %d connections open: cutting one of %s", len(self.channels), victim.client
        )
        victim.cut()
