from __future__ import annotations

import pytest

from logbot.irc.keepalive import Keepalive


def test_idle_before_start() -> None:
    keepalive = Keepalive()
    assert keepalive.poll(1e9) is None
    assert keepalive.next_deadline() is None


def test_ping_once_then_dead() -> None:
    keepalive = Keepalive(interval=10.0, timeout=30.0)
    keepalive.data_received(0.0)
    assert keepalive.next_deadline() == 10.0
    assert keepalive.poll(9.9) is None
    assert keepalive.poll(10.0) == "ping"
    assert keepalive.poll(20.0) is None  # only one PING per quiet period
    assert keepalive.next_deadline() == 30.0
    assert keepalive.poll(30.0) == "dead"
    assert keepalive.silent_for(30.0) == 30.0


def test_any_data_resets() -> None:
    keepalive = Keepalive(interval=10.0, timeout=30.0)
    keepalive.data_received(0.0)
    assert keepalive.poll(10.0) == "ping"
    keepalive.data_received(25.0)
    assert keepalive.poll(34.0) is None
    assert keepalive.poll(35.0) == "ping"


def test_bad_limits() -> None:
    with pytest.raises(ValueError):
        Keepalive(interval=30.0, timeout=30.0)


@pytest.mark.parametrize("last", [0.1, 0.7, 1.3, 2.9, 1_790_000_000.3])
@pytest.mark.parametrize("interval, timeout", [(0.1, 0.3), (0.2, 0.7), (60.0, 120.0)])
def test_poll_answers_at_the_deadline_it_names(
    last: float, interval: float, timeout: float
) -> None:
    """``next_deadline`` and ``poll`` compare the same sum, so a wake-up at the deadline is
    never a hair early (0.7 + 0.1 - 0.7 < 0.1), which would ask for the same time again."""
    keepalive = Keepalive(interval, timeout)
    keepalive.data_received(last)
    deadline = keepalive.next_deadline()
    assert deadline is not None and keepalive.poll(deadline) == "ping"
    deadline = keepalive.next_deadline()
    assert deadline is not None and keepalive.poll(deadline) == "dead"
