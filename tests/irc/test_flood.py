from __future__ import annotations

import pytest

from logbot.irc.flood import FloodControl, TokenBucket


def fill(flood: FloodControl, count: int) -> None:
    for i in range(count):
        flood.push(f"PRIVMSG #c :{i}")


def test_default_burst_then_one_per_second() -> None:
    flood = FloodControl()
    fill(flood, 10)
    assert len(flood.pop_ready(100.0)) == 4
    assert flood.queue_length == 6
    assert flood.pop_ready(100.5) == []
    assert flood.next_ready_time(100.5) == pytest.approx(101.0)
    assert flood.pop_ready(101.0) == ["PRIVMSG #c :4"]
    assert len(flood.pop_ready(103.0)) == 2
    assert flood.next_ready_time(103.0) == pytest.approx(104.0)


def test_idle_bucket_refills_only_to_burst() -> None:
    flood = FloodControl(burst=2, rate=1.0)
    fill(flood, 5)
    assert len(flood.pop_ready(0.0)) == 2
    assert len(flood.pop_ready(1000.0)) == 2


def test_priority_lane_jumps_queue_and_ignores_empty_bucket() -> None:
    flood = FloodControl(burst=1, rate=1.0)
    fill(flood, 3)
    flood.push("PONG :x")
    flood.push("@label=1 CAP END")
    assert flood.pop_ready(0.0) == ["PONG :x", "@label=1 CAP END"]  # bucket emptied
    # The second charge finds the bucket at its floor (1 - burst = 0): the debt stays
    # within the refill time, 1 s, instead of 2 s (tests/irc/test_flood_queue.py).
    assert flood.pop_ready(0.5) == []
    assert flood.next_ready_time(0.5) == pytest.approx(1.0)
    assert flood.pop_ready(1.0) == ["PRIVMSG #c :0"]


def test_priority_is_ready_now() -> None:
    flood = FloodControl()
    assert flood.next_ready_time(5.0) is None
    flood.push("QUIT :bye")
    assert flood.next_ready_time(5.0) == 5.0


def test_disabled_releases_everything() -> None:
    flood = FloodControl(enabled=False)
    fill(flood, 50)
    assert flood.next_ready_time(0.0) == 0.0
    assert len(flood.pop_ready(0.0)) == 50
    assert len(flood) == 0


def test_custom_rate() -> None:
    flood = FloodControl(burst=1, rate=4.0)
    fill(flood, 3)
    assert len(flood.pop_ready(0.0)) == 1
    assert flood.pop_ready(0.2) == []
    assert len(flood.pop_ready(0.25)) == 1
    assert len(flood.pop_ready(0.5)) == 1


def test_clear() -> None:
    flood = FloodControl()
    fill(flood, 3)
    flood.clear()
    assert flood.pop_ready(0.0) == []


def test_bucket_rejects_nonsense_and_ignores_time_going_back() -> None:
    with pytest.raises(ValueError):
        TokenBucket(0, 1)
    bucket = TokenBucket(1, 1.0)
    assert bucket.try_take(10.0)
    assert not bucket.try_take(5.0)
    assert bucket.try_take(11.0)


@pytest.mark.parametrize("rate", [1.0, 3.0, 7.0, 10.0, 15.0, 20.0])
def test_a_token_is_there_at_the_time_ready_at_names(rate: float) -> None:
    """Float rounding may leave the bucket a hair short of a token at the time ready_at
    gave (at rate 10, t=0.6 held 0.9999999999999998): the caller would ask again for the
    same time, for ever on a fake clock."""
    bucket = TokenBucket(4, rate)
    now = 0.0
    for _ in range(4):
        assert bucket.try_take(now)
    for _ in range(300):
        now = bucket.ready_at(now)
        assert bucket.try_take(now), now
