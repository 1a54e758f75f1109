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
