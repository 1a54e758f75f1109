"""Timers: ``DelayedCall`` and the heap that orders them.

Why it is built this way:

* The heap holds plain tuples ``(time, seq, call)``.  Tuples compare in C, which is
  several times faster than a ``__lt__`` written in Python; ``seq`` is a global counter,
  so calls due at the same time run in the order they were scheduled, and the call object
  itself is never compared.
* ``cancel()`` does not search the heap (that is O(n)).  The entry stays, the call is
  marked, and the entry is dropped when it reaches the top.  ``reset()``/``delay()`` push a
  fresh entry and leave the old one stale the same way.  When stale entries outnumber live
  ones (and the heap is not tiny) the heap is rebuilt with one list comprehension and one
  ``heapify``: O(n) in C, a few milliseconds for 100,000 entries, so 100,000
  scheduled-then-cancelled timers cost neither memory nor a pause.
* The same queue serves the real reactor and ``task.Clock``: only the ``seconds``
  function differs, so tests with a fake clock exercise the production ordering.
"""

from __future__ import annotations

import heapq
import itertools
from typing import Any, Callable

from logbot.reactor import error

#: Rebuild when the heap holds more than this many entries and over half are stale.
REBUILD_MIN = 256

_seq = itertools.count()

#: ``DelayedCall._seq`` of a call taken off the heap by ``pop_due`` and not yet run.
_POPPED = -1


class DelayedCall:
    """A call scheduled by ``callLater``; returned so it can be cancelled or moved.

    Compatibility surface (Twisted's names): ``cancel``, ``reset``, ``delay``,
    ``active``, ``getTime``, and the attributes ``func``, ``args``, ``kw``,
    ``cancelled``, ``called``.
    """

    __slots__ = ("time", "func", "args", "kw", "cancelled", "called", "_seq", "_queue")

    def __init__(
        self, queue: TimerQueue, time: float, func: Callable[..., Any], args: tuple, kw: dict
    ) -> None:
        self._queue = queue
        self.time = time
        self.func = func
        self.args = args
        self.kw = kw
        self.cancelled = False
        self.called = False
        self._seq = 0

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
        self._check_active()
        self.cancelled = True
        self.func = self.args = self.kw = None  # free what the call held at once
        if self._seq != _POPPED:
            self._queue._dropped()

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
    """A heap of DelayedCalls with lazy removal; owned by a reactor or a ``Clock``."""

    __slots__ = ("seconds", "_heap", "_stale", "_live")

    def __init__(self, seconds: Callable[[], float]) -> None:
        self.seconds = seconds
        self._heap: list[tuple[float, int, DelayedCall]] = []
        self._stale = 0  # entries in the heap that no longer stand for a live call
        self._live = 0

    def __len__(self) -> int:
        """The number of active calls."""
        return self._live

    def schedule(self, when: float, func: Callable[..., Any], args: tuple, kw: dict) -> DelayedCall:
        call = DelayedCall(self, when, func, args, kw)
        call._seq = seq = next(_seq)
        heapq.heappush(self._heap, (when, seq, call))
        self._live += 1
        return call

    def _move(self, call: DelayedCall, when: float) -> None:
        if call._seq == _POPPED:  # due but not run yet: back into the heap
            self._live += 1
        else:
            self._stale += 1
        call.time = when
        call._seq = seq = next(_seq)
        heapq.heappush(self._heap, (when, seq, call))
        self._maybe_rebuild()

    def _dropped(self) -> None:
        self._live -= 1
        self._stale += 1
        self._maybe_rebuild()

    def _maybe_rebuild(self) -> None:
        heap = self._heap
        if self._stale > REBUILD_MIN and self._stale * 2 > len(heap):
            heap[:] = [e for e in heap if e[2]._seq == e[1] and not e[2].cancelled]
            heapq.heapify(heap)
            self._stale = 0

    def _trim(self) -> None:
        """Drop stale entries from the top so ``_heap[0]`` is live (or the heap empty)."""
        heap = self._heap
        while heap:
            when, seq, call = heap[0]
            if call._seq == seq and not call.cancelled:
                return
            heapq.heappop(heap)
            self._stale -= 1

    def next_time(self) -> float | None:
        """When the earliest active call is due, or None when there is none."""
        self._trim()
        return self._heap[0][0] if self._heap else None

    def pop_due(self, now: float) -> list[DelayedCall]:
        """Remove and return the calls due at ``now``, earliest first (same time: FIFO).

        The caller runs them and must skip any that an earlier one cancelled.
        """
        heap = self._heap
        due = []
        pop = heapq.heappop
        while heap:
            when, seq, call = heap[0]
            if call._seq != seq or call.cancelled:
                pop(heap)
                self._stale -= 1
                continue
            if when > now:
                break
            pop(heap)
            call._seq = _POPPED
            due.append(call)
        self._live -= len(due)
        return due

    def push_back(self, calls: list[DelayedCall]) -> None:
        """Put calls popped by ``pop_due`` but not run back in the heap, in order.

        For a caller whose run of an earlier call raised (``Clock.advance``), so the
        rest are not lost: they stay active and run on the next pass.
        """
        for call in calls:
            if call._seq == _POPPED and not call.cancelled:
                self._move(call, call.time)

    @staticmethod
    def run(call: DelayedCall) -> None:
        """Run one call popped by ``pop_due`` unless it was cancelled meanwhile."""
        if call.cancelled or call._seq != _POPPED:  # cancelled or moved meanwhile
            return
        call.called = True
        func, args, kw = call.func, call.args, call.kw
        call.func = call.args = call.kw = None
        func(*args, **kw)

    def active_calls(self) -> list[DelayedCall]:
        """The active calls, in the order they will run (for ``Clock.getDelayedCalls``)."""
        return [e[2] for e in sorted(self._heap) if e[2]._seq == e[1] and not e[2].cancelled]
