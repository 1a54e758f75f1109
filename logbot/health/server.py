"""The health listener: ``GET /healthz`` and ``GET /metrics`` on the service's reactor.

The HTTP side (limits, parsing, one request per connection) is :mod:`logbot.health.http`;
this module routes the two paths to :mod:`logbot.health.metrics` (pure functions of the
service's state), so a bug in a report is a ``500``, never a broken bot.  An unknown
path gets ``404``; a method other than GET or HEAD on a known path ``405``.

The listening socket itself is set up to keep floods from the health check: a long
kernel queue (:data:`LISTEN_BACKLOG`) and, on Linux, ``TCP_DEFER_ACCEPT``
(:data:`DEFER_ACCEPT_SECONDS`), so a connection that has sent nothing is not handed
to us at all for some seconds: idle connections, however many and from however many
addresses, wait in the kernel instead of taking the 32 slots, and one that is handed
over has its request there already, read at once (:class:`~logbot.health.http.HTTPChannel`).
"""

from __future__ import annotations

import json
import logging
import socket
from collections.abc import Callable
from typing import Any

from logbot.health import metrics, report
from logbot.health.http import HTTPFactory, Request, Response, error

__all__ = [
    "DEFER_ACCEPT_SECONDS",
    "LISTEN_BACKLOG",
    "HealthListenError",
    "HealthServer",
    "close_http",
    "listen_http",
    "service_routes",
]

log = logging.getLogger(__name__)

#: Connections the kernel may hold finished for us to accept (capped by
#: ``net.core.somaxconn``).  When that queue is full, Linux drops a new client's SYN
#: and the client tries again only 1 s later: with the listen(2) default of 50, a burst
#: of connections from an attacker filled it and a health check waited for that second.
LISTEN_BACKLOG = 4096
#: ``TCP_DEFER_ACCEPT``: a connection is handed to us when its first data arrives, or,
#: if none does, after about this long (the kernel rounds it up to its SYN-ACK retries:
#: 3 s).  Without it, a flood of idle connections from many addresses (each under the
#: per-address limit) was accepted faster than a health check could send its request,
#: and each one cut the oldest silent connection, which was sometimes the check.
DEFER_ACCEPT_SECONDS = 2


def listen_http(
    reactor: Any,
    factory: HTTPFactory,
    host: str,
    port: int,
    error: type[Exception],
    what: str,
) -> Any:
    """Listen for ``factory`` on ``host:port`` as every HTTP listener of ours does (the
    long backlog, ``TCP_DEFER_ACCEPT``); the listening port.  ``error(message)`` is
    raised when the port cannot be had; ``what`` names the listener in a warning."""
    try:
        listening = reactor.listenTCP(port, factory, backlog=LISTEN_BACKLOG, interface=host)
    except OSError as e:  # the reactor's message says where already; others may not
        message = e.strerror or str(e)
        if not message.startswith("cannot listen"):
            message = f"cannot listen on {host}:{port}: {message}"
        raise error(message) from None
    except ValueError as e:  # select's descriptor limit
        raise error(f"cannot listen on {host}:{port}: {e}") from None
    listening_socket = getattr(listening, "socket", None)
    defer_accept = getattr(socket, "TCP_DEFER_ACCEPT", None)  # Linux only
    if listening_socket is not None and defer_accept is not None:
        try:
            listening_socket.setsockopt(socket.IPPROTO_TCP, defer_accept, DEFER_ACCEPT_SECONDS)
        except OSError as e:  # not fatal: the limits of logbot.health.http still hold
            log.warning("%s: cannot set TCP_DEFER_ACCEPT: %s", what, e.strerror or e)
    return listening


def close_http(listening: Any, factory: HTTPFactory) -> None:
    """Stop ``listening`` (if any) and cut every connection ``factory`` still has."""
    if listening is not None:
        listening.stopListening()
    for channel in list(factory.channels):
        if channel.transport is not None:
            channel.transport.abortConnection()


class HealthListenError(Exception):
    """The listener could not be started (the port is taken, the address is not ours)."""


def service_routes(service: Any, clock: Any) -> Callable[[Request], Response]:
    """The answers of the health listener for ``service`` (``clock.seconds()``: now)."""

    def healthz() -> Response:
        healthy, body = report.health_report(service, clock.seconds())
        data = (json.dumps(body, sort_keys=False) + "\n").encode()
        return Response(200 if healthy else 503, data, "application/json")

    def metrics_text() -> Response:
        text = metrics.render_metrics(service, clock.seconds())
        return Response(200, text.encode(), metrics.CONTENT_TYPE)

    routes = {"/healthz": healthz, "/metrics": metrics_text}

    def handle(request: Request) -> Response:
        route = routes.get(request.path)
        if route is None:
            return error(404)
        if request.method not in ("GET", "HEAD"):
            return error(405, (("Allow", "GET, HEAD"),))
        return route()

    return handle


class HealthServer:
    """The listener of one service: ``start()`` (``HealthListenError`` if the port cannot
    be had), ``stop()`` (closes the port and every open connection)."""

    def __init__(self, reactor: Any, service: Any, host: str, port: int, **limits: Any) -> None:
        self.reactor = reactor
        self.host = host
        self.requested_port = port
        self.factory = HTTPFactory(reactor, service_routes(service, reactor), **limits)
        self.listening: Any = None

    @property
    def port(self) -> int | None:
        """The port listened on (the real one when 0 was asked for); None if stopped."""
        if self.listening is None:
            return None
        return int(self.listening.getHost().port)

    def start(self) -> None:
        self.listening = listen_http(
            self.reactor, self.factory, self.host, self.requested_port, HealthListenError, "health"
        )

    def stop(self) -> None:
        listening, self.listening = self.listening, None
        close_http(listening, self.factory)
