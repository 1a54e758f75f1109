"""Shared fixtures: a fresh reactor per test, on every backend.

``reactor`` is parametrised over the backends this platform has (epoll, poll, select
on Linux), so a test that takes it runs once per backend.  ``run_until(d)`` runs that
reactor until the Deferred ``d`` fires and returns its result (or raises its failure);
the timeout is a safety bound that fails the test, never a way to wait for something.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest

from logbot.reactor import defer
from logbot.reactor.backends import available
from logbot.reactor.failure import Failure
from logbot.reactor.loop import Reactor

BACKENDS = available()


@pytest.fixture(params=BACKENDS)
def reactor(request: pytest.FixtureRequest) -> Any:
    r = Reactor(request.param)
    yield r
    for s in r.removeAll():
        close = getattr(s, "socket", None)
        if close is not None:
            try:
                close.close()
            except Exception:
                pass
    r.close()


class ReactorTimeout(AssertionError):
    pass


def _run_until(r: Reactor, d: Any, timeout: float = 15.0) -> Any:
    box: list[Any] = []

    def done(result: Any) -> None:
        box.append(result)
        if r.running and not r._stopping:
            r.stop()

    d = defer.maybeDeferred(lambda: d) if not isinstance(d, defer.Deferred) else d
    d.addBoth(done)
    if not box:
        guard = r.callLater(timeout, lambda: r.stop() if not r._stopping else None)
        r.run(installSignalHandlers=False)
        if guard.active():
            guard.cancel()
    if not box:
        raise ReactorTimeout(f"the Deferred did not fire within {timeout} s")
    result = box[0]
    if isinstance(result, Failure):
        result.raiseException()
    return result


@pytest.fixture
def run_until(reactor: Reactor) -> Any:
    """``run_until(d, timeout=15)``: run the reactor until ``d`` fires."""
    return lambda d, timeout=15.0: _run_until(reactor, d, timeout)


@pytest.fixture(autouse=True)
def _quiet_debug_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)


# Real IRC servers (ngircd, inspircd, inspircd_anope, ...): see tests/ircd/fixtures.py;
# a ZNC bouncer in front of one (znc_factory): see tests/ircd/znc_fixtures.py.
pytest_plugins = ["tests.ircd.fixtures", "tests.ircd.znc_fixtures", "tests.pg.fixtures"]
