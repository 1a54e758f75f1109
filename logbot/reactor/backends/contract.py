"""The contract every I/O backend keeps: the event masks and the :class:`Backend`
protocol (see :mod:`logbot.reactor.backends` for what each call does).

Why a module of its own: the package chooses among the backends and the select
backend builds its masks from these, so they sit below both and import nothing back.
"""

from __future__ import annotations

import select
from typing import Protocol

__all__ = ["ERROR", "HUP", "READ", "READABLE", "WRITE", "Backend"]

READ: int = select.POLLIN
WRITE: int = select.POLLOUT
ERROR: int = select.POLLERR
HUP: int = select.POLLHUP
#: Events after which a read will tell what happened (data, EOF or the error).
READABLE = READ | ERROR | HUP | getattr(select, "POLLRDHUP", 0)


class Backend(Protocol):
    name: str

    def register(self, fd: int, events: int) -> None: ...

    def modify(self, fd: int, events: int) -> None: ...

    def unregister(self, fd: int) -> None: ...

    def poll(self, timeout: float | None) -> list[tuple[int, int]]: ...

    def close(self) -> None: ...
