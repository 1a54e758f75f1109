"""``Deferred``: a result that is not there yet, and the chain of code waiting for it.

Imported through :mod:`logbot.reactor.defer`, the public module (Twisted's names, kept
exactly; API.md): ``Deferred`` (with ``addCallback``, ``addErrback``,
``addCallbacks``, ``addBoth``, ``callback``, ``errback``, ``cancel``, ``pause``,
``unpause``, ``addTimeout``, ``chainDeferred``, ``fromCoroutine``, ``called``,
``paused``, ``result``, ``callbacks``), ``maybeDeferred``, ``ensureDeferred``,
``succeed``, ``fail``, ``CancelledError``, ``AlreadyCalledError``, ``TimeoutError``,
``FirstError``, ``NotACoroutineError``.  Everything else in this module is private.

How the chain runs (``Deferred._runCallbacks``):

* Each entry of ``callbacks`` is a pair ``((callback, args, kw), (errback, args, kw))``;
  the result picks its half (a ``Failure`` picks the errback).  What a callback returns,
  or the ``Failure`` of what it raises, is the result handed to the next entry.
* When a callback returns another Deferred that has no result yet, the outer Deferred
  pauses, and a *continuation* entry ``(_CONTINUE, outer)`` is appended to the inner
  one.  When the inner one reaches that entry, its result moves to the outer Deferred,
  which is pushed on an explicit stack (``chain``) and run by the same loop.  No
  Deferred ever calls another's ``_runCallbacks`` from inside a callback, so ten
  thousand Deferreds chained to each other fire with a flat stack.
* A failure left at the end of a chain is handed to a small ``_UnhandledFailure``
  object.  The Deferred owns it; nothing points back.  When the Deferred is collected
  (even as part of a reference cycle) the helper is collected too, and its ``__del__``
  logs the traceback to the ``logbot.reactor.defer`` logger unless something consumed
  the failure in the meantime.

Coroutines (``ensureDeferred``/``Deferred.fromCoroutine``) are stepped by hand with
``send``/``throw``: ``await d`` yields ``d`` to the driver, which resumes the coroutine
from a callback on ``d``.  There is no event loop here; the reactor's timers and I/O
fire the Deferreds and the coroutines follow.
"""

from __future__ import annotations

import contextlib
import logging
import types
from collections.abc import Callable, Coroutine, Generator
from typing import Any, Generic, Protocol, TypeVar

from logbot.reactor import error
from logbot.reactor.coroutine import CoroutineRunner
from logbot.reactor.failure import Failure

log = logging.getLogger("logbot.reactor.defer")  # the public module's name

_T = TypeVar("_T")

#: Marks a continuation entry in ``Deferred.callbacks`` (see the module docstring).
_CONTINUE = object()

#: Shared keyword dict for callbacks added without keywords (never mutated: ``**`` copies).
_NO_KEYWORDS: dict[str, Any] = {}


class _Clock(Protocol):
    def callLater(self, delay: float, f: Callable[..., Any], *a: Any, **kw: Any) -> Any: ...


class AlreadyCalledError(Exception):
    """``callback``/``errback`` was called on a Deferred that already has a result."""


class CancelledError(Exception):
    """The Deferred was cancelled (``Deferred.cancel``)."""


class TimeoutError(error.TimeoutError):
    """A Deferred did not fire within the time given to ``addTimeout``.

    A subclass of ``logbot.reactor.error.TimeoutError`` (and so of the builtin
    ``TimeoutError``), so ``failure.check(error.TimeoutError)`` matches it too.
    """

    def __init__(self, timeout: float | None = None, what: str = "Deferred") -> None:
        super().__init__(None, f"{what} timed out after {timeout} seconds")
        self.timeout = timeout

    def __str__(self) -> str:
        return self.string


class FirstError(Exception):
    """The first failure of a ``DeferredList(fireOnOneErrback=True)``/``gatherResults``.

    ``subFailure`` is that ``Failure``; ``index`` is the position of its Deferred.
    """

    def __init__(self, failure: Failure, index: int) -> None:
        super().__init__(failure, index)
        self.subFailure = failure
        self.index = index

    def __str__(self) -> str:
        return f"FirstError[#{self.index}, {self.subFailure!r}]"


class NotACoroutineError(TypeError):
    """``ensureDeferred``/``fromCoroutine`` was given something that is not a coroutine."""


