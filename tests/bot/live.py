"""The real NetworkBot on a real reactor, with reports a test can await.

``LiveBot`` is :class:`~logbot.bot.network.NetworkBot` (its connections, TLS, STS and
backoff as they run in ``logbot run``) whose writer is a fake (the logs are not under
test here) and whose reports (``connected``, ``registered``, ``failed``, ``lost`` and
the core events named in ``WATCHED``) are recorded in order; ``next(kind)`` is a
Deferred that fires with the next report of that kind not yet taken.
"""

from __future__ import annotations

import time
from typing import Any

from logbot.bot.network import NetworkBot
from logbot.bot.sts_store import StsStore
from logbot.config.settings import NetworkConfig, ReconnectOptions, ServerConfig
from logbot.irc import events as ev
from logbot.reactor import defer
from tests.bot.fakes import FakeWriter

WATCHED = (ev.SaslResult, ev.StsAdvertised)
#: Quick retries: a test waits for the second attempt, never for a backoff.
QUICK = ReconnectOptions(initial_delay=0.05, max_delay=0.2, factor=2, jitter=0)


def network(nick: str, *servers: ServerConfig, **overrides: Any) -> NetworkConfig:
    settings: dict[str, Any] = {"reconnect": QUICK, "line_rate": 0}
    settings.update(overrides)
    return NetworkConfig(name="live", servers=servers, nick=nick, **settings)


class LiveBot(NetworkBot):
    def __init__(self, config: NetworkConfig, reactor: Any, sts: StsStore | None = None) -> None:
        super().__init__(config, reactor, FakeWriter(), wall=time.time, sts=sts)
        self.reports: list[tuple[str, Any]] = []
        self._cursor: dict[str, int] = {}  # kind -> the index past the last one taken
        self._waiting: list[tuple[str, defer.Deferred[Any]]] = []

    def _report(self, kind: str, value: Any) -> None:
        self.reports.append((kind, value))
        self._serve()

    def _serve(self) -> None:
        for kind, d in list(self._waiting):
            for index in range(self._cursor.get(kind, 0), len(self.reports)):
                if self.reports[index][0] == kind:
                    self._cursor[kind] = index + 1
                    self._waiting.remove((kind, d))
                    d.callback(self.reports[index][1])
                    break

    def next(self, kind: str) -> defer.Deferred[Any]:
        """The next ``kind`` report (``"registered"``: the client; ``"failed"``: the
        sentence logged; ``"connected"``: the server as used; ``"lost"``: the reason;
        an event class name: the event)."""
        d: defer.Deferred[Any] = defer.Deferred()
        self._waiting.append((kind, d))
        self._serve()
        return d

    def kinds(self) -> list[str]:
        return [kind for kind, _ in self.reports]

    # -- the reports ------------------------------------------------------------------

    def connection_made(self, client: Any) -> None:
        super().connection_made(client)
        self._report("connected", self.current)

    def registered(self, client: Any) -> None:
        super().registered(client)
        self._report("registered", client)

    def clientConnectionFailed(self, connector: Any, reason: Any) -> None:
        super().clientConnectionFailed(connector, reason)
        self._report("failed", self.stats.last_error)

    def connection_lost(self, client: Any, reason: Any) -> None:
        why = client.disconnect_reason or reason.getErrorMessage()
        super().connection_lost(client, reason)
        self._report("lost", why)

    def handle(self, event: ev.Event) -> None:
        super().handle(event)
        if isinstance(event, WATCHED):
            self._report(type(event).__name__, event)
