"""Deferred, DeferredList, gatherResults, maybeDeferred and coroutines (fake clock only)."""

from __future__ import annotations

import builtins
import contextlib
import gc
import itertools
import logging
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from logbot.reactor import error
from logbot.reactor.defer import (
    AlreadyCalledError,
    CancelledError,
    Deferred,
    DeferredList,
    FirstError,
    NotACoroutineError,
    TimeoutError,
    ensureDeferred,
    fail,
    gatherResults,
    maybeDeferred,
    succeed,
)
from logbot.reactor.failure import Failure, NoCurrentExceptionError
from logbot.reactor.task import Clock

LOGGER = "logbot.reactor.defer"


def outcome(d: Deferred[Any]) -> Any:
    """The current result of ``d``, consuming a failure so it is not logged."""
    assert d.called, f"{d!r} has not fired"
    box: list[Any] = []
    d.addBoth(box.append)
    return box[0]


def failure_of(d: Deferred[Any], *types: type[BaseException]) -> Failure:
    result = outcome(d)
    assert isinstance(result, Failure), f"expected a failure, got {result!r}"
    if types:
        assert result.check(*types), result
    return result


class Boom(Exception):
    pass


# -- firing and the callback chain --------------------------------------------------


def test_callback_runs_callbacks_in_order_passing_results() -> None:
    d: Deferred[int] = Deferred()
    d.addCallback(lambda x: x + 1).addCallback(lambda x: x * 10)
    assert not d.called
    d.callback(1)
    assert d.called and d.result == 20


def test_callback_arguments_and_keywords() -> None:
    seen: list[Any] = []
    d: Deferred[str] = Deferred()
    d.addCallback(lambda r, a, b=None: seen.append((r, a, b)), "A", b="B")
    d.addCallbacks(
        lambda r, x, y=0: seen.append((r, x, y)),
        lambda f: None,
        callbackArgs=("X",),
        callbackKeywords={"y": 9},
    )
    d.callback("r")
    assert seen == [("r", "A", "B"), (None, "X", 9)]


def test_errback_with_exception_skips_callbacks_until_an_errback() -> None:
    seen: list[Any] = []
    d: Deferred[Any] = Deferred()
    d.addCallback(lambda _: seen.append("callback"))
    d.addErrback(lambda f: seen.append(f.value) or "recovered")
    d.addCallback(lambda r: seen.append(r))
    exc = Boom("x")
    d.errback(exc)
    assert seen == [exc, "recovered"]
    assert seen[0] is exc


def test_errback_value_becomes_the_next_callback_result() -> None:
    d: Deferred[Any] = Deferred()
    d.addErrback(lambda f: "recovered")
    d.addCallback(lambda r: r.upper())
    d.errback(Boom())
    assert d.result == "RECOVERED"


def test_errback_accepts_a_failure() -> None:
    f = Failure(Boom("given"))
    d: Deferred[Any] = Deferred()
    d.errback(f)
    assert failure_of(d) is f


def test_errback_without_argument_uses_the_exception_being_handled() -> None:
    d: Deferred[Any] = Deferred()
    try:
        raise Boom("current")
    except Boom:
        d.errback()
    assert str(failure_of(d, Boom).value) == "current"


def test_errback_without_argument_outside_except_raises() -> None:
    with pytest.raises(NoCurrentExceptionError):
        Deferred().errback()


def test_callback_that_raises_becomes_a_failure() -> None:
    d: Deferred[Any] = Deferred()

    def bad(_: Any) -> None:
        raise Boom("in callback")

    d.addCallback(bad)
    d.callback(None)
    f = failure_of(d, Boom)
    assert "in callback" in f.getTraceback()


def test_add_both_sees_results_and_failures() -> None:
    seen: list[Any] = []
    ok: Deferred[int] = Deferred()
    ok.addBoth(seen.append)
    ok.callback(3)
    bad: Deferred[int] = Deferred()
    bad.addBoth(seen.append)
    bad.errback(Boom())
    assert seen[0] == 3 and isinstance(seen[1], Failure)


def test_second_fire_raises_already_called() -> None:
    d: Deferred[int] = Deferred()
    d.callback(1)
    with pytest.raises(AlreadyCalledError):
        d.callback(2)
    with pytest.raises(AlreadyCalledError):
        d.errback(Boom())


def test_callback_with_a_deferred_is_refused() -> None:
    with pytest.raises(TypeError):
        Deferred().callback(Deferred())


