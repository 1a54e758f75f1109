"""``inlineCallbacks`` and ``returnValue``: Deferred code written as a generator.

Imported through :mod:`logbot.reactor.defer` (Twisted's names, part of the
compatibility surface).  Why generators as well as coroutines: programs written for
Twisted before ``async def`` use ``@inlineCallbacks``, and they must run with only their
imports changed.

Twisted's semantics, kept:

* Calling the decorated function returns a Deferred.  The function must return a
  generator, else ``TypeError`` at the call (as does ``returnValue`` in a function
  that is not a generator).
* ``x = yield d`` with a Deferred waits for it: its result is sent in, its failure's
  exception is thrown in at the ``yield`` (with its traceback).  The yielded Deferred's
  chain goes on with None: the generator took the result over, so a failure it caught
  is never logged as unhandled.  Anything that is not a Deferred is sent back at once.
* ``return x`` and ``returnValue(x)`` fire the Deferred with ``x`` (a Failure
  errbacks, a Deferred is followed); an exception escaping fails it.  ``returnValue``
  raises a ``BaseException`` so that ``except Exception`` does not swallow it;
  called from a helper function rather than the generator itself, it still works but
  warns (``DeprecationWarning``), as in Twisted.
* Cancelling the Deferred cancels the one being waited on: ``CancelledError`` is
  raised at the ``yield``, and the generator decides the outcome.
* Each call runs its generator in a copy of the caller's ``contextvars`` context, so
  a variable set inside survives the ``yield`` and does not leak out.

A long run of ``yield``\\ s of Deferreds that have already fired is stepped by a loop
(``CoroutineRunner._step``), so 10,000 of them keep a flat stack.
"""

from __future__ import annotations

import contextvars
import functools
import types
import warnings
from collections.abc import Callable, Generator
from typing import Any, NoReturn, ParamSpec, TypeVar

from logbot.reactor.coroutine import CoroutineRunner
from logbot.reactor.deferred import Deferred

_P = ParamSpec("_P")
_T = TypeVar("_T")

__all__ = ["inlineCallbacks", "returnValue"]


class _ReturnValue(BaseException):
    """Raised by ``returnValue``; a BaseException so ``except Exception`` lets it by."""

    def __init__(self, value: object) -> None:
        super().__init__(value)
        self.value = value


def returnValue(val: object) -> NoReturn:
    """Make the ``@inlineCallbacks`` generator's Deferred fire with ``val``.

    ``return val`` does the same in a generator; this is the spelling of Python 2 days,
    kept for the programs that use it.
    """
    raise _ReturnValue(val)


class _InContext:
    """The generator, stepped inside its own ``contextvars`` context (Twisted's rule)."""

    __slots__ = ("gen", "context")

    def __init__(self, gen: Generator[Any, Any, Any]) -> None:
        self.gen = gen
        self.context = contextvars.copy_context()

    def send(self, value: Any) -> Any:
        return self.context.run(self.gen.send, value)

    def throw(self, exc: BaseException) -> Any:
        return self.context.run(self.gen.throw, exc)


class _GeneratorRunner(CoroutineRunner):
    """``CoroutineRunner`` with the generator rules: plain values come straight back,
    ``returnValue`` ends the generator with a result."""

    __slots__ = ()

    def _notADeferred(self, awaited: Any) -> Any:
        return awaited

    def _escaped(self, exc: BaseException) -> Any:
        if isinstance(exc, _ReturnValue):
            _warnIfNotLocal(exc, self.coro.gen.gi_code)
            exc.__traceback__ = None  # the frames are done with; do not keep them alive
            return exc.value
        return super()._escaped(exc)


def _warnIfNotLocal(exc: _ReturnValue, code: types.CodeType) -> None:
    """Warn when ``returnValue`` was called from a helper, not the generator itself.

    The traceback runs from the runner through the generator's frame to
    ``returnValue``'s own; anything between those two is a helper that ended a
    generator it does not belong to, which confuses readers (Twisted warns too).
    """
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code is not code:
        tb = tb.tb_next
    if tb is None or tb.tb_next is None or tb.tb_next.tb_next is None:
        return  # called in the generator itself (or the frames are not there to check)
    caller = tb.tb_next
    while caller.tb_next is not None and caller.tb_next.tb_next is not None:
        caller = caller.tb_next  # the frame that called returnValue
    warnings.warn_explicit(
        f"returnValue() in {caller.tb_frame.f_code.co_name!r} causing "
        f"{code.co_name!r} to exit: returnValue should only be invoked by functions "
        "decorated with inlineCallbacks",
        DeprecationWarning,
        caller.tb_frame.f_code.co_filename,
        caller.tb_lineno,
    )


def inlineCallbacks(f: Callable[_P, Generator[Any, Any, _T]]) -> Callable[_P, Deferred[_T]]:
    """Decorate a generator function so that it runs as Deferred code.

    See the module docstring for what ``yield``, ``return`` and cancelling do.
    """

    @functools.wraps(f)
    def unwindGenerator(*args: _P.args, **kwargs: _P.kwargs) -> Deferred[_T]:
        try:
            gen = f(*args, **kwargs)
        except _ReturnValue:
            raise TypeError(
                f"inlineCallbacks requires {f!r} to produce a generator; instead "
                "caught returnValue being used in a non-generator"
            ) from None
        if not isinstance(gen, types.GeneratorType):
            raise TypeError(
                f"inlineCallbacks requires {f!r} to produce a generator; instead got {gen!r}"
            )
        d: Deferred[_T] = _GeneratorRunner(_InContext(gen), Deferred).start()
        return d

    return unwindGenerator
