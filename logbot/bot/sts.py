"""IRCv3 Strict Transport Security for one network (ircv3.net/specs/extensions/sts).

What a server's ``sts`` capability (:class:`~logbot.irc.events.StsAdvertised`) does:

- on a **plain** connection, ``port=P`` is an upgrade policy: the connection is closed
  at once and the next attempt, made at once and not counted as a failure for the
  backoff, goes to the same server with TLS on port P, the certificate verified.  An
  upgrade that cannot verify fails like any TLS connection (counted for the backoff);
  nothing is ever registered over a plain connection that asked for TLS, so the next
  plain attempt (after the backoff) is told to upgrade again.  Without ``port`` the
  value means nothing on a plain connection;
- on a **TLS** connection whose certificate was verified (by a CA and the name, or by
  a pinned ``fingerprint``), ``duration=N`` is a persistence policy: stored for the
  config's host name (:mod:`logbot.bot.sts_store`), renewed at every such connection
  and rescheduled when it closes (the spec's rule), removed by ``duration=0``.  From a
  connection with ``verify: false`` it is ignored (said once): anyone on the path could
  have sent it;
- before each attempt (:meth:`NetworkSts.plan`), a policy in force for the server's
  host makes the attempt TLS on the policy's port, verified, whatever the config says
  (``tls: false``, or ``verify: false`` without a pin); that is said once per host and
  port, at warning, since the config should be changed to match.

A server cannot make us write outside the data folder or keep more than a bounded
number of policies (the store's bounds), and the host a policy is stored under is
always the config's, never a name the server sends.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from logbot.bot.sts_store import StsStore, host_key
from logbot.config.settings import ServerConfig
from logbot.irc import events as ev

__all__ = ["NetworkSts"]

log = logging.getLogger(__name__)


def _date(wall: float) -> str:
    return datetime.fromtimestamp(wall, UTC).strftime("%Y-%m-%d %H:%M UTC")


def secure(server: ServerConfig) -> bool:
    """Whether a connection made as ``server`` says proves who the server is: TLS, and
    the certificate verified by a CA and the name, or by a pin."""
    return server.tls and (server.verify or bool(server.fingerprints))


class NetworkSts:
    """One network's STS: what each attempt must use, what a server's policy changes.

    ``name()``: the network's name, for the log lines (it may change with a reload).
    """

    def __init__(self, name: Callable[[], str], store: StsStore) -> None:
        self._name = name
        self.store = store
        self._upgrade: tuple[str, int] | None = None  # (host key, TLS port): next attempt
        self._target: ServerConfig | None = None  # what the current attempt uses
        self._renewed: str | None = None  # host key whose policy this connection renewed
        # (what, host key) -> the detail last said: one line per change, and a size
        # bounded by the config's hosts (never by what a server sends)
        self._said: dict[tuple[str, str], str] = {}

    @property
    def upgrading(self) -> bool:
        """An upgrade is due: the next attempt goes at once, to the same server."""
        return self._upgrade is not None

    def plan(self, server: ServerConfig) -> ServerConfig:
        """``server`` as the next attempt must use it (see the module docstring)."""
        key = host_key(server.host)
        upgrade, self._upgrade = self._upgrade, None
        target = server
        if upgrade is not None and upgrade[0] == key:
            target = replace(server, tls=True, port=upgrade[1], verify=True)
        else:
            policy = self.store.policy(server.host)
            if policy is not None and not server.tls:
                target = replace(server, tls=True, port=policy.port, verify=True)
                self._say_once(
                    ("tls", key),
                    str(policy.port),
                    "%s: %s has an STS policy until %s: connecting with TLS on port %d"
                    " (the config says tls: false)",
                    self._name(),
                    server.host,
                    _date(policy.expires),
                    policy.port,
                )
            elif policy is not None and not secure(server):
                target = replace(server, verify=True)
                self._say_once(
                    ("verify", key),
                    "",
                    "%s: %s has an STS policy until %s: verifying its certificate (the"
                    " config says verify: false)",
                    self._name(),
                    server.host,
                    _date(policy.expires),
                )
        self._target = target
        self._renewed = None
        return target

    def advertised(self, event: ev.StsAdvertised, client: Any) -> None:
        """The server offered ``sts`` on the current connection (``client``)."""
        target = self._target
        if target is None:
            return
        name = self._name()
        if not target.tls:
            if event.port is None:
                return  # (a plain connection's policy needs a port: nothing to do)
            self._upgrade = (host_key(target.host), event.port)
            log.warning(
                "%s: %s:%d asks for TLS on port %d (STS): reconnecting with TLS now"
                " (set tls: true and port: %d for this server)",
                name,
                target.host,
                target.port,
                event.port,
                event.port,
            )
            client.drop(f"STS upgrade: reconnecting with TLS on port {event.port}")
            return
        if not secure(target):
            self._say_once(
                ("unverified", host_key(target.host)),
                str(target.port),
                "%s: ignoring the STS policy of %s: its certificate is not verified"
                " (verify: false), so anyone on the way could have sent it",
                name,
                target,
            )
            return
        if event.duration is None:
            return  # TLS for this session only: it is already
        before = self.store.put(target.host, target.port, event.duration)
        if event.duration == 0:
            self._renewed = None
            if before is not None:
                log.info("%s: %s removed its STS policy (duration=0)", name, target.host)
            return
        self._renewed = host_key(target.host)
        policy = self.store.policy(target.host)
        if policy is not None and (before is None or before.port != policy.port):
            log.info(
                "%s: %s has an STS policy: TLS only, on port %d, until %s (renewed at"
                " each connection)",
                name,
                target.host,
                policy.port,
                _date(policy.expires),
            )

    def connection_lost(self) -> None:
        """The connection ended: a policy it renewed runs its duration from now."""
        key, self._renewed = self._renewed, None
        if key is not None:
            self.store.reschedule(key)

    def _say_once(self, what: tuple[str, str], detail: str, message: str, *args: Any) -> None:
        if self._said.get(what) != detail:
            self._said[what] = detail
            log.warning(message, *args)