def test_non_callable_callback_is_refused() -> None:
    with pytest.raises(TypeError):
        Deferred().addCallback(42)  # type: ignore[arg-type]


def test_fired_deferred_runs_new_callbacks_at_once() -> None:
    d = succeed(5)
    seen: list[int] = []
    d.addCallback(seen.append)
    assert seen == [5]
    assert d.result is None


def test_callback_added_from_inside_a_callback_runs_after_it() -> None:
    d: Deferred[int] = Deferred()
    seen: list[Any] = []

    def first(r: int) -> int:
        d.addCallback(lambda x: seen.append(("inner", x)))
        seen.append(("first", r))
        return r + 1

    d.addCallback(first)
    d.callback(1)
    assert seen == [("first", 1), ("inner", 2)]


def test_callback_returning_its_own_deferred_is_a_failure() -> None:
    d: Deferred[Any] = Deferred()
    d.addCallback(lambda _: d)
    d.callback(None)
    failure_of(d, TypeError)


def test_succeed_and_fail() -> None:
    assert succeed("v").result == "v"
    f = failure_of(fail(Boom("f")), Boom)
    assert str(f.value) == "f"
    try:
        raise Boom("now")
    except Boom:
        d = fail()
    assert str(failure_of(d).value) == "now"


def test_chain_deferred_passes_the_result_on() -> None:
    a: Deferred[int] = Deferred()
    b: Deferred[int] = Deferred()
    a.chainDeferred(b)
    a.callback(7)
    assert b.result == 7 and a.result is None


def test_deferred_is_subscriptable_for_type_hints() -> None:
    assert Deferred[int] is not None


def test_repr_shows_state() -> None:
    d: Deferred[int] = Deferred()
    assert "current result" not in repr(d)
    inner: Deferred[int] = Deferred()
    d.addCallback(lambda _: inner)
    d.callback(0)
    assert "waiting on" in repr(d)
    inner.callback(4)
    assert "current result: 4" in repr(d)


# -- chaining -----------------------------------------------------------------------


def test_callback_returning_a_pending_deferred_pauses_the_chain() -> None:
    outer: Deferred[int] = Deferred()
    inner: Deferred[int] = Deferred()
    seen: list[int] = []
    outer.addCallback(lambda _: inner).addCallback(seen.append)
    outer.callback(0)
    assert seen == [] and outer.result is inner
    inner.callback(42)
    assert seen == [42]
    assert inner.result is None  # the result moved to the outer Deferred


def test_callback_returning_a_fired_deferred_takes_its_result() -> None:
    d: Deferred[int] = Deferred()
    d.addCallback(lambda _: succeed(8)).addCallback(lambda x: x + 1)
    d.callback(0)
    assert d.result == 9


def test_failure_of_a_chained_deferred_goes_to_the_errbacks() -> None:
    outer: Deferred[Any] = Deferred()
    inner: Deferred[Any] = Deferred()
    outer.addCallback(lambda _: inner)
    outer.callback(None)
    inner.errback(Boom("inner"))
    failure_of(outer, Boom)


def test_chained_failure_taken_over_is_not_logged(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger=LOGGER):
        outer: Deferred[Any] = Deferred()
        outer.addCallback(lambda _: fail(Boom()))
        outer.addErrback(lambda f: None)
        outer.callback(None)
        del outer
        gc.collect()
    assert caplog.records == []


def test_ten_thousand_chained_deferreds_fire_without_recursion() -> None:
    n = 10_000
    ds: list[Deferred[Any]] = [Deferred() for _ in range(n)]
    for a, b in itertools.pairwise(ds):
        a.addCallback(lambda _, b=b: b)
    for d in ds[:-1]:
        d.callback(None)
    ds[-1].callback("end")
    assert ds[0].result == "end"


def test_ten_thousand_chained_deferreds_fired_innermost_first() -> None:
    n = 10_000
    ds: list[Deferred[Any]] = [Deferred() for _ in range(n)]
    for a, b in itertools.pairwise(ds):
        a.addCallback(lambda _, b=b: b)
    for d in reversed(ds):
        d.callback("end" if d is ds[-1] else None)
    assert ds[0].result == "end"


def test_ten_thousand_nested_returns() -> None:
    """Each callback returns a Deferred whose own callback returns the next one."""
    seen: list[int] = []
    pending: list[Deferred[Any]] = []

    def step(value: int) -> Any:
        if value == 10_000:
            seen.append(value)
            return value
        d: Deferred[int] = Deferred()
        d.addCallback(step)
        pending.append(d)
        return d

    first: Deferred[int] = Deferred()
    first.addCallback(step)
    first.callback(0)
    for i, d in enumerate(pending):
        d.callback(i + 1)
    assert seen == [10_000]
    assert first.result == 10_000


