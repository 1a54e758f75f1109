"""Exceptions of the reactor.

Compatibility surface (API.md): ``ConnectionDone``, ``ConnectionLost``,
``ConnectionRefusedError``, ``TimeoutError``, ``ProcessDone``, ``ProcessTerminated``
keep Twisted's names so that ported programs can ``from logbot.reactor import error``
and check ``reason.check(error.ConnectionDone)``.  The rest are ours.
"""

from __future__ import annotations

import builtins


class ReactorError(Exception):
    """Base of the errors the reactor itself raises."""


class ReactorAlreadyInstalledError(ReactorError):
    """``install()`` was called after the default reactor had been created."""


class ReactorNotRunning(ReactorError):
    """``stop()`` was called on a reactor that is not running."""


class AlreadyCalled(ReactorError):
    """A DelayedCall that already ran was cancelled or reset."""


class AlreadyCancelled(ReactorError):
    """A DelayedCall that was cancelled was cancelled or reset again."""


class ConnectionClosed(Exception):
    """Base of the reasons a connection ends (``reason.value`` in ``connectionLost``)."""


class ConnectionDone(ConnectionClosed):
    """The connection was closed cleanly (by either side)."""

    def __str__(self) -> str:
        return "Connection was closed cleanly." + (f" {self.args[0]}" if self.args else "")


class ConnectionLost(ConnectionClosed):
    """The connection was lost in a non-clean fashion."""

    def __str__(self) -> str:
        return "Connection to the other side was lost in a non-clean fashion" + (
            f": {self.args[0]}." if self.args else "."
        )


class ConnectionAborted(ConnectionLost):
    """``abortConnection()`` closed the connection without flushing."""


class ConnectError(Exception):
    """A connection attempt failed (``reason.value`` in ``clientConnectionFailed``)."""

    def __init__(self, osError: str | None = None, string: str = "") -> None:
        self.osError = osError
        self.string = string
        super().__init__(osError, string)

    def __str__(self) -> str:
        name = (
            self.__doc__.strip().splitlines()[0].rstrip(".")
            if self.__doc__
            else type(self).__name__
        )
        detail = ": ".join(s for s in (self.osError, self.string) if s)
        return f"{name}" + (f": {detail}" if detail else "")


class ConnectionRefusedError(ConnectError):
    """Connection was refused by other side."""


class TimeoutError(ConnectError, builtins.TimeoutError):
    """User timeout caused connection failure."""


class DNSLookupError(ConnectError):
    """DNS lookup failed."""


class NoRouteError(ConnectError):
    """No route to host."""


class TLSError(ConnectError):
    """The TLS handshake failed."""


class UserError(ConnectError):
    """The connection attempt was stopped by the user."""


class ProcessDone(ConnectionDone):
    """A process has ended without apparent errors (exit status 0)."""

    exitCode = 0
    signal = None

    def __init__(self, status: int = 0) -> None:
        super().__init__("process finished with exit code 0")
        self.status = status


class ProcessTerminated(ConnectionLost):
    """A process has ended with a non-zero exit code or because of a signal."""

    def __init__(
        self, exitCode: int | None = None, signal: int | None = None, status: int | None = None
    ) -> None:
        self.exitCode = exitCode
        self.signal = signal
        self.status = status
        if signal is not None:
            text = f"process ended by signal {signal}"
        else:
            text = f"process ended with exit code {exitCode}"
        super().__init__(text)

    def __str__(self) -> str:
        return f"A process has ended with a probable error condition: {self.args[0]}."


class ProcessExitedAlready(ReactorError):
    """A signal was sent to a process that has already been reaped."""
