"""Clock, LoopingCall and deferLater, all on the fake clock."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from logbot.reactor.defer import CancelledError, Deferred, fail
from logbot.reactor.failure import Failure
from logbot.reactor.task import Clock, LoopingCall, deferLater


class Boom(Exception):
    pass


def outcome(d: Deferred[Any]) -> Any:
    box: list[Any] = []
    d.addBoth(box.append)
    assert box, f"{d!r} has not fired"
    return box[0]


# -- Clock --------------------------------------------------------------------------


def test_clock_starts_where_told_and_advances() -> None:
    clock = Clock(start=10)
    assert clock.seconds() == 10
    clock.advance(2.5)
    assert clock.seconds() == 12.5


def test_clock_pump_advances_step_by_step() -> None:
    clock = Clock()
    seen: list[float] = []
    clock.callLater(1, lambda: seen.append(clock.seconds()))
    clock.callLater(3, lambda: seen.append(clock.seconds()))
    clock.pump([0.5, 0.5, 0.5, 2])
    assert seen == [1.0, 3.5]


def test_clock_get_delayed_calls_lists_active_calls_earliest_first() -> None:
    clock = Clock()
    b = clock.callLater(2, lambda: None)
    a = clock.callLater(1, lambda: None)
    c = clock.callLater(3, lambda: None)
    c.cancel()
    assert clock.getDelayedCalls() == [a, b]


# -- LoopingCall --------------------------------------------------------------------


def make_loop(f: Any = None, *a: Any, **kw: Any) -> tuple[LoopingCall, Clock, list[float]]:
    clock = Clock()
    times: list[float] = []
    lc = LoopingCall(f or (lambda: times.append(clock.seconds())), *a, **kw)
    lc.clock = clock
    return lc, clock, times


def test_looping_call_runs_at_once_then_every_interval() -> None:
    lc, clock, times = make_loop()
    lc.start(2)
    assert lc.running and lc.interval == 2
    clock.pump([1, 1, 1, 1, 1, 1])
    assert times == [0, 2, 4, 6]


def test_looping_call_without_now_waits_one_interval() -> None:
    lc, clock, times = make_loop()
    lc.start(2, now=False)
    assert times == []
    clock.advance(2)
    assert times == [2]


def test_looping_call_passes_arguments() -> None:
    seen: list[Any] = []
    lc, _, _ = make_loop(lambda a, b=None: seen.append((a, b)), 1, b=2)
    lc.start(1)
    assert seen == [(1, 2)]


def test_stop_fires_the_start_deferred_with_the_looping_call() -> None:
    lc, clock, times = make_loop()
    d = lc.start(1)
    assert lc.deferred is d
    clock.advance(1)
    lc.stop()
    assert not lc.running
    assert outcome(d) is lc
    assert clock.getDelayedCalls() == []
    clock.advance(5)
    assert times == [0, 1]


def test_stop_from_inside_the_function() -> None:
    clock = Clock()
    count = 0

    def f() -> None:
        nonlocal count
        count += 1
        if count == 3:
            lc.stop()

    lc = LoopingCall(f)
    lc.clock = clock
    d = lc.start(1)
    clock.pump([1] * 10)
    assert count == 3 and outcome(d) is lc


def test_start_twice_and_stop_when_stopped_are_errors() -> None:
    lc, _, _ = make_loop()
    with pytest.raises(RuntimeError):
        lc.stop()
    with pytest.raises(RuntimeError):
        lc.reset()
    lc.start(1)
    with pytest.raises(RuntimeError):
        lc.start(1)


def test_negative_interval_is_refused() -> None:
    lc, _, _ = make_loop()
    with pytest.raises(ValueError):
        lc.start(-1)
    assert not lc.running


def test_missed_intervals_are_skipped() -> None:
    lc, clock, times = make_loop()
    lc.start(1)
    clock.advance(3.5)  # ticks 1, 2, 3 missed: one call, then back on the grid
    assert times == [0, 3.5]
    clock.advance(0.5)
    assert times == [0, 3.5, 4]


def test_with_count_reports_skipped_ticks() -> None:
    clock = Clock()
    counts: list[int] = []
    lc = LoopingCall.withCount(counts.append)
    lc.clock = clock
    lc.start(1)
    clock.advance(1)
    clock.advance(3)
    clock.advance(1)
    assert counts == [1, 1, 3, 1]


def test_with_count_without_now() -> None:
    clock = Clock()
    counts: list[int] = []
    lc = LoopingCall.withCount(counts.append)
    lc.clock = clock
    lc.start(2, now=False)
    clock.advance(2)
    clock.advance(4.5)
    assert counts == [1, 2]


def test_with_count_and_zero_interval_counts_one() -> None:
    clock = Clock()
    counts: list[int] = []

    def f(n: int) -> None:
        counts.append(n)
        if len(counts) == 3:
            lc.stop()

    lc = LoopingCall.withCount(f)
    lc.clock = clock
    lc.start(0)
    clock.advance(0)
    clock.advance(0)
    assert counts == [1, 1, 1]


def test_float_intervals_stay_on_the_grid() -> None:
    lc, clock, times = make_loop()
    lc.start(0.1)
    for _ in range(30):
        clock.advance(0.1)
    assert len(times) == 31
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert all(abs(g - 0.1) < 1e-9 for g in gaps)


def test_deferred_result_delays_the_next_call() -> None:
    clock = Clock()
    times: list[float] = []
    pending: list[Deferred[None]] = []

    def f() -> Deferred[None]:
        times.append(clock.seconds())
        d: Deferred[None] = Deferred()
        pending.append(d)
        return d

    lc = LoopingCall(f)
    lc.clock = clock
    lc.start(1)
    clock.advance(5)
    assert times == [0]  # still waiting on the first Deferred
    pending[0].callback(None)  # at t=5: next call at the next tick, 6
    clock.advance(0.5)
    assert times == [0]
    clock.advance(0.5)
    assert times == [0, 6]


def test_stop_while_waiting_on_a_deferred_fires_when_it_does() -> None:
    clock = Clock()
    pending: Deferred[None] = Deferred()
    lc = LoopingCall(lambda: pending)
    lc.clock = clock
    d = lc.start(1)
    lc.stop()
    assert not d.called
    pending.callback(None)
    assert outcome(d) is lc
    assert clock.getDelayedCalls() == []


def test_exception_stops_the_loop_and_fails_the_start_deferred() -> None:
    clock = Clock()
    calls = 0

    def f() -> None:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise Boom("second call")

    lc = LoopingCall(f)
    lc.clock = clock
    d = lc.start(1)
    clock.advance(1)
    assert not lc.running
    result = outcome(d)
    assert isinstance(result, Failure) and result.check(Boom)
    clock.advance(10)
    assert calls == 2


def test_failed_deferred_stops_the_loop() -> None:
    lc, _, _ = make_loop(lambda: fail(Boom()))
    d = lc.start(1)
    assert not lc.running
    assert outcome(d).check(Boom)


def test_coroutine_function_is_awaited() -> None:
    clock = Clock()
    times: list[float] = []

    async def f() -> None:
        await deferLater(clock, 0.5)
        times.append(clock.seconds())

    lc = LoopingCall(f)
    lc.clock = clock
    lc.start(2)
    clock.pump([0.5, 1.5, 0.5])
    assert times == [0.5, 2.5]


def test_reset_restarts_the_interval_from_now() -> None:
    lc, clock, times = make_loop()
    lc.start(2)
    clock.advance(1.5)
    lc.reset()
    clock.advance(1.5)
    assert times == [0]
    clock.advance(0.5)
    assert times == [0, 3.5]


def test_zero_interval_calls_on_every_pass() -> None:
    clock = Clock()
    count = 0

    def f() -> None:
        nonlocal count
        count += 1
        if count == 5:
            lc.stop()

    lc = LoopingCall(f)
    lc.clock = clock
    d = lc.start(0)
    clock.advance(0)
    assert count == 5 and outcome(d) is lc


def test_restart_after_stop() -> None:
    lc, clock, times = make_loop()
    lc.start(1)
    lc.stop()
    clock.advance(10)
    lc.start(1)
    clock.advance(1)
    assert times == [0, 10, 11]


def test_repr_mentions_function_and_state() -> None:
    lc, _, _ = make_loop(test_repr_mentions_function_and_state)
    assert "test_repr_mentions_function_and_state" in repr(lc) and "stopped" in repr(lc)


@settings(max_examples=100, deadline=None)
@given(
    interval=st.sampled_from([0.1, 0.25, 1, 3, 7.5]),
    steps=st.lists(st.floats(min_value=0, max_value=20, allow_nan=False), max_size=30),
)
def test_next_call_is_on_the_grid_and_counts_add_up(interval: float, steps: list[float]) -> None:
    clock = Clock()
    counts: list[int] = []
    lc = LoopingCall.withCount(counts.append)
    lc.clock = clock
    lc.start(interval)
    for step in steps:
        clock.advance(step)
        assert lc.call is not None
        due = lc.call.getTime()
        assert clock.seconds() < due <= clock.seconds() + interval + 1e-9
        ticks = due / interval
        assert abs(ticks - round(ticks)) < 1e-6
    # The counts cover every tick passed, once.
    assert sum(counts) == int(clock.seconds() / interval + 1e-9) + 1


# -- deferLater ---------------------------------------------------------------------


def test_defer_later_fires_after_the_delay_with_the_callable_result() -> None:
    clock = Clock()
    d = deferLater(clock, 3, lambda a, b: a + b, 1, b=2)
    clock.advance(2.9)
    assert not d.called
    clock.advance(0.1)
    assert d.result == 3


def test_defer_later_without_callable_fires_with_none() -> None:
    clock = Clock()
    d = deferLater(clock, 1)
    clock.advance(1)
    assert d.called and d.result is None


def test_defer_later_callable_that_raises_fails_the_deferred() -> None:
    clock = Clock()

    def bad() -> None:
        raise Boom()

    d = deferLater(clock, 1, bad)
    clock.advance(1)
    assert outcome(d).check(Boom)


def test_defer_later_cancel_cancels_the_timer() -> None:
    clock = Clock()
    ran: list[int] = []
    d = deferLater(clock, 1, ran.append, 1)
    d.cancel()
    assert outcome(d).check(CancelledError)
    assert clock.getDelayedCalls() == []
    clock.advance(2)
    assert ran == []


def test_looping_call_without_clock_falls_back_to_the_default_reactor(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Ported Twisted programs never set ``clock``; our own code always does."""
    import logbot.reactor

    clock = Clock()
    monkeypatch.setattr(logbot.reactor, "reactor", clock, raising=False)
    times: list[float] = []
    lc = LoopingCall(lambda: times.append(clock.seconds()))
    assert lc.clock is None
    lc.start(1)
    assert lc.clock is clock
    clock.advance(1)
    assert times == [0, 1]