def test_ten_thousand_callbacks_returning_fired_deferreds() -> None:
    d: Deferred[int] = Deferred()
    for _ in range(10_000):
        d.addCallback(lambda x: succeed(x + 1))
    d.callback(0)
    assert d.result == 10_000


def test_callbacks_added_to_the_inner_deferred_after_chaining_see_none() -> None:
    outer: Deferred[int] = Deferred()
    inner: Deferred[int] = Deferred()
    outer.addCallback(lambda _: inner)
    outer.callback(0)
    later: list[Any] = []
    inner.addCallback(later.append)
    inner.callback(3)
    assert outer.result == 3 and later == [None]


# -- pause / unpause ----------------------------------------------------------------


def test_pause_holds_callbacks_until_unpause() -> None:
    d: Deferred[int] = Deferred()
    seen: list[int] = []
    d.pause()
    d.addCallback(seen.append)
    d.callback(1)
    assert seen == []
    d.pause()
    d.unpause()
    assert seen == []
    d.unpause()
    assert seen == [1]


def test_unpause_without_pause_is_harmless() -> None:
    d: Deferred[int] = Deferred()
    d.unpause()
    assert d.paused == 0
    d.callback(1)
    assert d.result == 1


def test_returning_a_paused_fired_deferred_waits_for_its_unpause() -> None:
    inner = succeed(5)
    inner.pause()
    outer: Deferred[int] = Deferred()
    outer.addCallback(lambda _: inner)
    outer.callback(None)
    assert outer.result is inner
    inner.unpause()
    assert outer.result == 5


# -- cancel -------------------------------------------------------------------------


def test_cancel_without_canceller_errbacks_and_eats_a_late_callback() -> None:
    d: Deferred[int] = Deferred()
    d.cancel()
    failure_of(d, CancelledError)
    d.callback(1)  # the work behind it finished anyway: ignored once
    with pytest.raises(AlreadyCalledError):
        d.callback(2)


def test_cancel_calls_the_canceller() -> None:
    cancelled: list[Deferred[Any]] = []
    d: Deferred[int] = Deferred(cancelled.append)
    d.cancel()
    assert cancelled == [d]
    failure_of(d, CancelledError)
    with pytest.raises(AlreadyCalledError):
        d.callback(1)


def test_canceller_that_fires_decides_the_result() -> None:
    d: Deferred[str] = Deferred(lambda d: d.callback("stopped"))
    d.cancel()
    assert d.result == "stopped"


def test_cancel_after_firing_does_nothing() -> None:
    d = succeed(1)
    d.cancel()
    assert d.result == 1


def test_cancel_of_a_deferred_waiting_on_another_cancels_that_one() -> None:
    inner_cancelled: list[Any] = []
    inner: Deferred[int] = Deferred(inner_cancelled.append)
    outer: Deferred[int] = Deferred()
    outer.addCallback(lambda _: inner)
    outer.callback(0)
    outer.cancel()
    assert inner_cancelled == [inner]
    failure_of(outer, CancelledError)


# -- addTimeout ---------------------------------------------------------------------


def test_add_timeout_fails_with_timeout_error() -> None:
    clock = Clock()
    d: Deferred[int] = Deferred()
    d.addTimeout(5, clock)
    clock.advance(4.9)
    assert not d.called
    clock.advance(0.1)
    f = failure_of(d, TimeoutError)
    assert f.check(error.TimeoutError) and f.check(builtins.TimeoutError)
    assert "5" in f.getErrorMessage()


def test_add_timeout_cancels_the_timer_when_fired_in_time() -> None:
    clock = Clock()
    d: Deferred[int] = Deferred()
    assert d.addTimeout(5, clock) is d
    d.callback(1)
    assert clock.getDelayedCalls() == []
    assert d.result == 1


def test_add_timeout_with_on_timeout_cancel() -> None:
    clock = Clock()
    d: Deferred[int] = Deferred()
    d.addTimeout(2, clock, onTimeoutCancel=lambda result, timeout: ("late", timeout))
    clock.advance(2)
    assert d.result == ("late", 2)


def test_add_timeout_keeps_a_value_the_canceller_gives() -> None:
    clock = Clock()
    d: Deferred[str] = Deferred(lambda d: d.callback("partial"))
    d.addTimeout(1, clock)
    clock.advance(1)
    assert d.result == "partial"


