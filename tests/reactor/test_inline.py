"""``inlineCallbacks`` and ``returnValue``: Twisted's generator-driven Deferred code.

The rules are checked with Deferreds fired by hand (and time with ``task.Clock``); the
tests that take the ``reactor`` fixture drive generators from real timers and a real
TCP exchange on 127.0.0.1, on every backend.
"""

from __future__ import annotations

import contextvars
import gc
import logging
import sys
import traceback
from typing import Any

import pytest

from logbot.reactor.defer import (
    CancelledError,
    Deferred,
    ensureDeferred,
    fail,
    inlineCallbacks,
    returnValue,
    succeed,
)
from logbot.reactor.endpoints import TCP4ClientEndpoint, connectProtocol
from logbot.reactor.failure import Failure
from logbot.reactor.protocol import Factory, Protocol
from logbot.reactor.task import Clock, deferLater
from tests.reactor.protocols import Echo


def result_of(d: Deferred[Any]) -> Any:
    """The result of a fired Deferred (a Failure for a failed one)."""
    box: list[Any] = []
    d.addBoth(box.append)
    assert box, "the Deferred has not fired"
    return box[0]


# -- results ------------------------------------------------------------------------------


def test_yielded_deferred_sends_its_result_in_when_it_fires() -> None:
    waiting: Deferred[int] = Deferred()
    seen: list[Any] = []

    @inlineCallbacks
    def gen() -> Any:
        value = yield waiting
        seen.append(value)
        return value * 2

    d = gen()
    assert isinstance(d, Deferred) and not d.called and seen == []
    waiting.callback(21)
    assert seen == [21]
    assert result_of(d) == 42


def test_non_deferred_values_come_straight_back() -> None:
    marker = object()

    @inlineCallbacks
    def gen() -> Any:
        a = yield 1
        b = yield "two"
        c = yield marker
        d = yield None
        return (a, b, c, d)

    d = gen()
    assert d.called  # nothing to wait for: it ran to the end inside the call
    assert result_of(d) == (1, "two", marker, None)


def test_a_yielded_coroutine_is_a_plain_value_as_in_twisted() -> None:
    async def coro() -> int:
        return 5

    @inlineCallbacks
    def gen() -> Any:
        c = yield coro()
        value = yield ensureDeferred(c)  # the way to wait for it
        return value

    assert result_of(gen()) == 5


def test_return_and_return_value_both_fire_with_the_value() -> None:
    @inlineCallbacks
    def with_return() -> Any:
        yield succeed(None)
        return "by return"

    @inlineCallbacks
    def with_return_value() -> Any:
        yield succeed(None)
        returnValue("by returnValue")

    @inlineCallbacks
    def falls_off_the_end() -> Any:
        yield succeed(None)

    assert result_of(with_return()) == "by return"
    assert result_of(with_return_value()) == "by returnValue"
    assert result_of(falls_off_the_end()) is None


def test_return_value_is_not_caught_by_except_exception() -> None:
    after: list[str] = []

    @inlineCallbacks
    def gen() -> Any:
        try:
            yield succeed(1)
            returnValue("out")
        except Exception:  # must not see returnValue's signal
            after.append("caught")
        after.append("went on")

    assert result_of(gen()) == "out"
    assert after == []


def test_return_value_of_a_failure_errbacks_as_in_twisted() -> None:
    @inlineCallbacks
    def gen() -> Any:
        yield None
        returnValue(Failure(KeyError("k")))

    f = result_of(gen())
    assert isinstance(f, Failure) and f.check(KeyError)


def test_returning_a_deferred_makes_the_result_follow_it() -> None:
    later: Deferred[str] = Deferred()

    @inlineCallbacks
    def gen() -> Any:
        yield None
        return later

    d = gen()
    assert not d.called or isinstance(d.result, Deferred)
    later.callback("followed")
    assert result_of(d) == "followed"


def test_return_value_from_a_helper_works_but_warns() -> None:
    def helper() -> None:
        returnValue("from the helper")

    @inlineCallbacks
    def gen() -> Any:
        yield None
        helper()

    with pytest.warns(DeprecationWarning, match=r"returnValue\(\) in 'helper' causing 'gen'"):
        d = gen()
    assert result_of(d) == "from the helper"


def test_return_value_in_the_generator_itself_does_not_warn(recwarn: Any) -> None:
    @inlineCallbacks
    def gen() -> Any:
        try:
            yield fail(ValueError("thrown in"))
        except ValueError:
            returnValue("handled")  # called while the thrown exception is handled

    assert result_of(gen()) == "handled"
    assert not [w for w in recwarn if issubclass(w.category, DeprecationWarning)]


# -- exceptions ---------------------------------------------------------------------------


def test_an_exception_escaping_fails_the_deferred() -> None:
    @inlineCallbacks
    def gen() -> Any:
        yield succeed(None)
        raise ZeroDivisionError("escaped")

    f = result_of(gen())
    assert isinstance(f, Failure) and f.check(ZeroDivisionError)
    assert str(f.value) == "escaped"


