"""Counters the service keeps about itself, in one place for ``logbot`` diagnostics
and the metrics endpoint: plain dataclasses the owning objects update in place."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["NetworkStats", "PluginStats"]


@dataclass
class NetworkStats:
    connected: bool = False
    registered: bool = False
    connections: int = 0  # registrations so far
    reconnects: int = 0  # connection attempts after the first
    lines_logged: int = 0
    log_failures: int = 0  # exceptions while turning events into lines
    registered_at: float | None = None  # wall time of the current registration
    connecting: bool = False  # a connection attempt is under way
    down_since: float | None = None  # wall time since which it is not registered
    last_error: str | None = None  # why the last attempt or connection ended


@dataclass
class PluginStats:
    errors: dict[str, int] = field(default_factory=dict)  # per plugin: exceptions, timeouts
    timeouts: int = 0
    rate_limited: int = 0  # commands dropped by the user or channel rate limit
    loops_suppressed: int = 0  # reply lines held back by the loop guard
    denied: int = 0  # admin commands refused
    replies: int = 0  # reply lines sent
    load_failures: int = 0

    def error(self, plugin: str) -> None:
        self.errors[plugin] = self.errors.get(plugin, 0) + 1