def test_add_timeout_leaves_other_failures_alone() -> None:
    clock = Clock()
    d: Deferred[int] = Deferred()
    d.addTimeout(1, clock)
    d.errback(Boom())
    failure_of(d, Boom)
    assert clock.getDelayedCalls() == []


# -- unhandled failures -------------------------------------------------------------


def test_unhandled_failure_is_logged_with_traceback_on_collection(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def explode(_: Any) -> None:
        raise Boom("nobody listens")

    with caplog.at_level(logging.ERROR, logger=LOGGER):
        d: Deferred[Any] = Deferred()
        d.addCallback(explode)
        d.callback(None)
        del d
        gc.collect()
    [record] = [r for r in caplog.records if "nobody listens" in r.getMessage()]
    assert record.name == LOGGER and record.levelno == logging.ERROR
    assert "Unhandled error in Deferred" in record.getMessage()
    assert "explode" in record.getMessage()  # the traceback names the failing callback


def test_unhandled_failure_in_a_reference_cycle_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger=LOGGER):
        d: Deferred[Any] = Deferred()
        exc = Boom("cyclic")
        exc.owner = d  # type: ignore[attr-defined]  # d -> failure -> exc -> d
        d.errback(exc)
        del d, exc
        gc.collect()
    assert any("cyclic" in r.getMessage() for r in caplog.records)


def test_handled_failure_is_not_logged(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger=LOGGER):
        d = fail(Boom())
        d.addErrback(lambda f: None)
        del d
        gc.collect()
    assert caplog.records == []


def test_failure_handled_later_is_not_logged(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger=LOGGER):
        d = fail(Boom())
        gc.collect()
        d.addErrback(lambda f: "ok")
        del d
        gc.collect()
    assert caplog.records == []


# -- DeferredList and gatherResults -------------------------------------------------


def test_deferred_list_gives_success_result_pairs_in_order() -> None:
    a: Deferred[int] = Deferred()
    b: Deferred[int] = Deferred()
    dl = DeferredList([a, b], consumeErrors=True)
    b.errback(Boom())
    assert not dl.called
    a.callback(1)
    [(ok_a, res_a), (ok_b, res_b)] = dl.result
    assert (ok_a, res_a) == (True, 1)
    assert ok_b is False and res_b.check(Boom)


def test_empty_deferred_list_fires_at_once() -> None:
    assert DeferredList([]).result == []
    assert not DeferredList([], fireOnOneCallback=True).called


def test_deferred_list_fire_on_one_callback() -> None:
    a: Deferred[int] = Deferred()
    b: Deferred[int] = Deferred()
    dl = DeferredList([a, b], fireOnOneCallback=True)
    b.callback("b")
    assert dl.result == ("b", 1)
    a.callback("a")  # later results change nothing
    assert dl.result == ("b", 1)


def test_deferred_list_fire_on_one_errback() -> None:
    a: Deferred[int] = Deferred()
    b: Deferred[int] = Deferred()
    dl = DeferredList([a, b], fireOnOneErrback=True, consumeErrors=True)
    b.errback(Boom("second"))
    f = failure_of(dl, FirstError)
    assert f.value.index == 1 and f.value.subFailure.check(Boom)
    assert "FirstError" in str(f.value)


def test_consume_errors_stops_failures_in_the_members(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger=LOGGER):
        a: Deferred[int] = Deferred()
        dl = DeferredList([a], consumeErrors=True)
        a.errback(Boom())
        assert a.result is None
        del a, dl
        gc.collect()
    assert caplog.records == []


def test_without_consume_errors_the_member_keeps_its_failure() -> None:
    a: Deferred[int] = Deferred()
    DeferredList([a])
    a.errback(Boom())
    failure_of(a, Boom)


def test_cancelling_a_deferred_list_cancels_its_members() -> None:
    a: Deferred[int] = Deferred()
    b = succeed(2)
    dl = DeferredList([a, b], consumeErrors=True)
    dl.cancel()
    [(ok_a, res_a), (ok_b, res_b)] = dl.result
    assert not ok_a and res_a.check(CancelledError)
    assert (ok_b, res_b) == (True, 2)


def test_gather_results_gives_the_values() -> None:
    a: Deferred[int] = Deferred()
    d = gatherResults([a, succeed(2)])
    a.callback(1)
    assert d.result == [1, 2]