class _UnhandledFailure:
    """Logs ``failure`` when collected, unless it was cleared (the failure was handled)."""

    __slots__ = ("failure",)

    def __init__(self, failure: Failure | None) -> None:
        self.failure = failure

    def __del__(self) -> None:
        failure = self.failure
        if failure is not None:
            # At interpreter shutdown logging may be half torn down: never raise here.
            with contextlib.suppress(Exception):
                log.error("Unhandled error in Deferred:\n%s", failure.getTraceback().rstrip())


def _passthrough(result: Any) -> Any:
    return result


def _returnDeferred(_: Any, other: Deferred[Any]) -> Deferred[Any]:
    return other


class Deferred(Generic[_T]):
    """A result that will arrive later, and the callbacks waiting for it.

    Add callbacks with ``addCallback``/``addErrback``/``addCallbacks``/``addBoth``;
    fire it once with ``callback(result)`` or ``errback(failure)``.

    A Deferred that has already fired runs a newly added callback *at once*, inside the
    ``addCallback`` call, with the current result (unless it is paused or waiting on
    another Deferred).  So code after ``d.addCallback(f)`` cannot assume ``f`` has not
    run yet.

    ``canceller(d)``, if given, is called by ``cancel()`` to stop the work behind the
    Deferred; if it does not fire ``d``, ``d`` errbacks with ``CancelledError``.
    """

    __slots__ = (
        "callbacks",
        "called",
        "paused",
        "result",
        "_canceller",
        "_suppressAlreadyCalled",
        "_runningCallbacks",
        "_chainedTo",
        "_unhandled",
        "__weakref__",
    )

    def __init__(self, canceller: Callable[[Deferred[Any]], None] | None = None) -> None:
        self.callbacks: list[tuple[Any, Any]] = []
        self.called = False
        self.paused = 0
        # ``result`` stays unset until the Deferred fires, as in Twisted.
        self._canceller = canceller
        self._suppressAlreadyCalled = False
        self._runningCallbacks = False
        self._chainedTo: Deferred[Any] | None = None
        self._unhandled: _UnhandledFailure | None = None

    # -- adding callbacks ---------------------------------------------------------

    def addCallbacks(
        self,
        callback: Callable[..., Any],
        errback: Callable[..., Any] | None = None,
        callbackArgs: tuple[Any, ...] = (),
        callbackKeywords: dict[str, Any] | None = None,
        errbackArgs: tuple[Any, ...] = (),
        errbackKeywords: dict[str, Any] | None = None,
    ) -> Deferred[Any]:
        """Add a callback and an errback at the same place in the chain; returns self."""
        if not callable(callback):
            raise TypeError(f"callback must be callable, not {callback!r}")
        if errback is None:
            errback = _passthrough
        elif not callable(errback):
            raise TypeError(f"errback must be callable, not {errback!r}")
        self.callbacks.append(
            (
                (callback, callbackArgs, callbackKeywords or _NO_KEYWORDS),
                (errback, errbackArgs, errbackKeywords or _NO_KEYWORDS),
            )
        )
        if self.called:
            self._runCallbacks()
        return self

    def addCallback(self, callback: Callable[..., Any], *args: Any, **kw: Any) -> Deferred[Any]:
        """Call ``callback(result, *args, **kw)`` on success; failures pass by."""
        return self.addCallbacks(callback, _passthrough, callbackArgs=args, callbackKeywords=kw)

    def addErrback(self, errback: Callable[..., Any], *args: Any, **kw: Any) -> Deferred[Any]:
        """Call ``errback(failure, *args, **kw)`` on failure; results pass by."""
        return self.addCallbacks(_passthrough, errback, errbackArgs=args, errbackKeywords=kw)

    def addBoth(self, callback: Callable[..., Any], *args: Any, **kw: Any) -> Deferred[Any]:
        """Call ``callback(resultOrFailure, *args, **kw)`` either way."""
        return self.addCallbacks(
            callback,
            callback,
            callbackArgs=args,
            callbackKeywords=kw,
            errbackArgs=args,
            errbackKeywords=kw,
        )

    def chainDeferred(self, d: Deferred[Any]) -> Deferred[Any]:
        """Fire ``d`` with this Deferred's result (this chain then continues with None)."""
        return self.addCallbacks(d.callback, d.errback)

    def addTimeout(
        self,
        timeout: float,
        clock: _Clock,
        onTimeoutCancel: Callable[[Any, float], Any] | None = None,
    ) -> Deferred[Any]:
        """Cancel this Deferred if it has not fired ``timeout`` seconds from now.

        On a timeout the ``CancelledError`` becomes a ``TimeoutError`` failure, or the
        result of ``onTimeoutCancel(result, timeout)`` when that is given.  Firing in
        time cancels the timer.  Returns self.
        """
        timedOut = False

        def timeItOut() -> None:
            nonlocal timedOut
            timedOut = True
            self.cancel()

        delayedCall = clock.callLater(timeout, timeItOut)

        def convertCancelled(result: Any) -> Any:
            if timedOut:
                return (onTimeoutCancel or _cancelledToTimeoutError)(result, timeout)
            return result

        def cancelTimeout(result: Any) -> Any:
            if delayedCall.active():
                delayedCall.cancel()
            return result

        self.addBoth(convertCancelled)
        return self.addBoth(cancelTimeout)

    # -- firing -------------------------------------------------------------------

    def callback(self, result: Any) -> None:
        """Fire the chain with a success ``result`` (not a Deferred)."""
        if isinstance(result, Deferred):
            raise TypeError("callback() needs a result, not a Deferred; chain it instead")
        self._startRunCallbacks(result)

    def errback(self, fail: Failure | BaseException | None = None) -> None:
        """Fire the chain with a failure.

        ``fail`` may be a ``Failure``, an exception, or None inside an ``except``
        block (the exception being handled is used).
        """
        if not isinstance(fail, Failure):
            fail = Failure(fail)
        self._startRunCallbacks(fail)

    def _startRunCallbacks(self, result: Any) -> None:
        if self.called:
            if self._suppressAlreadyCalled:  # cancelled without a canceller: eat it
                self._suppressAlreadyCalled = False
                return
            raise AlreadyCalledError(f"{self!r} has already been called")
        self.called = True
        self.result = result
        self._runCallbacks()

    def _fireWithDeferred(self, other: Deferred[Any]) -> None:
        """Fire with ``other``'s eventual result, as if a callback had returned it."""
        entry = (_returnDeferred, (other,), _NO_KEYWORDS)
        self.callbacks.insert(0, (entry, entry))
        self._startRunCallbacks(None)

    # -- pausing and cancelling ---------------------------------------------------

    def pause(self) -> None:
        """Stop running callbacks until a matching ``unpause()``."""
        self.paused += 1

    def unpause(self) -> None:
        """Undo one ``pause()``; runs waiting callbacks when no pause is left."""
        if not self.paused:
            return
        self.paused -= 1
        if not self.paused and self.called:
            self._runCallbacks()

    def cancel(self) -> None:
        """Give up on the result.

        Not fired yet: call the canceller, and errback with ``CancelledError`` if that
        did not fire the Deferred (a late ``callback`` is then silently ignored when
        there is no canceller).  Waiting on a chained Deferred: cancel that one.
        Already fired: nothing.
        """
        if not self.called:
            canceller = self._canceller
            if canceller is not None:
                canceller(self)
            else:
                self._suppressAlreadyCalled = True
            if not self.called:
                self.errback(Failure(CancelledError()))
        elif isinstance(self.result, Deferred):
            self.result.cancel()

    # -- the loop -----------------------------------------------------------------

    def _runCallbacks(self) -> None:
        """Run callbacks until every Deferred reached is done, paused or waiting."""
        if self._runningCallbacks:
            return  # a callback added callbacks to its own Deferred: the loop below runs them
        chain: list[Deferred[Any]] = [self]
        while chain:
            current = chain[-1]
            if current.paused:
                chain.pop()  # its unpause() will run it
                continue
            finished = True
            current._chainedTo = None
            callbacks = current.callbacks
            while callbacks:
                item = callbacks.pop(0)
                if item[0] is _CONTINUE:
                    # ``current`` was returned by a callback of ``outer``: hand over the
                    # result and run ``outer`` next, then come back to ``current``.
                    outer: Deferred[Any] = item[1]
                    outer.result = current.result
                    current.result = None
                    if current._unhandled is not None:
                        current._unhandled.failure = None
                    outer.paused -= 1
                    chain.append(outer)
                    finished = False
                    break
                func, args, kw = item[isinstance(current.result, Failure)]
                current._runningCallbacks = True
                try:
                    result = func(current.result, *args, **kw)
                    if result is current:
                        raise TypeError(f"callback {func!r} returned its own Deferred")
                except BaseException:
                    result = Failure()
                finally:
                    current._runningCallbacks = False
                current.result = result
                if isinstance(result, Deferred):
                    if not result.called or result.paused or isinstance(result.result, Deferred):
                        # No result yet: wait for it (see the module docstring).
                        current.paused += 1
                        current._chainedTo = result
                        result.callbacks.append((_CONTINUE, current))
                        break
                    # It already has a result: take it and go on.
                    current.result = result.result
                    result.result = None
                    if result._unhandled is not None:
                        result._unhandled.failure = None
            if finished:
                if current._unhandled is not None or isinstance(current.result, Failure):
                    current._noteUnhandled()
                chain.pop()

    def _noteUnhandled(self) -> None:
        """Arm (or disarm) the unhandled-failure log for the result we stopped at."""
        result = self.result
        if isinstance(result, Failure):
            result.cleanFailure()  # keep the text, drop the frames
            if self._unhandled is None:
                self._unhandled = _UnhandledFailure(result)
            else:
                self._unhandled.failure = result
        elif self._unhandled is not None:
            self._unhandled.failure = None

    # -- coroutines ---------------------------------------------------------------

    def __await__(self) -> Generator[Deferred[Any], _T, _T]:
        """``await d`` in a coroutine driven by ``ensureDeferred``/``fromCoroutine``.

        A Deferred that already has a result gives it at once (a failure is raised);
        otherwise the Deferred is yielded to the driver, which sends the result (or
        throws the exception) back when it fires.
        """
        if self.called and not self.paused and not isinstance(self.result, Deferred):
            result: _T | Failure = self.result
            if isinstance(result, Failure):
                if self._unhandled is not None:
                    self._unhandled.failure = None  # the awaiting code handles it now
                raise result.value.with_traceback(result.tb)
            return result
        return (yield self)

    @classmethod
    def fromCoroutine(cls, coro: Coroutine[Any, Any, _T] | Generator[Any, Any, _T]) -> Deferred[_T]:
        """Run ``coro`` now, until its first ``await`` of a pending Deferred.

        The Deferred returned fires with what the coroutine returns (or raises).
        Cancelling it cancels the Deferred the coroutine is awaiting; the
        ``CancelledError`` is raised at that ``await``, and the coroutine decides the
        outcome (not catching it makes the Deferred fail with ``CancelledError``).
        """
        if not isinstance(coro, (Coroutine, types.GeneratorType)):
            raise NotACoroutineError(f"{coro!r} is not a coroutine")
        d: Deferred[_T] = CoroutineRunner(coro, Deferred).start()
        return d

    # -- display ------------------------------------------------------------------

    def __repr__(self) -> str:
        name = type(self).__name__
        if self._chainedTo is not None:
            return f"<{name} at {id(self):#x} waiting on {self._chainedTo!r}>"
        if self.called:
            return f"<{name} at {id(self):#x} current result: {self.result!r}>"
        return f"<{name} at {id(self):#x}>"