def test_an_exception_before_the_first_yield_also_fails_the_deferred() -> None:
    @inlineCallbacks
    def gen() -> Any:
        raise LookupError("early")
        yield  # a generator all the same

    f = result_of(gen())
    assert isinstance(f, Failure) and f.check(LookupError)


def raiser() -> None:
    raise KeyError("from raiser")


def test_failure_is_thrown_in_at_the_yield_with_its_traceback() -> None:
    waiting: Deferred[Any] = Deferred()
    caught: list[BaseException] = []

    @inlineCallbacks
    def gen() -> Any:
        try:
            yield waiting
        except KeyError as e:
            caught.append(e)
            return "recovered"
        return "not reached"

    d = gen()
    try:
        raiser()
    except KeyError:
        waiting.errback()  # a Failure of the exception being handled, with its frames
    assert result_of(d) == "recovered"
    (exc,) = caught
    names = [frame.name for frame in traceback.extract_tb(exc.__traceback__)]
    assert "raiser" in names and "gen" in names


def test_an_uncaught_failure_passes_through_with_its_type() -> None:
    @inlineCallbacks
    def gen() -> Any:
        yield fail(OSError(5, "disk"))
        return "not reached"

    f = result_of(gen())
    assert isinstance(f, Failure) and f.check(OSError) and f.value.errno == 5


def test_a_failure_the_generator_caught_is_not_logged(caplog: pytest.LogCaptureFixture) -> None:
    later_d: list[Deferred[None]] = []

    @inlineCallbacks
    def gen() -> Any:
        try:
            yield fail(RuntimeError("handled inside"))
        except RuntimeError:
            pass
        later: Deferred[None] = Deferred()
        later_d.append(later)
        try:
            yield later
        except RuntimeError:
            pass
        return "fine"

    d = gen()
    later_d[0].errback(RuntimeError("handled inside too"))
    assert result_of(d) == "fine"
    del d
    later_d.clear()
    gc.collect()
    assert "Unhandled error" not in caplog.text


def test_an_unhandled_failure_of_the_result_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    @inlineCallbacks
    def gen() -> Any:
        yield None
        raise ValueError("nobody handles this")

    caplog.set_level(logging.ERROR, logger="logbot.reactor.defer")
    gen()
    gc.collect()
    assert "Unhandled error in Deferred" in caplog.text
    assert "nobody handles this" in caplog.text


def test_not_a_generator_is_a_type_error_at_the_call() -> None:
    @inlineCallbacks  # type: ignore[arg-type]
    def plain() -> int:
        return 1

    @inlineCallbacks  # type: ignore[arg-type]
    def plain_return_value() -> None:
        returnValue(2)

    with pytest.raises(TypeError, match="to produce a generator; instead got 1"):
        plain()
    with pytest.raises(TypeError, match="returnValue being used in a non-generator"):
        plain_return_value()


def test_the_decorated_function_keeps_its_name_and_doc() -> None:
    @inlineCallbacks
    def documented() -> Any:
        """Says why."""
        yield None

    assert documented.__name__ == "documented"
    assert documented.__doc__ == "Says why."


# -- no recursion -------------------------------------------------------------------------

LONG_RUN = 10_000


def test_ten_thousand_yields_of_fired_deferreds_keep_a_flat_stack() -> None:
    depths: list[int] = []

    def depth() -> int:
        frame, n = sys._getframe(), 0
        while frame is not None:
            frame, n = frame.f_back, n + 1  # type: ignore[assignment]
        return n

    @inlineCallbacks
    def gen() -> Any:
        total = 0
        for i in range(LONG_RUN):
            total += yield succeed(i)
            if i % 1000 == 0:
                depths.append(depth())
        return total

    assert result_of(gen()) == sum(range(LONG_RUN))
    assert max(depths) == min(depths)  # the stack did not grow with the yields


def test_ten_thousand_caught_failures_keep_a_flat_stack() -> None:
    @inlineCallbacks
    def gen() -> Any:
        caught = 0
        for i in range(LONG_RUN):
            try:
                yield fail(ValueError(i))
            except ValueError:
                caught += 1
        return caught

    assert result_of(gen()) == LONG_RUN


def test_ten_thousand_deferreds_fired_one_after_another_from_outside() -> None:
    pending: list[Deferred[int]] = []

    @inlineCallbacks
    def gen() -> Any:
        total = 0
        for _ in range(LONG_RUN):
            d: Deferred[int] = Deferred()
            pending.append(d)
            total += yield d
        return total

    out = gen()
    for i in range(LONG_RUN):
        pending[i].callback(i)
    assert result_of(out) == sum(range(LONG_RUN))


NESTING = 100


def test_nested_inline_callbacks_each_waiting_on_the_next() -> None:
    """A generator that yields another's Deferred waits for that one's result.

    (Nesting is not flat: each pending level that resumes the next adds a few frames,
    as in Twisted, so the depth stays moderate here; the README says so.)
    """
    bottom: Deferred[int] = Deferred()

    @inlineCallbacks
    def level(n: int) -> Any:
        if n == 0:
            value = yield bottom
        else:
            value = yield level(n - 1)
        return value + 1

    top = level(NESTING)
    assert not top.called
    bottom.callback(0)
    assert result_of(top) == NESTING + 1


