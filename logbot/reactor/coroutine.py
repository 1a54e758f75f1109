"""Driving a coroutine with Deferreds: what ``ensureDeferred``/``fromCoroutine`` run.

Why the Deferred class is handed in (``deferred_type``) rather than imported: the
Deferred's ``fromCoroutine`` needs this runner, so the runner must not need the
Deferred's module back; it only builds, tests and fires Deferreds of that class.

``await d`` yields ``d`` to ``CoroutineRunner``, which resumes the coroutine from a
callback on ``d`` with ``send`` (or ``throw`` for a Failure).  There is no event loop
here: the reactor's timers and I/O fire the Deferreds and the coroutines follow.  A
result that arrives while ``addBoth`` is still being called is stepped by the loop in
``_step``, not by recursion, so a long run of already-fired awaits keeps a flat stack.

``inlineCallbacks`` (``inline.py``) drives generators with the same loop; it changes
two hooks: ``_notADeferred`` (a coroutine fails with ``TypeError``, a generator gets
the value back) and ``_escaped`` (``returnValue`` ends a generator with a result).
"""

from __future__ import annotations

from typing import Any

from logbot.reactor.failure import Failure

#: No result arrived while ``addBoth`` was being called.
_NOTHING = object()


class CoroutineRunner:
    """Steps one coroutine: resumes it whenever the Deferred it awaits fires."""

    __slots__ = ("coro", "deferred_type", "deferred", "waitingOn", "_inAddBoth", "_early")

    def __init__(self, coro: Any, deferred_type: type[Any]) -> None:
        self.coro = coro
        self.deferred_type = deferred_type  # the Deferred class (see the module docstring)
        self.deferred: Any = deferred_type(self._cancel)
        self.waitingOn: Any = None  # the Deferred the coroutine awaits
        self._inAddBoth = False
        self._early: Any = _NOTHING  # a result that arrived inside addBoth

    def start(self) -> Any:
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
                outcome = stop.value
            except BaseException as exc:
                outcome = self._escaped(exc)
            else:
                if not isinstance(awaited, self.deferred_type):
                    value = self._notADeferred(awaited)
                    continue
                self.waitingOn = awaited
                self._inAddBoth = True
                awaited.addBoth(self._resume)
                self._inAddBoth = False
                value, self._early = self._early, _NOTHING
                if value is _NOTHING:
                    return  # ``_resume`` will step us when ``awaited`` fires
                # It fired inside addBoth (paused or chained a moment ago): no recursion.
                continue
            # Fired outside the ``except`` blocks, so an error in a callback of the
            # result does not carry "during handling of the above exception" with it.
            self._finish(outcome)
            return

    def _escaped(self, exc: BaseException) -> Any:
        """What the Deferred fires with when ``exc`` escapes the coroutine.

        Called inside the ``except`` block, so ``Failure()`` captures the traceback.
        """
        return Failure(exc, exc_tb=exc.__traceback__)

    def _notADeferred(self, awaited: Any) -> Any:
        """What to send (a Failure: throw) into the coroutine for a non-Deferred."""
        return Failure(
            TypeError(f"a coroutine run by logbot can only await Deferreds, not {awaited!r}")
        )

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
        if isinstance(result, self.deferred_type):
            d._fireWithDeferred(result)
        elif isinstance(result, Failure):
            d.errback(result)
        else:
            d.callback(result)

    def _cancel(self, d: Any) -> None:
        awaited = self.waitingOn
        if awaited is not None:
            awaited.cancel()  # raises CancelledError at the coroutine's await
        if not d.called:
            # The coroutine lives on (it caught the error, or is running right now):
            # let ``d`` follow a fresh Deferred that its eventual result will fire.
            self.deferred = self.deferred_type(self._cancel)
            d._fireWithDeferred(self.deferred)
