"""Timers: ``DelayedCall`` and the heap that orders them.

Why it is built this way (measured in bench/, "Timers"):

* The heap holds plain floats, the due *times*; the calls due at each time sit in a
  dict, ``_buckets[time]``, in scheduling order (one call, or a list when several share
  a time).  A float heap compares in C without building or comparing tuples, so a pop
  costs about a third of a ``(time, seq, call)`` tuple's, and calls due at the same
  time still run in the order they were scheduled: they are one heap entry.
* ``cancel()`` does not search the heap (O(n)): it takes the call out of its bucket
  (a dict operation; a list ``remove`` only when several calls share that exact time).
  A time whose bucket is gone stays in the heap as a stale float, skipped when it
  reaches the top.  So the heap holds ``len(_buckets)`` live entries plus the stale
  ones, and when stale ones are the majority the heap is rebuilt from the dict's keys
  with one ``heapify``: O(live) in C, no call object is touched, about 2 ms for 50,000
  live timers.  100,000 scheduled-then-cancelled timers leave neither memory nor a
  pause behind.
* ``reset()``/``delay()`` move the call from one bucket to another the same way.
* The same queue serves the real reactor and ``task.Clock``: only the ``seconds``
  function differs, so tests with a fake clock exercise the production ordering.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from typing import Any

from logbot.reactor import error

#: Rebuild when the heap holds more than this many entries and most are stale.
REBUILD_MIN = 256

# DelayedCall._state: in a bucket; taken off by ``pop_due`` and not yet run; finished
# (run or cancelled).
_QUEUED, _POPPED, _DONE = 0, 1, 2


class DelayedCall:
    """A call scheduled by ``callLater``; returned so it can be cancelled or moved.

    Compatibility surface (Twisted's names): ``cancel``, ``reset``, ``delay``,
    ``active``, ``getTime``, and the attributes ``func``, ``args``, ``kw``,
    ``cancelled``, ``called``.
    """

    __slots__ = ("time", "func", "args", "kw", "cancelled", "called", "_state", "_queue")

    def __init__(
        self,
        queue: TimerQueue,
        time: float,
        func: Callable[..., Any],
        args: tuple[Any, ...],
        kw: dict[str, Any],
    ) -> None:
        self._queue = queue
        self.time = time
        # None once the call has run or been cancelled (what it held is freed at once).
        self.func: Callable[..., Any] | None = func
        self.args: tuple[Any, ...] | None = args
        self.kw: dict[str, Any] | None = kw
        self.cancelled = False
        self.called = False
        self._state = _QUEUED

    def getTime(self) -> float:
        """The time (on the owner's clock) at which this call will run."""
        return self.time

    def active(self) -> bool:
        """True until the call has run or been cancelled."""
        return not (self.cancelled or self.called)

    def _check_active(self) -> None:
        if self.cancelled:
            raise error.AlreadyCancelled(self)
        if self.called:
            raise error.AlreadyCalled(self)

    def cancel(self) -> None:
        """Unschedule the call; raises ``AlreadyCalled``/``AlreadyCancelled`` if not active."""
        if self.cancelled or self.called:
            self._check_active()  # raises
        self.cancelled = True
        self.func = self.args = self.kw = None  # free what the call held at once
        if self._state == _QUEUED:
            self._queue._dropped(self)
        self._state = _DONE

    def reset(self, secondsFromNow: float) -> None:
        """Move the call to ``secondsFromNow`` from the owner's current time."""
        self._check_active()
        self._queue._move(self, self._queue.seconds() + secondsFromNow)

    def delay(self, secondsLater: float) -> None:
        """Move the call ``secondsLater`` further away (negative brings it closer)."""
        self._check_active()
        self._queue._move(self, self.time + secondsLater)

    def __repr__(self) -> str:
        state = "cancelled" if self.cancelled else "called" if self.called else "active"
        name = getattr(self.func, "__qualname__", repr(self.func))
        return f"<DelayedCall at {self.time:.3f} {state} {name}>"


class TimerQueue:
    """Due times in a heap, calls in per-time buckets; owned by a reactor or a ``Clock``."""

    __slots__ = ("seconds", "_heap", "_buckets", "_live")

    def __init__(self, seconds: Callable[[], float]) -> None:
        self.seconds = seconds
        self._heap: list[float] = []
        self._buckets: dict[float, Any] = {}  # time -> DelayedCall | list[DelayedCall]
        self._live = 0

    def __len__(self) -> int:
        """The number of active calls."""
        return self._live

    def schedule(
        self, when: float, func: Callable[..., Any], args: tuple[Any, ...], kw: dict[str, Any]
    ) -> DelayedCall:
        if when != when:  # NaN would never be due, nor equal to itself as a dict key
            raise ValueError("a timer's delay must be a number, not NaN")
        call = DelayedCall(self, when, func, args, kw)
        self._insert(call, when)
        self._live += 1
        return call

    def _insert(self, call: DelayedCall, when: float) -> None:
        buckets = self._buckets
        bucket = buckets.get(when)
        if bucket is None:
            buckets[when] = call
            heapq.heappush(self._heap, when)
        elif bucket.__class__ is list:
            bucket.append(call)
        else:
            buckets[when] = [bucket, call]

    def _remove(self, call: DelayedCall) -> None:
        """Take a queued call out of its bucket (its time may stay as a stale float)."""
        buckets = self._buckets
        when = call.time
        bucket = buckets[when]
        if bucket is call:
            del buckets[when]
        else:
            bucket.remove(call)
            if not bucket:
                del buckets[when]

    def _move(self, call: DelayedCall, when: float) -> None:
        if call._state == _QUEUED:
            self._remove(call)
        else:  # due but not run yet: back into the queue
            self._live += 1
        call.time = when
        call._state = _QUEUED
        self._insert(call, when)
        self._maybe_rebuild()

    def _dropped(self, call: DelayedCall) -> None:
        self._remove(call)
        self._live -= 1
        self._maybe_rebuild()

    def _maybe_rebuild(self) -> None:
        size = len(self._heap)
        if size > REBUILD_MIN and size > 2 * len(self._buckets):
            self._heap = heap = list(self._buckets)
            heapq.heapify(heap)

    def next_time(self) -> float | None:
        """When the earliest active call is due, or None when there is none."""
        heap = self._heap
        buckets = self._buckets
        while heap:
            when = heap[0]
            if when in buckets:
                return when
            heapq.heappop(heap)
        return None

    def pop_due(self, now: float) -> list[DelayedCall]:
        """Remove and return the calls due at ``now``, earliest first (same time: FIFO).

        The caller runs them with ``run``, which skips any that an earlier one
        cancelled or moved.
        """
        heap = self._heap
        pop_bucket = self._buckets.pop
        pop = heapq.heappop
        due: list[DelayedCall] = []
        while heap and heap[0] <= now:
            bucket = pop_bucket(pop(heap), None)
            if bucket is None:
                continue  # stale: every call at that time was cancelled or moved
            if bucket.__class__ is list:
                for call in bucket:
                    call._state = _POPPED
                due.extend(bucket)
            else:
                bucket._state = _POPPED
                due.append(bucket)
        self._live -= len(due)
        return due

    def push_back(self, calls: list[DelayedCall]) -> None:
        """Put calls popped by ``pop_due`` but not run back in the queue, first in line.

        For a caller whose run of an earlier call raised (``Clock.advance``), so the
        rest are not lost: they stay active and run on the next pass, in order.
        """
        buckets = self._buckets
        for call in reversed(calls):
            if call._state != _POPPED:
                continue
            call._state = _QUEUED
            self._live += 1
            bucket = buckets.get(call.time)
            if bucket is None:
                self._insert(call, call.time)
            elif bucket.__class__ is list:
                bucket.insert(0, call)
            else:
                buckets[call.time] = [call, bucket]

    @staticmethod
    def run(call: DelayedCall) -> None:
        """Run one call popped by ``pop_due`` unless it was cancelled or moved meanwhile."""
        if call._state != _POPPED:
            return
        call._state = _DONE
        call.called = True
        func, args, kw = call.func, call.args, call.kw
        call.func = call.args = call.kw = None
        # A popped call was not cancelled (cancel() leaves it _DONE), so all three are
        # still set; narrowing them here would cost a call per timer on the hot path.
        func(*args, **kw)  # type: ignore[misc, arg-type]  # not None: see above

    def active_calls(self) -> list[DelayedCall]:
        """The active calls, in the order they will run (for ``Clock.getDelayedCalls``)."""
        buckets = self._buckets
        calls: list[DelayedCall] = []
        for when in sorted(buckets):
            bucket = buckets[when]
            if bucket.__class__ is list:
                calls.extend(bucket)
            else:
                calls.append(bucket)
        return calls