# -- cancelling ---------------------------------------------------------------------------


def test_cancel_cancels_the_deferred_being_waited_on() -> None:
    cancelled: list[Deferred[Any]] = []
    waiting: Deferred[Any] = Deferred(cancelled.append)

    @inlineCallbacks
    def gen() -> Any:
        yield waiting
        return "not reached"

    d = gen()
    d.cancel()
    assert cancelled == [waiting]
    f = result_of(d)
    assert isinstance(f, Failure) and f.check(CancelledError)


def test_the_generator_may_catch_the_cancel_and_decide_the_result() -> None:
    waiting: Deferred[Any] = Deferred()
    second: Deferred[str] = Deferred()

    @inlineCallbacks
    def gen() -> Any:
        try:
            yield waiting
        except CancelledError:
            value = yield second  # goes on waiting after the cancel
            return f"cleaned up, then {value}"
        return "not reached"

    d = gen()
    d.cancel()
    got: list[Any] = []
    d.addBoth(got.append)
    assert waiting.called and got == []  # the generator is still at work
    second.callback("done")
    assert got == ["cleaned up, then done"]


def test_cancel_after_the_generator_finished_does_nothing() -> None:
    @inlineCallbacks
    def gen() -> Any:
        yield None
        return 3

    d = gen()
    d.cancel()
    assert result_of(d) == 3


def test_cancel_reaches_a_nested_inline_callbacks() -> None:
    cancelled: list[Deferred[Any]] = []
    deepest: Deferred[Any] = Deferred(cancelled.append)

    @inlineCallbacks
    def inner() -> Any:
        yield deepest

    @inlineCallbacks
    def outer() -> Any:
        try:
            yield inner()
        except CancelledError:
            return "outer saw the cancel"

    d = outer()
    d.cancel()
    assert cancelled == [deepest]
    assert result_of(d) == "outer saw the cancel"


# -- context variables --------------------------------------------------------------------

VAR: contextvars.ContextVar[str] = contextvars.ContextVar("VAR", default="unset")


def test_context_set_inside_survives_the_yield_and_stays_inside() -> None:
    waiting: Deferred[None] = Deferred()
    seen: list[str] = []

    @inlineCallbacks
    def gen() -> Any:
        seen.append(VAR.get())
        VAR.set("inside")
        yield waiting
        seen.append(VAR.get())

    VAR.set("caller")
    d = gen()
    assert VAR.get() == "caller"
    contextvars.Context().run(waiting.callback, None)  # fired from another context
    assert seen == ["caller", "inside"]
    assert result_of(d) is None


# -- on the reactor -----------------------------------------------------------------------


def test_time_with_a_clock() -> None:
    clock = Clock()
    steps: list[float] = []

    @inlineCallbacks
    def gen() -> Any:
        for delay in (1.0, 2.5, 0.5):
            yield deferLater(clock, delay)
            steps.append(clock.seconds())
        return len(steps)

    d = gen()
    clock.advance(1.0)
    clock.advance(2.0)
    assert steps == [1.0] and not d.called
    clock.advance(0.5)
    assert steps == [1.0, 3.5]
    clock.advance(0.5)
    assert steps == [1.0, 3.5, 4.0]
    assert result_of(d) == 3


def test_timers_of_a_real_reactor(reactor: Any, run_until: Any) -> None:
    order: list[str] = []

    @inlineCallbacks
    def gen() -> Any:
        value = yield deferLater(reactor, 0.01, lambda: "first")
        order.append(value)
        try:
            yield deferLater(reactor, 0, lambda: 1 / 0)
        except ZeroDivisionError:
            order.append("caught")
        return order

    assert run_until(gen()) == ["first", "caught"]


class Collector(Protocol):
    """Calls back ``waiting`` once ``size`` bytes arrived."""

    def __init__(self) -> None:
        self.data = b""
        self.waiting: Deferred[bytes] | None = None
        self.size = 0

    def receive(self, size: int) -> Deferred[bytes]:
        self.size = size
        self.waiting = Deferred()
        self._check()
        return self.waiting

    def dataReceived(self, data: bytes) -> None:
        self.data += data
        self._check()

    def _check(self) -> None:
        if self.waiting is not None and len(self.data) >= self.size:
            d, self.waiting = self.waiting, None
            got, self.data = self.data[: self.size], self.data[self.size :]
            d.callback(got)


def test_a_conversation_over_tcp(reactor: Any, run_until: Any) -> None:
    port = reactor.listenTCP(0, Factory.forProtocol(Echo), interface="127.0.0.1")

    @inlineCallbacks
    def converse() -> Any:
        endpoint = TCP4ClientEndpoint(reactor, "127.0.0.1", port.getHost().port)
        proto = yield connectProtocol(endpoint, Collector())
        replies = []
        for word in (b"one", b"two", b"three"):
            proto.transport.write(word)
            replies.append((yield proto.receive(len(word))))
        proto.transport.loseConnection()
        returnValue(replies)

    assert run_until(converse()) == [b"one", b"two", b"three"]
    port.stopListening()
