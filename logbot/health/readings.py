"""What the reports read off the service: a network's state, its connections, its
lag and send queue, how long log lines have waited.

Why a module of its own: ``/metrics`` (:mod:`.metrics`) and ``/healthz``
(:mod:`.report`) must read these alike (a network "down" in one is down in the other),
and neither report belongs in the other's module.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "PENDING_GRACE",
    "connections",
    "core_of",
    "lag_of",
    "network_state",
    "pending_age",
    "queue_of",
]

#: Seconds lines may wait for a log file before /healthz says 503 (``health.pending_grace``).
PENDING_GRACE = 30.0


def network_state(stats: Any) -> str:
    """``registered``, ``registering`` (connected, not yet 001), ``connecting`` or
    ``disconnected`` (waiting for the next attempt)."""
    if stats.registered:
        return "registered"
    if stats.connected:
        return "registering"
    return "connecting" if stats.connecting else "disconnected"


def connections(bot: Any) -> list[Any]:
    """A network's connections (the first is ``bot``): more than one when its channels
    are more than one connection may join.  Counters add up over them; the network is
    connected (registered) when every one is, so a connection down is a network down:
    its channels are not being logged."""
    connections = getattr(bot, "connections", None)
    return [bot] if connections is None else connections()


def core_of(bot: Any) -> Any:
    client = bot.client
    return None if client is None else client.core


def lag_of(bot: Any, now: float) -> float | None:
    core = core_of(bot)
    if core is None or not bot.stats.registered:
        return None
    return core.lag(now)


def queue_of(bot: Any) -> int:
    core = core_of(bot)
    return 0 if core is None else core.queue_length


def pending_age(writes: Any, now: float) -> float:
    """Seconds the oldest pending log line has waited (0.0 when none waits)."""
    since = writes.pending_since
    if since is None or not writes.pending:
        return 0.0
    return max(0.0, now - since)
