"""Pytest fixtures for a real ZNC bouncer (a plugin: see tests/conftest.py).

    znc_factory(upstream, **kw) -> a started ZNCBouncer   (function-scoped)

``upstream`` is usually a function-scoped server (``fresh_inspircd``, or one from
``ircd_factory``), ``kw`` are ``ZNCBouncer``'s keyword arguments (``channels``,
``nick``, ``auto_clear_chan_buffer``, ``chan_buffer_size``, ``flood_protection``,
``start_timeout``).  There is no session-wide bouncer: what a test checks is ZNC's
state (its buffers, whether a client is attached), which another test would change,
and a bouncer costs little more than the upstream's 1 s registration.  Every bouncer a
test started is stopped at its end.

A client logs in with ``PASS {bouncer.login}`` on ``bouncer.host``/``bouncer.port``.

As for the IRC servers (tests/ircd/fixtures.py), a missing ``znc`` FAILS the test with
the Debian package to install, unless ``LOGBOT_SKIP_IRCD=1``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.ircd import znc
from tests.ircd.fixtures import SKIP_ENV
from tests.ircd.znc import Upstream, ZNCBouncer, ZNCStartError

_started: list[float] = []  # seconds per start, for the summary


def _start(upstream: Upstream, tmp_path_factory: pytest.TempPathFactory, **kw: Any) -> ZNCBouncer:
    """A started bouncer, or the test fails (skips with ``LOGBOT_SKIP_IRCD=1``) if ZNC
    is missing, or fails with ZNC's output if it does not become ready."""
    missing = znc.missing_packages()
    if missing:
        message = (
            f"ZNC is not installed: run "
            f"'apt-get install -y --no-install-recommends {' '.join(missing)}' "
            f"(as .ci/run does), or set {SKIP_ENV}=1 to skip these tests"
        )
        if os.environ.get(SKIP_ENV) == "1":
            pytest.skip(message)
        pytest.fail(message, pytrace=False)
    bouncer = ZNCBouncer(upstream, tmp_path_factory.mktemp("znc"), **kw)
    try:
        bouncer.start()
    except ZNCStartError as e:
        pytest.fail(str(e), pytrace=False)
    assert bouncer.start_seconds is not None
    _started.append(bouncer.start_seconds)
    return bouncer


@pytest.fixture
def znc_factory(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Callable[..., ZNCBouncer]]:
    """``znc_factory(upstream, **kw)``: start a ZNC bouncer in front of ``upstream``,
    owned by this test (stopped at its end; see the module docstring)."""
    bouncers: list[ZNCBouncer] = []

    def start(upstream: Upstream, **kw: Any) -> ZNCBouncer:
        bouncer = _start(upstream, tmp_path_factory, **kw)
        bouncers.append(bouncer)
        return bouncer

    try:
        yield start
    finally:
        for bouncer in bouncers:
            bouncer.stop()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _started:
        slowest = max(_started)
        terminalreporter.write_line(
            f"ZNC bouncers started: {len(_started)}, slowest {slowest:.2f}s "
            f"(mean {sum(_started) / len(_started):.2f}s)"
        )
