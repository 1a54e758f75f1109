"""The TimerQueue and DelayedCall, driven through the fake ``Clock`` (no real time)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from logbot.reactor import error
from logbot.reactor.task import Clock
from logbot.reactor.timers import REBUILD_MIN, TimerQueue


def test_calls_run_in_time_order() -> None:
    clock = Clock()
    ran: list[str] = []
    clock.callLater(3, ran.append, "c")
    clock.callLater(1, ran.append, "a")
    clock.callLater(2, ran.append, "b")
    clock.advance(10)
    assert ran == ["a", "b", "c"]


def test_same_time_calls_run_in_scheduling_order() -> None:
    clock = Clock()
    ran: list[int] = []
    for i in range(50):
        clock.callLater(1, ran.append, i)
    clock.advance(1)
    assert ran == list(range(50))


def test_call_not_due_does_not_run() -> None:
    clock = Clock()
    ran: list[int] = []
    call = clock.callLater(5, ran.append, 1)
    clock.advance(4.999)
    assert ran == [] and call.active()
    clock.advance(0.001)
    assert ran == [1]
    assert not call.active() and call.called


def test_keyword_arguments_are_passed() -> None:
    clock = Clock()
    seen: dict = {}
    clock.callLater(1, seen.update, a=1, b=2)
    clock.advance(1)
    assert seen == {"a": 1, "b": 2}


def test_get_time_and_delayed_calls() -> None:
    clock = Clock(start=100.0)
    late = clock.callLater(7, lambda: None)
    early = clock.callLater(2, lambda: None)
    assert late.getTime() == 107.0
    assert clock.getDelayedCalls() == [early, late]


def test_cancel_prevents_the_call() -> None:
    clock = Clock()
    ran: list[int] = []
    call = clock.callLater(1, ran.append, 1)
    call.cancel()
    assert not call.active() and call.cancelled
    clock.advance(2)
    assert ran == []
    assert clock.getDelayedCalls() == []
    assert len(clock._timers) == 0


def test_cancel_twice_raises_already_cancelled() -> None:
    clock = Clock()
    call = clock.callLater(1, lambda: None)
    call.cancel()
    with pytest.raises(error.AlreadyCancelled):
        call.cancel()
    with pytest.raises(error.AlreadyCancelled):
        call.reset(3)
    with pytest.raises(error.AlreadyCancelled):
        call.delay(3)


def test_cancel_or_move_after_run_raises_already_called() -> None:
    clock = Clock()
    call = clock.callLater(1, lambda: None)
    clock.advance(1)
    for action in (call.cancel, lambda: call.reset(1), lambda: call.delay(1)):
        with pytest.raises(error.AlreadyCalled):
            action()


def test_cancel_from_inside_its_own_run_raises_already_called() -> None:
    clock = Clock()
    raised: list[type] = []

    def selfish() -> None:
        try:
            call.cancel()
        except error.AlreadyCalled as e:
            raised.append(type(e))

    call = clock.callLater(1, selfish)
    clock.advance(1)
    assert raised == [error.AlreadyCalled]


def test_reset_moves_the_call_from_now() -> None:
    clock = Clock()
    ran: list[float] = []
    call = clock.callLater(5, lambda: ran.append(clock.seconds()))
    clock.advance(3)
    call.reset(5)  # now 3 -> due at 8
    assert call.getTime() == 8
    clock.advance(4)
    assert ran == []
    clock.advance(1)
    assert ran == [8]


def test_reset_earlier_runs_sooner() -> None:
    clock = Clock()
    ran: list[str] = []
    call = clock.callLater(10, ran.append, "moved")
    clock.callLater(2, ran.append, "fixed")
    call.reset(1)
    clock.advance(5)
    assert ran == ["moved", "fixed"]


def test_delay_adds_to_the_scheduled_time() -> None:
    clock = Clock()
    ran: list[str] = []
    call = clock.callLater(2, ran.append, "x")
    call.delay(3)
    assert call.getTime() == 5
    call.delay(-1)
    assert call.getTime() == 4
    clock.advance(3.9)
    assert ran == []
    clock.advance(0.1)
    assert ran == ["x"]


def test_moved_call_runs_after_others_scheduled_earlier_for_that_time() -> None:
    clock = Clock()
    ran: list[str] = []
    clock.callLater(5, ran.append, "first")
    moved = clock.callLater(1, ran.append, "moved")
    moved.reset(5)  # scheduled for 5 after "first": runs after it
    clock.advance(5)
    assert ran == ["first", "moved"]


def test_moving_a_call_many_times_keeps_one_live_entry() -> None:
    clock = Clock()
    ran: list[int] = []
    call = clock.callLater(1, ran.append, 1)
    for i in range(1000):
        call.reset(1 + i % 7)
    assert len(clock._timers) == 1
    assert len(clock._timers._heap) < 1000  # stale entries were rebuilt away
    clock.advance(100)
    assert ran == [1]


def test_reset_of_a_due_call_not_yet_run_reschedules_it() -> None:
    """An earlier call in the same batch moves a later one that is already due."""
    clock = Clock()
    ran: list[tuple[str, float]] = []

    def mover() -> None:
        ran.append(("mover", clock.seconds()))
        victim.reset(10)

    clock.callLater(1, mover)
    victim = clock.callLater(1, lambda: ran.append(("victim", clock.seconds())))
    clock.advance(1)
    assert ran == [("mover", 1)]
    assert victim.active() and victim.getTime() == 11
    assert clock.getDelayedCalls() == [victim]
    clock.advance(10)
    assert ran == [("mover", 1), ("victim", 11)]


def test_delay_of_a_due_call_not_yet_run_reschedules_it() -> None:
    clock = Clock()
    ran: list[str] = []
    clock.callLater(1, lambda: victim.delay(2))
    victim = clock.callLater(1, ran.append, "victim")
    clock.advance(1)
    assert ran == [] and victim.getTime() == 3
    clock.advance(2)
    assert ran == ["victim"]


def test_cancel_from_inside_a_running_call_of_a_later_due_call() -> None:
    clock = Clock()
    ran: list[str] = []

    def killer() -> None:
        ran.append("killer")
        victim.cancel()

    clock.callLater(1, killer)
    victim = clock.callLater(2, ran.append, "victim")  # due in the same advance
    clock.callLater(3, ran.append, "survivor")
    clock.advance(5)
    assert ran == ["killer", "survivor"]
    assert victim.cancelled and not victim.called
    assert len(clock._timers) == 0


def test_cancel_of_a_due_call_in_the_same_batch() -> None:
    clock = Clock()
    ran: list[str] = []
    clock.callLater(1, lambda: victim.cancel())
    victim = clock.callLater(1, ran.append, "victim")
    clock.advance(1)
    assert ran == []
    assert len(clock._timers) == 0


def test_call_scheduled_by_a_call_for_a_reached_time_runs_in_the_same_advance() -> None:
    clock = Clock()
    ran: list[float] = []
    clock.callLater(1, lambda: clock.callLater(0, lambda: ran.append(clock.seconds())))
    clock.advance(5)
    assert ran == [5]


def test_rebuild_after_mass_cancel_shrinks_the_heap() -> None:
    clock = Clock()
    calls = [clock.callLater(i / 1000, lambda: None) for i in range(100_000)]
    timers = clock._timers
    assert len(timers._heap) == 100_000
    for call in calls:
        call.cancel()
    assert len(timers) == 0
    assert len(timers._heap) <= 2 * REBUILD_MIN + 2
    assert timers.next_time() is None
    assert timers._heap == []


def test_rebuild_keeps_the_live_calls_in_order() -> None:
    clock = Clock()
    ran: list[int] = []
    calls = [clock.callLater(i, ran.append, i) for i in range(2000)]
    for call in calls:
        if call.getTime() % 10:
            call.cancel()
    assert len(clock._timers._heap) < 2000
    clock.advance(3000)
    assert ran == list(range(0, 2000, 10))


def test_next_time_skips_cancelled_and_moved_entries() -> None:
    queue = TimerQueue(lambda: 0.0)
    first = queue.schedule(1, lambda: None, (), {})
    second = queue.schedule(2, lambda: None, (), {})
    assert queue.next_time() == 1
    first.cancel()
    assert queue.next_time() == 2
    second.reset(7)
    assert queue.next_time() == 7
    second.cancel()
    assert queue.next_time() is None
    assert len(queue) == 0


def test_an_exception_in_a_call_keeps_the_rest_scheduled() -> None:
    clock = Clock()
    ran: list[str] = []

    def boom() -> None:
        raise RuntimeError("boom")

    clock.callLater(1, boom)
    rest = clock.callLater(1, ran.append, "rest")
    with pytest.raises(RuntimeError):
        clock.advance(1)
    assert rest.active()
    clock.advance(0)
    assert ran == ["rest"]


def test_repr_names_state_and_function() -> None:
    clock = Clock()
    call = clock.callLater(1, test_repr_names_state_and_function)
    assert "active" in repr(call) and "test_repr_names_state_and_function" in repr(call)
    call.cancel()
    assert "cancelled" in repr(call)


# A random schedule: (delay, action) where action may cancel or move the call.
_ops = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=20),
        st.sampled_from(["keep", "cancel", "reset", "delay"]),
        st.integers(min_value=0, max_value=20),
    ),
    max_size=60,
)


@settings(max_examples=200, deadline=None)
@given(ops=_ops, steps=st.lists(st.integers(min_value=0, max_value=8), min_size=1, max_size=8))
def test_random_schedules_run_in_time_then_scheduling_order(
    ops: list[tuple[int, str, int]], steps: list[int]
) -> None:
    clock = Clock()
    ran: list[int] = []
    expected: list[tuple[float, int, int]] = []  # (time, order of the last (re)schedule, id)
    order = 0
    calls = []
    for ident, (delay, _, _) in enumerate(ops):
        calls.append(clock.callLater(delay, ran.append, ident))
    for ident, ((delay, action, amount), call) in enumerate(zip(ops, calls, strict=True)):
        when, when_order = float(delay), ident
        if action == "cancel":
            call.cancel()
            continue
        if action == "reset":
            call.reset(amount)
            when, when_order = float(amount), len(ops) + order
            order += 1
        elif action == "delay":
            call.delay(amount)
            when, when_order = float(delay + amount), len(ops) + order
            order += 1
        expected.append((when, when_order, ident))
    for step in steps:
        clock.advance(step)
    now = clock.seconds()
    assert ran == [ident for when, _, ident in sorted(expected) if when <= now]
    assert len(clock._timers) == sum(1 for when, _, _ in expected if when > now)