def test_gather_results_fails_with_first_error() -> None:
    a: Deferred[int] = Deferred()
    b: Deferred[int] = Deferred()
    d = gatherResults([a, b], consumeErrors=True)
    b.errback(Boom())
    f = failure_of(d, FirstError)
    assert f.value.index == 1
    a.callback(1)  # fine after the fact


def test_gather_results_cancel_cancels_the_members() -> None:
    a: Deferred[int] = Deferred()
    d = gatherResults([a], consumeErrors=True)
    d.cancel()
    assert failure_of(d, FirstError).value.subFailure.check(CancelledError)


# -- maybeDeferred ------------------------------------------------------------------


def test_maybe_deferred_wraps_every_kind_of_outcome() -> None:
    assert maybeDeferred(lambda x: x * 2, 4).result == 8
    inner: Deferred[int] = Deferred()
    assert maybeDeferred(lambda: inner) is inner

    def raiser() -> None:
        raise Boom("raised")

    failure_of(maybeDeferred(raiser), Boom)
    given_failure = Failure(Boom())
    assert failure_of(maybeDeferred(lambda: given_failure)) is given_failure


def test_maybe_deferred_runs_a_coroutine() -> None:
    async def coro(x: int) -> int:
        return x + 1

    assert maybeDeferred(coro, 1).result == 2


def test_maybe_deferred_passes_keywords() -> None:
    assert maybeDeferred(dict, a=1).result == {"a": 1}


# -- coroutines ---------------------------------------------------------------------


def test_await_pending_deferreds() -> None:
    first: Deferred[int] = Deferred()
    second: Deferred[int] = Deferred()

    async def work() -> int:
        a = await first
        b = await second
        return a + b

    d = ensureDeferred(work())
    assert not d.called
    first.callback(1)
    assert not d.called
    second.callback(2)
    assert d.result == 3


def test_await_fired_deferred_gives_its_result_at_once() -> None:
    async def work() -> str:
        return await succeed("now")

    assert Deferred.fromCoroutine(work()).result == "now"


def test_await_failed_deferred_raises_in_the_coroutine() -> None:
    pending: Deferred[int] = Deferred()

    async def work() -> str:
        with contextlib.suppress(Boom):
            await fail(Boom("already"))
        try:
            await pending
        except Boom as e:
            return f"caught {e}"
        return "no"

    d = ensureDeferred(work())
    pending.errback(Boom("later"))
    assert d.result == "caught later"


def test_exception_in_a_coroutine_fails_its_deferred() -> None:
    async def work() -> None:
        raise Boom("coro")

    failure_of(ensureDeferred(work()), Boom)


def test_coroutine_can_await_coroutines_and_return_a_deferred() -> None:
    gate: Deferred[int] = Deferred()
    later: Deferred[str] = Deferred()

    async def inner() -> int:
        return await gate * 2

    async def outer() -> Any:
        value = await ensureDeferred(inner())
        assert value == 10
        return later

    d = ensureDeferred(outer())
    gate.callback(5)
    assert d.result is later  # fired, but waiting on the Deferred it returned
    later.callback("done")
    assert d.result == "done"


def test_await_of_a_non_deferred_raises_type_error_inside() -> None:
    class Odd:
        def __await__(self) -> Any:
            yield "not a deferred"

    async def work() -> str:
        try:
            await Odd()
        except TypeError:
            return "refused"
        return "accepted"

    assert ensureDeferred(work()).result == "refused"


def test_ensure_deferred_returns_a_deferred_unchanged() -> None:
    d: Deferred[int] = Deferred()
    assert ensureDeferred(d) is d


def test_from_coroutine_refuses_other_objects() -> None:
    with pytest.raises(NotACoroutineError):
        Deferred.fromCoroutine(lambda: None)  # type: ignore[arg-type]


def test_many_awaits_do_not_grow_the_stack() -> None:
    async def work() -> int:
        total = 0
        for _ in range(10_000):
            total += await succeed(1)
        return total

    assert ensureDeferred(work()).result == 10_000


def test_many_pending_awaits_resumed_one_by_one() -> None:
    pending: list[Deferred[int]] = []

    async def work() -> int:
        total = 0
        for _ in range(5_000):
            d: Deferred[int] = Deferred()
            pending.append(d)
            total += await d
        return total

    result = ensureDeferred(work())
    while not result.called:
        pending[-1].callback(1)
    assert result.result == 5_000


