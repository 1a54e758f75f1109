"""The health listener: ``GET /healthz`` and ``GET /metrics`` on the service's reactor.

The HTTP side (limits, parsing, one request per connection) is :mod:`logbot.health.http`;
this module routes the two paths to :mod:`logbot.health.metrics` (pure functions of the
service's state), so a bug in a report is a ``500``, never a broken bot.  An unknown
path gets ``404``; a method other than GET or HEAD on a known path ``405``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from logbot.health import metrics
from logbot.health.http import HTTPFactory, Request, Response, error

__all__ = ["HealthListenError", "HealthServer", "service_routes"]


class HealthListenError(Exception):
    """The listener could not be started (the port is taken, the address is not ours)."""


def service_routes(service: Any, clock: Any) -> Callable[[Request], Response]:
    """The answers of the health listener for ``service`` (``clock.seconds()``: now)."""

    def healthz() -> Response:
        healthy, body = metrics.health_report(service, clock.seconds())
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
        try:
            self.listening = self.reactor.listenTCP(
                self.requested_port, self.factory, interface=self.host
            )
        except OSError as e:
            raise HealthListenError(e.strerror or str(e)) from None
        except ValueError as e:  # select's descriptor limit
            raise HealthListenError(
                f"cannot listen on {self.host}:{self.requested_port}: {e}"
            ) from None

    def stop(self) -> None:
        listening, self.listening = self.listening, None
        if listening is not None:
            listening.stopListening()
        for channel in list(self.factory.channels):
            if channel.transport is not None:
                channel.transport.abortConnection()
