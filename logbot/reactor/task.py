"""Time helpers: ``Clock`` (a fake clock for tests), ``LoopingCall``, ``deferLater``.

Compatibility surface (Twisted's names): ``Clock`` (``seconds``, ``callLater``,
``advance``, ``pump``, ``getDelayedCalls``), ``LoopingCall`` (``f``, ``a``, ``kw``,
``clock``, ``start``, ``stop``, ``reset``, ``running``, ``interval``, ``deferred``,
``withCount``), ``deferLater``.

``Clock`` orders its calls with the very ``TimerQueue`` the real reactor uses, so a
test that advances a ``Clock`` exercises the production ordering rules (same-time calls
in scheduling order, cancel, reset, delay).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

from logbot.reactor.defer import Deferred, maybeDeferred
from logbot.reactor.failure import Failure
from logbot.reactor.timers import DelayedCall, TimerQueue


class Clock:
    """A deterministic clock: time moves only when a test calls ``advance``."""

    def __init__(self, start: float = 0.0) -> None:
        self.rightNow = start
        self._timers = TimerQueue(self.seconds)

    def seconds(self) -> float:
        return self.rightNow

    def callLater(self, delay: float, f: Callable[..., Any], *args: Any, **kw: Any) -> DelayedCall:
        return self._timers.schedule(self.rightNow + delay, f, args, kw)

    def getDelayedCalls(self) -> list[DelayedCall]:
        """The active calls, earliest first."""
        return self._timers.active_calls()

    def advance(self, amount: float) -> None:
        """Move time forward by ``amount`` and run every call that is now due.

        Calls that a running call schedules for a time already reached run in the
        same ``advance``, as Twisted's Clock does.  If a call raises, the exception
        propagates and the calls not run yet stay scheduled.
        """
        self.rightNow += amount
        timers = self._timers
        while True:
            due = timers.pop_due(self.rightNow)
            if not due:
                return
            for index, call in enumerate(due):
                try:
                    timers.run(call)
                except BaseException:
                    timers.push_back(due[index + 1 :])
                    raise

    def pump(self, timings: Iterable[float]) -> None:
        """Advance by each amount in turn."""
        for amount in timings:
            self.advance(amount)


#: Two times closer than this fraction of the interval count as the same tick, so that
#: float rounding (0.1 + 0.1 + 0.1 != 0.3) neither skips a tick nor schedules a call
#: a few nanoseconds away.
_TICK_EPSILON = 1e-9


class LoopingCall:
    """Call ``f(*a, **kw)`` every ``interval`` seconds on ``clock``.

    Set ``clock`` (a reactor or a ``Clock``) before ``start``; our own code always
    does.  Calls follow a fixed grid (start time + n * interval): when a call ran
    late or a Deferred it returned fired late, the ticks missed meanwhile are skipped,
    not made up (``withCount`` tells the function how many ticks passed).  If ``f``
    returns a Deferred, the next call waits until it fires.  If ``f`` raises (or its
    Deferred fails) the loop stops and the Deferred from ``start`` errbacks with that
    failure; ``stop()`` fires it with this LoopingCall.
    """

    def __init__(self, f: Callable[..., Any], *a: Any, **kw: Any) -> None:
        self.f = f
        self.a = a
        self.kw = kw
        self.clock: Any = None
        self.running = False
        self.interval: float | None = None
        self.starttime: float | None = None
        self.call: DelayedCall | None = None
        self._deferred: Deferred[LoopingCall] | None = None
        self._runAtStart = True
        self._lastTick: int | None = None  # the grid tick of the last call (withCount)

    @property
    def deferred(self) -> Deferred[LoopingCall] | None:
        """The Deferred ``start`` returned, while the loop runs."""
        return self._deferred

    @classmethod
    def withCount(cls, countCallable: Callable[[int], Any]) -> LoopingCall:
        """A LoopingCall that calls ``countCallable(n)``, ``n`` the ticks since the last call.

        ``n`` is 1 when on time and more when ticks were skipped; with an interval of
        0, it is always 1.
        """

        def counted() -> Any:
            tick = lc._tickOf(lc.clock.seconds())
            last = lc._lastTick
            if last is None:
                last = -1 if lc._runAtStart else 0
            if lc.interval == 0:
                count = 1
            else:
                count = tick - last
                if count <= 0:
                    return None
            lc._lastTick = tick
            return countCallable(count)

        lc = cls(counted)
        return lc

    def _tickOf(self, when: float) -> int:
        """The index of the last grid tick at or before ``when``."""
        start, interval = self.starttime, self.interval
        assert start is not None, "not started"
        if not interval:
            return 0
        return math.floor((when - start) / interval + _TICK_EPSILON)

    def start(self, interval: float, now: bool = True) -> Deferred[LoopingCall]:
        """Start calling every ``interval`` seconds (the first call at once if ``now``).

        Returns a Deferred that fires with this LoopingCall when ``stop()`` is called,
        or fails with the failure that stopped the loop.
        """
        if self.running:
            raise RuntimeError("this LoopingCall is already running")
        if interval < 0:
            raise ValueError(f"interval must be >= 0, not {interval!r}")
        if self.clock is None:
            # Compatibility only: a ported Twisted program never sets ``clock`` and
            # expects the global reactor.  logbot's own code passes a clock always.
            self.clock = _defaultReactor()
        self.running = True
        deferred = self._deferred = Deferred()
        self.starttime = self.clock.seconds()
        self.interval = interval
        self._runAtStart = now
        self._lastTick = None
        if now:
            self()
        else:
            self._scheduleFrom(self.starttime)
        return deferred  # (``self._deferred`` is None already if the first call failed)

    def stop(self) -> None:
        """Stop the loop; the start Deferred fires now, or when a pending call ends."""
        if not self.running:
            raise RuntimeError("this LoopingCall is not running")
        self.running = False
        if self.call is not None:  # idle between calls (else: __call__'s callback fires it)
            self.call.cancel()
            self.call = None
            self._fireDeferred(self)

    def reset(self) -> None:
        """Restart the interval from now (no call now)."""
        if not self.running:
            raise RuntimeError("this LoopingCall is not running")
        if self.call is not None:
            self.call.cancel()
            self.call = None
            self.starttime = self.clock.seconds()
            self._lastTick = 0
            self._scheduleFrom(self.starttime)

    def __call__(self) -> None:
        self.call = None
        d = maybeDeferred(self.f, *self.a, **self.kw)
        d.addCallbacks(self._called, self._failed)

    def _called(self, _: Any) -> None:
        if self.running:
            self._scheduleFrom(self.clock.seconds())
        else:
            self._fireDeferred(self)

    def _failed(self, failure: Failure) -> None:
        self.running = False
        self._fireDeferred(failure)

    def _fireDeferred(self, result: Any) -> None:
        d, self._deferred = self._deferred, None
        if d is None:
            return
        if isinstance(result, Failure):
            d.errback(result)
        else:
            d.callback(result)

    def _scheduleFrom(self, when: float) -> None:
        """Schedule the next call at the first grid tick after ``when``."""
        start, interval = self.starttime, self.interval
        assert start is not None and interval is not None, "not started"
        ticks = (when - start) / interval if interval else 0.0
        if abs(ticks - round(ticks)) < _TICK_EPSILON:
            # On a tick (the usual case): exactly one interval on.  ``now + interval``
            # is also what a clock advanced by ``interval`` steps reaches, to the bit.
            delay = interval
        else:
            delay = start + (math.floor(ticks) + 1) * interval - when
        self.call = self.clock.callLater(delay, self)

    def __repr__(self) -> str:
        name = getattr(self.f, "__qualname__", repr(self.f))
        state = "running" if self.running else "stopped"
        return f"<LoopingCall {name} every {self.interval} {state}>"


def _defaultReactor() -> Any:
    try:
        from logbot.reactor import reactor
    except ImportError as e:
        raise RuntimeError(
            "LoopingCall.clock is not set and there is no default reactor; "
            "set lc.clock = reactor_or_clock before start()"
        ) from e
    return reactor


def deferLater(
    clock: Any, delay: float, callable: Callable[..., Any] | None = None, *args: Any, **kw: Any
) -> Deferred[Any]:
    """A Deferred that fires ``delay`` seconds from now with ``callable(*args, **kw)``.

    With no ``callable`` it fires with None.  Cancelling it cancels the timer and
    errbacks it with ``CancelledError``.
    """

    def cancel(_: Deferred[Any]) -> None:
        delayedCall.cancel()

    d: Deferred[Any] = Deferred(cancel)
    if callable is not None:
        d.addCallback(lambda _: callable(*args, **kw))
    delayedCall = clock.callLater(delay, d.callback, None)
    return d
