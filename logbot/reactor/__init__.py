"""logbot's reactor: an event loop in Twisted's design, built on the ``select`` module.

``from logbot.reactor import reactor`` gives the process-wide default reactor, created
on first use with the best backend (epoll on Linux).  ``install("poll")`` (or
``"select"``, ``"epoll"``) picks the backend first; after the default reactor exists,
``install`` raises ``ReactorAlreadyInstalledError``.

Our own code (the bot, plugins, tests) never touches the default reactor: it is given a
``Reactor`` (or a ``task.Clock``) as an argument.  The default exists so that programs
written for Twisted run with only their imports changed (API.md).

Compatibility surface: ``reactor``, ``install``, and the submodules ``protocol``,
``basic``, ``endpoints``, ``defer``, ``failure``, ``task``, ``error``.
"""

from __future__ import annotations

import threading
from typing import Any

from logbot.reactor.error import ReactorAlreadyInstalledError
from logbot.reactor.loop import Reactor

_lock = threading.Lock()
_default: Reactor | None = None
_backend: str | None = None


def install(name: str | None = None) -> Reactor:
    """Create the default reactor with backend ``name`` (before its first use)."""
    global _default, _backend
    with _lock:
        if _default is not None:
            raise ReactorAlreadyInstalledError(
                f"the default reactor already exists (backend {_default.backendName}); "
                "call logbot.reactor.install() before the first use of "
                "'from logbot.reactor import reactor'"
            )
        _default = Reactor(name)
        _backend = name
        return _default


def get_default() -> Reactor:
    """The default reactor, created on first use."""
    global _default
    if _default is None:
        with _lock:
            if _default is None:
                _default = Reactor(_backend)
    return _default


def __getattr__(name: str) -> Any:
    # PEP 562: ``from logbot.reactor import reactor`` lands here on first use.
    if name == "reactor":
        return get_default()
    raise AttributeError(f"module 'logbot.reactor' has no attribute {name!r}")


__all__ = ["Reactor", "install", "get_default", "reactor"]
