"""The ``/healthz`` report: is the bot logging, and if not, what is down and why.

A pure function of the service's state and ``now`` (the reactor's monotonic seconds;
dates shown come from the wall times the stats hold), tested with a fake service and no
socket; the HTTP side is :mod:`logbot.health.server`, the figures for Prometheus
:mod:`logbot.health.metrics` (the service's attributes read are listed there).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from logbot import __version__
from logbot.health.readings import (
    PENDING_GRACE,
    connections,
    lag_of,
    network_state,
    pending_age,
    queue_of,
)

__all__ = ["health_report"]


def _iso(seconds: float | None) -> str | None:
    if seconds is None:
        return None
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="seconds")


def _network_report(bot: Any, now: float) -> dict[str, Any]:
    stats = bot.stats
    every = connections(bot)
    report: dict[str, Any] = {
        "registered": all(c.stats.registered for c in every),
        "connected": all(c.stats.connected for c in every),
        "state": network_state(stats),
        "server": str(bot.server),
    }
    client = bot.client
    if stats.registered:
        report["nick"] = client.nickname if client is not None else None
        report["registered_since"] = _iso(stats.registered_at)
        lag = lag_of(bot, now)
        report["lag_seconds"] = None if lag is None else round(lag, 3)
        report["send_queue"] = queue_of(bot)
    else:
        report["down_since"] = _iso(stats.down_since)
        report["last_error"] = stats.last_error
    if len(every) > 1:  # each one's state, nick and channels; the first first
        report["connections"] = [_connection_report(c) for c in every]
    sasl = stats.sasl
    if sasl is not None:  # a failed optional login does not make a network unhealthy
        report["sasl"] = {
            "required": sasl.required,
            "authenticated": sasl.authenticated,
            "mechanism": sasl.mechanism,
            "account": sasl.account,
            "error": sasl.error,
        }
    return report


def _connection_report(bot: Any) -> dict[str, Any]:
    client = bot.client
    stats = bot.stats
    report: dict[str, Any] = {
        "state": network_state(stats),
        "nick": client.nickname if client is not None else bot.config.nick,
        "channels": len(bot.joined),
    }
    if not stats.registered:
        report["down_since"] = _iso(stats.down_since)
        report["last_error"] = stats.last_error
    return report


def _grace(service: Any) -> float:
    health = getattr(getattr(service, "config", None), "health", None)
    return float(getattr(health, "pending_grace", PENDING_GRACE))


def _logs_report(service: Any, now: float) -> dict[str, Any] | None:
    """The ``logs`` entry while lines wait for a log file, else None."""
    writes = service.write_totals()
    if not writes.pending:
        return None
    targets = getattr(service, "pending_targets", None)
    age = pending_age(writes, now)
    grace = _grace(service)
    return {
        "pending": writes.pending,
        "pending_seconds": round(age, 3),
        "pending_grace": grace,
        "overdue": age > grace,
        "channels": targets() if targets is not None else [],
    }


def health_report(service: Any, now: float) -> tuple[bool, dict[str, Any]]:
    """``(healthy, body)``: healthy when every network is registered and no log line has
    waited for a log file longer than ``health.pending_grace``; the body (for
    ``/healthz``, as JSON) names each network's state and those that are down, and,
    while lines wait, how many, how long and for which channels (``logs``: in
    ``unhealthy`` once overdue).  A line the bot cannot write is lost if it stops, so
    it must show where the operator looks, not only on stderr."""
    networks = {name: _network_report(bot, now) for name, bot in sorted(service.networks.items())}
    down = [name for name, report in networks.items() if not report["registered"]]
    logs = _logs_report(service, now)
    if logs is not None and logs["overdue"]:
        down.append("logs")
    body: dict[str, Any] = {
        "status": "unhealthy" if down else "ok",
        "version": __version__,
        "uptime_seconds": round(max(0.0, now - service.started_mono), 3),
    }
    if down:
        body["unhealthy"] = down
    body["networks"] = networks
    if logs is not None:
        body["logs"] = logs
    return not down, body
