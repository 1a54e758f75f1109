"""Driving a coroutine with Deferreds: what ``ensureDeferred``/``fromCoroutine`` run.

``await d`` yields ``d`` to ``CoroutineRunner``, which resumes the coroutine from a
callback on ``d`` with ``send`` (or ``throw`` for a Failure).  There is no event loop
here: the reactor's timers and I/O fire the Deferreds and the coroutines follow.  A
result that arrives while ``addBoth`` is still being called is stepped by the loop in
``_step``, not by recursion, so a long run of already-fired awaits keeps a flat stack.
"""

from __future__ import annotations

from typing import Any

from logbot.reactor.defer import _CONTINUE, Deferred
from logbot.reactor.failure import Failure


class CoroutineRunner:
    """Steps one coroutine: resumes it whenever the Deferred it awaits fires."""

    __slots__ = ("coro", "deferred", "waitingOn", "_inAddBoth", "_early")

    def __init__(self, coro: Any) -> None:
        self.coro = coro
        self.deferred: Deferred[Any] = Deferred(self._cancel)
        self.waitingOn: Deferred[Any] | None = None
        self._inAddBoth = False
        self._early: Any = _CONTINUE  # a result that arrived inside addBoth

    def start(self) -> Deferred[Any]:
        self._step(None)
        return self.deferred

    def _step(self, value: Any) -> None:
        """Send ``value`` in (throw it, if a Failure); loop while awaits are ready."""
        coro = self.coro
        while True:
            try:
                if isinstance(value, Failure):
                    awaited = coro.throw(value.value.with_traceback(value.tb))
                else:
                    awaited = coro.send(value)
            except StopIteration as stop:
                self._finish(stop.value)
                return
            except BaseException:
                self._finish(Failure())
                return
            if not isinstance(awaited, Deferred):
                value = Failure(TypeError(
                    f"a coroutine run by logbot can only await Deferreds, not {awaited!r}"
                ))
                continue
            self.waitingOn = awaited
            self._inAddBoth = True
            awaited.addBoth(self._resume)
            self._inAddBoth = False
            value, self._early = self._early, _CONTINUE
            if value is _CONTINUE:
                return  # ``_resume`` will step us when ``awaited`` fires
            # It fired inside addBoth (paused or chained a moment ago): no recursion.

    def _resume(self, result: Any) -> None:
        self.waitingOn = None
        if self._inAddBoth:
            self._early = result
        else:
            self._step(result)
        # Returning None: the coroutine took the result over, nothing is left to log.

    def _finish(self, result: Any) -> None:
        self.waitingOn = None
        d = self.deferred
        if isinstance(result, Deferred):
            d._fireWithDeferred(result)
        elif isinstance(result, Failure):
            d.errback(result)
        else:
            d.callback(result)

    def _cancel(self, d: Deferred[Any]) -> None:
        awaited = self.waitingOn
        if awaited is not None:
            awaited.cancel()  # raises CancelledError at the coroutine's await
        if not d.called:
            # The coroutine lives on (it caught the error, or is running right now):
            # let ``d`` follow a fresh Deferred that its eventual result will fire.
            self.deferred = Deferred(self._cancel)
            d._fireWithDeferred(self.deferred)