def test_awaiting_a_deferred_that_fires_while_chained() -> None:
    outer: Deferred[int] = Deferred()
    inner: Deferred[int] = Deferred()
    outer.addCallback(lambda _: inner)
    outer.callback(0)  # outer is called but waits on inner

    async def work() -> int:
        return await outer

    d = ensureDeferred(work())
    assert not d.called
    inner.callback(11)
    assert d.result == 11


def test_coroutine_driven_by_the_clock() -> None:
    clock = Clock()
    from logbot.reactor.task import deferLater

    async def work() -> list[float]:
        times = []
        for _ in range(3):
            await deferLater(clock, 1.5)
            times.append(clock.seconds())
        return times

    d = ensureDeferred(work())
    clock.pump([1.5, 1.5, 1.5])
    assert d.result == [1.5, 3.0, 4.5]


def test_cancel_a_coroutine_cancels_what_it_awaits() -> None:
    cancelled: list[Any] = []
    awaited: Deferred[int] = Deferred(cancelled.append)

    async def work() -> int:
        return await awaited

    d = ensureDeferred(work())
    d.cancel()
    assert cancelled == [awaited]
    failure_of(d, CancelledError)


def test_coroutine_that_catches_cancel_decides_the_result() -> None:
    async def work() -> str:
        try:
            await Deferred()
        except CancelledError:
            return "cleaned up"
        return "no"

    d = ensureDeferred(work())
    d.cancel()
    assert d.result == "cleaned up"


def test_coroutine_that_catches_cancel_and_waits_again() -> None:
    second: Deferred[str] = Deferred()

    async def work() -> str:
        try:
            await Deferred()
        except CancelledError:
            return await second
        return "no"

    d = ensureDeferred(work())
    d.cancel()
    assert not isinstance(getattr(d, "result", None), Failure)
    second.callback("after cleanup")
    assert d.result == "after cleanup"


def test_second_cancel_reaches_the_second_await() -> None:
    async def work() -> str:
        try:
            await Deferred()
        except CancelledError:
            await Deferred()
        return "no"

    d = ensureDeferred(work())
    d.cancel()
    d.cancel()
    failure_of(d, CancelledError)


def test_cancel_of_a_finished_coroutine_does_nothing() -> None:
    async def work() -> int:
        return 1

    d = ensureDeferred(work())
    d.cancel()
    assert d.result == 1


# -- a model of the chain -----------------------------------------------------------

_steps = st.lists(
    st.one_of(
        st.tuples(st.just("add"), st.integers(-5, 5)),
        st.tuples(st.just("raise"), st.just(0)),
        st.tuples(st.just("recover"), st.integers(0, 5)),
        st.tuples(st.just("fired"), st.integers(-5, 5)),
        st.tuples(st.just("pending"), st.integers(-5, 5)),
        st.tuples(st.just("pending_fail"), st.just(0)),
    ),
    max_size=30,
)


@settings(max_examples=200, deadline=None)
@given(steps=_steps, start=st.integers(-10, 10))
def test_chain_matches_a_plain_model(steps: list[tuple[str, int]], start: int) -> None:
    """Any mix of callbacks, failures and chained Deferreds gives the model's answer."""
    d: Deferred[int] = Deferred()
    later: list[tuple[Deferred[int], Any]] = []
    model: Any = start  # an int, or the string "failed"
    for kind, n in steps:
        if kind == "add":
            d.addCallback(lambda r, n=n: r + n)
            model = model if model == "failed" else model + n
        elif kind == "raise":
            d.addCallback(lambda r: 1 / 0)
            model = "failed"
        elif kind == "recover":
            d.addErrback(lambda f, n=n: f.trap(ZeroDivisionError) and n)
            model = n if model == "failed" else model
        elif kind == "fired":
            d.addCallback(lambda r, n=n: succeed(r + n))
            model = model if model == "failed" else model + n
        elif kind == "pending":

            def wait(r: int, n: int = n) -> Deferred[int]:
                inner: Deferred[int] = Deferred()
                later.append((inner, r + n))
                return inner

            d.addCallback(wait)
            model = model if model == "failed" else model + n
        else:

            def wait_fail(r: int) -> Deferred[int]:
                inner: Deferred[int] = Deferred()
                later.append((inner, Failure(ZeroDivisionError())))
                return inner

            d.addCallback(wait_fail)
            model = "failed"
    d.callback(start)
    while later:
        inner, value = later.pop(0)
        if isinstance(value, Failure):
            inner.errback(value)
        else:
            inner.callback(value)
    result = outcome(d)
    if model == "failed":
        assert isinstance(result, Failure) and result.check(ZeroDivisionError)
    else:
        assert result == model
