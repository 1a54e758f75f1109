"""A table of message handlers filled by a decorator.

Handlers are registered explicitly (``@table.on("JOIN")``) instead of being
found by name (``irc_JOIN``): a typo is then an error at import time rather
than a silently ignored command, and grep finds every handler of a command.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

__all__ = ["HandlerTable"]

H = TypeVar("H", bound=Callable[..., object])


class HandlerTable(Generic[H]):
    """Maps upper-case commands (``"JOIN"``, ``"353"``) to one handler each."""

    def __init__(self) -> None:
        self._handlers: dict[str, H] = {}

    def on(self, *commands: str) -> Callable[[H], H]:
        def register(handler: H) -> H:
            for command in commands:
                if command in self._handlers:
                    raise ValueError(f"two handlers for {command}")
                self._handlers[command] = handler
            return handler

        return register

    @property
    def mapping(self) -> dict[str, H]:
        """The command -> handler dict itself (for a hot path's single ``.get``)."""
        return self._handlers

    def get(self, command: str) -> H | None:
        return self._handlers.get(command)

    def __contains__(self, command: str) -> bool:
        return command in self._handlers
