"""``Failure``: an exception captured with its traceback, passed down errback chains.

Compatibility surface (Twisted's names): ``Failure(exc_value=None, exc_type=None,
exc_tb=None)``, ``value``, ``type``, ``tb``, ``check``, ``trap``, ``getErrorMessage``,
``getTraceback``, ``printTraceback``, ``raiseException``, ``cleanFailure``.

Why a wrapper at all: a Deferred's errback chain and ``connectionLost(reason)`` need to
carry an error *value* from the place it happened to code that runs later, possibly on a
later loop iteration.  Keeping the traceback object alive keeps every frame on it
alive, so ``cleanFailure()`` (called when a Failure is stored) renders the traceback to
text once and drops the frames.
"""

from __future__ import annotations

import sys
import traceback
from typing import Any, NoReturn


class NoCurrentExceptionError(Exception):
    """``Failure()`` was created outside an ``except`` block without an exception."""


class Failure:
    """An exception and its traceback, as a value."""

    __slots__ = ("value", "type", "tb", "_tb_text", "__weakref__")

    _tb_text: str | None  # the rendered traceback, once ``getTraceback`` has run

    def __init__(
        self,
        exc_value: BaseException | str | None = None,
        exc_type: type[BaseException] | None = None,
        exc_tb: Any = None,
    ) -> None:
        if exc_value is None:
            exc_type_now, exc_value_now, exc_tb_now = sys.exc_info()
            if exc_value_now is None:
                raise NoCurrentExceptionError("Failure() outside an except block")
            exc_value, exc_tb = exc_value_now, exc_tb_now
        elif isinstance(exc_value, str):
            exc_value = (exc_type or Exception)(exc_value)
        elif isinstance(exc_value, Failure):  # copying a Failure keeps its value
            other = exc_value
            exc_value, exc_tb = other.value, other.tb
            self._tb_text = other._tb_text
        if not isinstance(exc_value, BaseException):
            raise TypeError(f"Failure needs an exception, not {exc_value!r}")
        self.value: BaseException = exc_value
        self.type: type[BaseException] = type(exc_value)
        self.tb = exc_tb if exc_tb is not None else exc_value.__traceback__
        if not hasattr(self, "_tb_text"):
            self._tb_text = None

    def check(self, *errorTypes: type[BaseException] | str) -> type[BaseException] | None:
        """The first of ``errorTypes`` that the value is an instance of, else None."""
        for t in errorTypes:
            if isinstance(t, str):
                if any(f"{c.__module__}.{c.__qualname__}" == t for c in self.type.__mro__):
                    return t  # type: ignore[return-value]
            elif isinstance(self.value, t):
                return t
        return None

    def trap(self, *errorTypes: type[BaseException]) -> type[BaseException]:
        """Return the matching type, or re-raise this failure (for use in an errback)."""
        found = self.check(*errorTypes)
        if found is None:
            self.raiseException()
        return found

    def raiseException(self) -> NoReturn:
        """Raise the original exception with its original traceback."""
        raise self.value.with_traceback(self.tb)

    def getErrorMessage(self) -> str:
        """``str(value)``, or the type's name when that is empty."""
        text = str(self.value)
        return text if text else self.type.__name__

    def getTraceback(self) -> str:
        """The traceback as text (kept after ``cleanFailure``)."""
        if self._tb_text is None:
            self._tb_text = "".join(traceback.format_exception(self.type, self.value, self.tb))
        return self._tb_text

    def printTraceback(self, file: Any = None) -> None:
        (file or sys.stderr).write(self.getTraceback())

    def cleanFailure(self) -> None:
        """Render the traceback to text and drop the frames it keeps alive."""
        self.getTraceback()
        self.tb = None
        self.value.__traceback__ = None

    def __repr__(self) -> str:
        return (
            f"<Failure {self.type.__module__}.{self.type.__qualname__}: {self.getErrorMessage()}>"
        )

    __str__ = __repr__