def _cancelledToTimeoutError(result: Any, timeout: float) -> Any:
    if isinstance(result, Failure):
        result.trap(CancelledError)
        raise TimeoutError(timeout, "Deferred")
    return result


# -- helpers ------------------------------------------------------------------------


def succeed(result: _T) -> Deferred[_T]:
    """A Deferred that has already fired with ``result``."""
    d: Deferred[_T] = Deferred()
    d.callback(result)
    return d


def fail(result: Failure | BaseException | None = None) -> Deferred[Any]:
    """A Deferred that has already failed with ``result`` (see ``Deferred.errback``)."""
    d: Deferred[Any] = Deferred()
    d.errback(result)
    return d


def ensureDeferred(coro: Any) -> Deferred[Any]:
    """A Deferred for ``coro``: a Deferred is returned as is, a coroutine is run."""
    if isinstance(coro, Deferred):
        return coro
    return Deferred.fromCoroutine(coro)


def maybeDeferred(f: Callable[..., Any], *args: Any, **kw: Any) -> Deferred[Any]:
    """Call ``f`` and return its outcome as a Deferred, whatever form it takes.

    A Deferred is returned as is, a coroutine is run by ``ensureDeferred``, a
    ``Failure`` or a raised exception becomes a failed Deferred, anything else a
    succeeded one.
    """
    try:
        result = f(*args, **kw)
    except BaseException:
        return fail(Failure())
    if isinstance(result, Deferred):
        return result
    if isinstance(result, Failure):
        return fail(result)
    if isinstance(result, Coroutine):
        return Deferred.fromCoroutine(result)
    return succeed(result)
