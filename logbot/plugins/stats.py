"""What the plugin limits did, counted for the metrics endpoint: a plain dataclass the
plugin manager and runner update in place (the counters live with the plugins so that
the plugin machinery needs nothing from the service that runs it)."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["PluginStats"]


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
