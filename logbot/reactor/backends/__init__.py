"""I/O multiplexing backends: one small module per OS mechanism, one contract.

Every backend offers::

    register(fd, events)     start watching fd for READ and/or WRITE
    modify(fd, events)       change what is watched (events != 0)
    unregister(fd)           stop watching fd (it may already be closed)
    poll(timeout)            wait at most timeout seconds (None: forever, 0: do not block)
                             -> list of (fd, events); events may include ERROR/HUP
    close()                  release the kernel object

The masks are the ``select`` module's own ``POLLIN``/``POLLOUT``/``POLLERR``/``POLLHUP``
values, which Linux's epoll shares (``EPOLLIN == POLLIN`` ...): so neither ``epoll`` nor
``poll`` translates a single event, and only ``select`` builds its masks by hand.

This module is the one place that chooses among them (``create``); the masks and the
protocol live in ``contract``.
"""

from __future__ import annotations

import select

from logbot.reactor.backends.contract import ERROR, HUP, READ, READABLE, WRITE, Backend

__all__ = [
    "ERROR",
    "HUP",
    "READ",
    "READABLE",
    "WRITE",
    "Backend",
    "available",
    "create",
    "default_name",
]


def available() -> list[str]:
    """Backend names this platform supports, best first."""
    names = []
    if hasattr(select, "epoll"):
        names.append("epoll")
    if hasattr(select, "poll"):
        names.append("poll")
    names.append("select")
    return names


def default_name() -> str:
    return available()[0]


def create(name: str | None = None) -> Backend:
    """A new backend by name (``epoll``, ``poll``, ``select``); None picks the best."""
    name = name or default_name()
    if name not in ("epoll", "poll", "select"):
        raise ValueError(f"unknown reactor backend {name!r}: choose epoll, poll or select")
    if name not in available():
        raise ValueError(f"reactor backend {name!r} is not available on this platform")
    if name == "epoll":
        from logbot.reactor.backends.epoll_backend import EpollBackend

        return EpollBackend()
    if name == "poll":
        from logbot.reactor.backends.poll_backend import PollBackend

        return PollBackend()
    from logbot.reactor.backends.select_backend import SelectBackend

    return SelectBackend()
