"""The loop itself on a real Reactor, on every backend: timers, threads, signals,
``callWhenRunning``, shutdown triggers, and errors in timed calls.

Nothing here sleeps: every wait is on a Deferred (``run_until``) or on the reactor's
own ``run()`` returning; the timeouts are safety bounds only.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time

import pytest

from logbot.reactor import defer, error
from logbot.reactor.backends import available
from logbot.reactor.loop import Reactor


@pytest.fixture(params=available())
def make_reactor(request):
    """``make_reactor(**kw)``: a Reactor on the parametrised backend, closed afterwards."""
    made = []

    def make(**kw):
        r = Reactor(request.param, **kw)
        made.append(r)
        return r

    yield make
    for r in made:
        r.removeAll()
        r.close()


def run_bounded(r, limit=10.0):
    """Run ``r`` until it stops; fail (after stopping it) if that takes over ``limit`` s."""
    timedOut = []

    def guard():
        timedOut.append(True)
        if not r._stopping:
            r.stop()

    g = r.callLater(limit, guard)
    start = time.monotonic()
    r.run(installSignalHandlers=False)
    elapsed = time.monotonic() - start
    if g.active():
        g.cancel()
    assert not timedOut, f"the reactor did not stop within {limit} s"
    return elapsed


# -- callLater ------------------------------------------------------------------------


def test_same_time_calls_run_in_scheduling_order(reactor, run_until):
    order = []
    d = defer.Deferred()
    for i in range(50):
        reactor.callLater(0, order.append, i)
    reactor.callLater(0, d.callback, None)
    run_until(d)
    assert order == list(range(50))


def test_calls_run_in_time_order_whatever_the_scheduling_order(reactor, run_until):
    order = []
    d = defer.Deferred()
    reactor.callLater(0.06, order.append, "c")
    reactor.callLater(0.02, order.append, "a")
    reactor.callLater(0.04, order.append, "b")
    reactor.callLater(0.04, order.append, "b2")  # same time as "b": after it
    reactor.callLater(0.08, d.callback, None)
    run_until(d)
    assert order == ["a", "b", "b2", "c"]


def test_callLater_never_runs_early(reactor, run_until):
    d = defer.Deferred()
    start = reactor.seconds()
    call = reactor.callLater(0.05, lambda: d.callback(reactor.seconds()))
    assert call.getTime() == pytest.approx(start + 0.05, abs=0.01)
    ran = run_until(d)
    assert ran >= call.getTime()
    assert ran - start >= 0.05
    assert not call.active() and call.called


def test_callLater_passes_arguments(reactor, run_until):
    d = defer.Deferred()
    reactor.callLater(0, lambda a, b, c=None: d.callback((a, b, c)), 1, 2, c=3)
    assert run_until(d) == (1, 2, 3)


def test_cancelled_call_never_runs(reactor, run_until):
    ran = []
    d = defer.Deferred()
    call = reactor.callLater(0.01, ran.append, "cancelled")
    assert call.active()
    call.cancel()
    assert not call.active()
    with pytest.raises(error.AlreadyCancelled):
        call.cancel()
    reactor.callLater(0.05, d.callback, None)
    run_until(d)
    assert ran == []


def test_a_call_cancelled_by_an_earlier_call_of_the_same_turn_does_not_run(reactor, run_until):
    ran = []
    d = defer.Deferred()
    reactor.callLater(0, lambda: second.cancel())
    second = reactor.callLater(0, ran.append, "second")
    reactor.callLater(0, d.callback, None)
    run_until(d)
    assert ran == []


def test_called_call_cannot_be_cancelled_or_reset(reactor, run_until):
    d = defer.Deferred()
    call = reactor.callLater(0, d.callback, "done")
    run_until(d)
    with pytest.raises(error.AlreadyCalled):
        call.cancel()
    with pytest.raises(error.AlreadyCalled):
        call.reset(1)


def test_reset_moves_a_call_later_and_earlier(reactor, run_until):
    order = []
    d = defer.Deferred()
    late = reactor.callLater(0.01, order.append, "was first")
    reactor.callLater(0.04, order.append, "middle")
    early = reactor.callLater(5, order.append, "was last")
    late.reset(0.08)
    early.reset(0.02)
    assert late.getTime() > early.getTime()
    reactor.callLater(0.12, d.callback, None)
    run_until(d)
    assert order == ["was last", "middle", "was first"]


def test_delay_pushes_a_call_back(reactor, run_until):
    order = []
    d = defer.Deferred()
    a = reactor.callLater(0.01, order.append, "a")
    reactor.callLater(0.03, order.append, "b")
    before = a.getTime()
    a.delay(0.05)
    assert a.getTime() == pytest.approx(before + 0.05)
    reactor.callLater(0.1, d.callback, None)
    run_until(d)
    assert order == ["b", "a"]


def test_calls_scheduled_by_a_timed_call_wait_for_the_next_turn(reactor, run_until):
    # A call at delay 0 scheduled from a timed call must not run in the same pass
    # (else a call that reschedules itself at 0 would starve I/O forever).
    turns = []
    d = defer.Deferred()

    def first():
        turns.append("first")
        reactor.callLater(0, lambda: (turns.append("second"), d.callback(None)))
        turns.append("first done")

    reactor.callLater(0, first)
    run_until(d)
    assert turns == ["first", "first done", "second"]


def test_getDelayedCalls_lists_only_active_calls(reactor):
    a = reactor.callLater(10, lambda: None)
    b = reactor.callLater(20, lambda: None)
    a.cancel()
    assert reactor.getDelayedCalls() == [b]
    b.cancel()
    assert reactor.getDelayedCalls() == []


def test_exception_in_a_timed_call_is_logged_and_the_loop_goes_on(reactor, run_until, caplog):
    d = defer.Deferred()

    def broken():
        raise ZeroDivisionError("boom in a timer")

    reactor.callLater(0, broken)
    reactor.callLater(0.01, d.callback, "still running")
    assert run_until(d) == "still running"
    records = [r for r in caplog.records if r.exc_info and r.exc_info[0] is ZeroDivisionError]
    assert records, caplog.text
    assert "boom in a timer" in caplog.text
    assert "Traceback" in caplog.text


def test_many_cancelled_timers_do_not_delay_a_live_one(reactor, run_until):
    calls = [reactor.callLater(0.01 + i * 1e-6, lambda: None) for i in range(20000)]
    for c in calls:
        c.cancel()
    d = defer.Deferred()
    reactor.callLater(0.02, d.callback, "live")
    assert run_until(d, timeout=10) == "live"
    assert reactor.getDelayedCalls() == []


# -- threads ----------------------------------------------------------------------------


def test_callFromThread_wakes_a_loop_blocked_with_no_timers(make_reactor):
    """The loop blocks in the backend with no timeout at all; only the waker can wake it.

    The backend's wait is wrapped: a wait without timeout is capped at 10 s (the safety
    bound) and announced, and only then does the thread call ``callFromThread``.
    """
    r = make_reactor()
    blocking = threading.Event()
    waits = []
    real_poll = r._backend.poll

    def poll(timeout):
        if timeout is None:
            waits.append(None)
            blocking.set()
            start = time.monotonic()
            events = real_poll(10.0)
            waits[-1] = time.monotonic() - start
            return events
        return real_poll(timeout)

    r._backend.poll = poll
    seen = []

    def thread_main():
        if blocking.wait(10):
            r.callFromThread(lambda: (seen.append(threading.get_ident()), r.stop()))

    t = threading.Thread(target=thread_main)
    t.start()
    start = time.monotonic()
    r.run(installSignalHandlers=False)
    elapsed = time.monotonic() - start
    t.join(10)
    assert seen == [threading.get_ident()]  # ran in the reactor's thread
    assert waits and waits[0] is not None and waits[0] < 5, waits
    assert elapsed < 5


def test_callFromThread_from_many_threads_runs_everything_once(reactor, run_until):
    n_threads, per_thread = 8, 500
    got = []
    d = defer.Deferred()
    total = n_threads * per_thread

    def note(i):
        got.append(i)
        if len(got) == total:
            d.callback(None)

    def worker(base):
        for i in range(per_thread):
            reactor.callFromThread(note, base + i)

    threads = [threading.Thread(target=worker, args=(k * per_thread,)) for k in range(n_threads)]
    reactor.callWhenRunning(lambda: [t.start() for t in threads])
    run_until(d)
    for t in threads:
        t.join(10)
    assert sorted(got) == list(range(total))


def test_exception_in_a_call_from_a_thread_is_logged(reactor, run_until, caplog):
    d = defer.Deferred()

    def broken():
        raise KeyError("from a thread")

    def worker():
        reactor.callFromThread(broken)
        reactor.callFromThread(d.callback, "after")

    t = threading.Thread(target=worker)
    reactor.callWhenRunning(t.start)
    assert run_until(d) == "after"
    t.join(10)
    assert "from a thread" in caplog.text


# -- callWhenRunning ------------------------------------------------------------------


def test_callWhenRunning_before_run_is_called_once_running(reactor, run_until):
    seen = []
    reactor.callWhenRunning(lambda x: seen.append((x, reactor.running)), "arg")
    assert seen == []
    d = defer.Deferred()
    reactor.callLater(0.01, d.callback, None)
    run_until(d)
    assert seen == [("arg", True)]


def test_callWhenRunning_while_running_calls_at_once(reactor, run_until):
    seen = []
    d = defer.Deferred()

    def inside():
        reactor.callWhenRunning(seen.append, "now")
        seen.append("after")
        d.callback(None)

    reactor.callLater(0, inside)
    run_until(d)
    assert seen == ["now", "after"]


def test_stop_when_not_running_raises(reactor):
    with pytest.raises(error.ReactorNotRunning):
        reactor.stop()


def test_reactor_can_run_again_after_stopping(reactor, run_until):
    for i in range(3):
        d = defer.Deferred()
        reactor.callLater(0, d.callback, i)
        assert run_until(d) == i
        assert not reactor.running


# -- shutdown triggers ------------------------------------------------------------------


def test_shutdown_triggers_run_in_phase_order(make_reactor):
    r = make_reactor()
    order = []
    r.addSystemEventTrigger("after", "shutdown", order.append, "after")
    r.addSystemEventTrigger("during", "shutdown", order.append, "during")
    r.addSystemEventTrigger("before", "shutdown", order.append, "before")
    r.callWhenRunning(r.stop)
    run_bounded(r)
    assert order == ["before", "during", "after"]


def test_removed_trigger_does_not_run(make_reactor):
    r = make_reactor()
    order = []
    tid = r.addSystemEventTrigger("before", "shutdown", order.append, "removed")
    r.addSystemEventTrigger("before", "shutdown", order.append, "kept")
    r.removeSystemEventTrigger(tid)
    r.callWhenRunning(r.stop)
    run_bounded(r)
    assert order == ["kept"]


def test_bad_phase_is_refused(reactor):
    with pytest.raises(ValueError, match="phase"):
        reactor.addSystemEventTrigger("whenever", "shutdown", lambda: None)


def test_before_trigger_deferred_delays_the_stop_until_it_fires(make_reactor):
    r = make_reactor(shutdownTimeout=10)
    order = []
    waiting = defer.Deferred()

    def before():
        order.append("before")
        r.callLater(0.1, lambda: (order.append("fired"), waiting.callback(None)))
        return waiting

    r.addSystemEventTrigger("before", "shutdown", before)
    r.addSystemEventTrigger("during", "shutdown", order.append, "during")
    r.callWhenRunning(r.stop)
    elapsed = run_bounded(r)
    assert order == ["before", "fired", "during"]
    assert 0.1 <= elapsed < 5


def test_before_trigger_that_never_fires_is_given_up_after_shutdownTimeout(make_reactor, caplog):
    r = make_reactor(shutdownTimeout=0.2)
    order = []
    r.addSystemEventTrigger("before", "shutdown", lambda: defer.Deferred())  # never fires
    r.addSystemEventTrigger("during", "shutdown", order.append, "during")
    r.addSystemEventTrigger("after", "shutdown", order.append, "after")
    r.callWhenRunning(r.stop)
    elapsed = run_bounded(r)
    assert order == ["during", "after"]
    assert 0.2 <= elapsed < 5
    assert "gave up" in caplog.text
    # Giving up is a warning, not an error "in" the trigger.
    assert not [rec for rec in caplog.records if rec.levelno >= logging.ERROR], caplog.text


def test_failing_before_trigger_is_logged_and_shutdown_goes_on(make_reactor, caplog):
    r = make_reactor()
    order = []

    def broken():
        raise RuntimeError("trigger broke")

    r.addSystemEventTrigger("before", "shutdown", broken)
    r.addSystemEventTrigger("during", "shutdown", order.append, "during")
    r.callWhenRunning(r.stop)
    run_bounded(r)
    assert order == ["during"]
    assert "trigger broke" in caplog.text


def test_sigterm_stops_the_reactor_through_the_triggers(make_reactor):
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signal handlers can only be installed in the main thread")
    r = make_reactor()
    # Our own handler stands in for the default (which would kill pytest): if the
    # reactor did not install its handler, this one records the signal instead.
    fallback = []
    old = signal.signal(signal.SIGTERM, lambda signum, frame: fallback.append(signum))
    try:
        order = []
        r.addSystemEventTrigger("before", "shutdown", order.append, "before")
        r.addSystemEventTrigger("after", "shutdown", order.append, "after")
        r.callWhenRunning(os.kill, os.getpid(), signal.SIGTERM)
        guard = r.callLater(10, lambda: (order.append("guard"), r.stop()))
        start = time.monotonic()
        r.run(installSignalHandlers=True)
        elapsed = time.monotonic() - start
        assert fallback == []
        assert order == ["before", "after"]
        assert elapsed < 5
        assert guard.active()
        guard.cancel()
        # The previous handler is back once run() returns.
        assert signal.getsignal(signal.SIGTERM) is not r._onSignal
        os.kill(os.getpid(), signal.SIGTERM)
        assert fallback == [signal.SIGTERM]
    finally:
        signal.signal(signal.SIGTERM, old)


def test_run_without_signal_handlers_leaves_them_alone(make_reactor):
    r = make_reactor()
    seen = []
    before = signal.getsignal(signal.SIGTERM)
    r.callWhenRunning(lambda: (seen.append(signal.getsignal(signal.SIGTERM)), r.stop()))
    run_bounded(r)
    assert seen == [before]
