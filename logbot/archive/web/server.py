"""The web view's listener, on whatever reactor runs it (``logbot web``'s, or the bot's).

Why the health listener's HTTP code: it is already bounded against slow and greedy
clients (a 2 s deadline for the request head, 8 KiB of head, 10 s to take an answer,
4 waiting connections per address, 32 in all, one request per connection; see
:mod:`logbot.health.http`), and a page of the archive needs nothing more: no body is
ever read.  The listening socket gets the same long backlog and ``TCP_DEFER_ACCEPT``
as the health one.  Every answer, the HTTP layer's own errors included, carries
:data:`~logbot.archive.web.html.SECURITY_HEADERS`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from logbot.archive.web.html import SECURITY_HEADERS
from logbot.archive.web.routes import ArchiveIndex, WebApp
from logbot.config.settings import WebOptions
from logbot.health.http import HTTPFactory
from logbot.health.server import close_http, listen_http

__all__ = ["WebListenError", "WebServer", "published_channels", "serve"]

log = logging.getLogger(__name__)


class WebListenError(Exception):
    """The listener could not be started (the port is taken, the address is not ours)."""


class WebServer:
    """The web view on ``reactor`` at ``host:port``: ``start()`` (``WebListenError`` if
    the port cannot be had), ``stop()`` (closes the port and every open connection).
    ``reactor`` is the clock of the HTTP limits; ``wall()`` the time of day ("today")."""

    def __init__(
        self,
        reactor: Any,
        options: WebOptions,
        index: ArchiveIndex,
        host: str,
        port: int,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.reactor = reactor
        self.host = host
        self.requested_port = port
        self.app = WebApp(options, index, wall)
        self.factory = HTTPFactory(reactor, self.app.handle, headers=SECURITY_HEADERS)
        self.listening: Any = None

    @property
    def port(self) -> int | None:
        """The port listened on (the real one when 0 was asked for); None if stopped."""
        if self.listening is None:
            return None
        return int(self.listening.getHost().port)

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/"

    def start(self) -> None:
        self.listening = listen_http(
            self.reactor, self.factory, self.host, self.requested_port, WebListenError, "web"
        )

    def stop(self) -> None:
        listening, self.listening = self.listening, None
        close_http(listening, self.factory)


def published_channels(server: WebServer) -> int:
    """How many channels with logs the web view shows now."""
    index, publisher = server.app.index, server.app.publisher
    have = set(index.networks())
    return sum(
        1
        for network in publisher.networks()
        if network in have
        for info in index.channels(network)
        if publisher.shows(network, info.key)
    )


def serve(
    reactor: Any,
    options: WebOptions,
    index: ArchiveIndex,
    host: str,
    port: int,
    say: Callable[[str], None],
    wall: Callable[[], float] = time.time,
) -> int:
    """Listen, ``say`` the one line of where, run ``reactor`` until it stops (SIGTERM,
    SIGINT), close; the exit status: 0, or 2 (after saying why) if the port cannot be
    had."""
    server = WebServer(reactor, options, index, host, port, wall)
    try:
        server.start()
    except WebListenError as e:
        say(f"logbot web: {e}")
        return 2
    count = published_channels(server)
    say(f"logbot web: serving {server.url} ({count} channel{'s' if count != 1 else ''} published)")
    try:
        reactor.run()
    finally:
        server.stop()
    return 0
