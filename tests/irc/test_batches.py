"""IRCv3 batches in the core: history lines become events and nothing else."""

from __future__ import annotations

import pytest

from logbot.irc import events as ev
from logbot.irc.batches import MAX_BATCH_SECONDS, MAX_OPEN_BATCHES, Batches
from tests.irc.test_core import feed, registered, sent

T = "@time=2026-12-06T05:00:00.000Z"


def joined_bot() -> object:
    conn = registered()
    feed(conn, ":bot!~b@bot.host JOIN #h", ":srv 353 bot = #h :bot alice", ":srv 366 bot #h :End")
    return conn


def test_a_history_batch_gives_start_lines_end_in_order() -> None:
    conn = joined_bot()
    events = feed(
        conn,
        ":srv BATCH +1 chathistory #h",
        f"{T};batch=1;msgid=a :alice!a@h PRIVMSG #h :old line",
        f"{T};batch=1 :alice!a@h NOTICE #h :old notice",
        f"{T};batch=1 :alice!a@h PRIVMSG #h :\x01ACTION waved\x01",
        ":srv BATCH -1",
        ":alice!a@h PRIVMSG #h :live",
    )
    kinds = [type(e).__name__ for e in events]
    assert kinds == ["BatchStarted", "Privmsg", "Notice", "Action", "BatchEnded", "Privmsg"]
    start, end = events[0], events[4]
    assert isinstance(start, ev.BatchStarted) and start.history and start.params == ("#h",)
    assert isinstance(end, ev.BatchEnded) and end.ref == "1" and not end.forced
    assert events[1].tags["batch"] == "1" and events[1].msgid == "a"  # type: ignore[attr-defined]
    assert "batch" not in events[5].tags


def test_replayed_lines_change_no_state_and_get_no_answer() -> None:
    conn = joined_bot()
    state = conn.state  # type: ignore[attr-defined]
    feed(
        conn,
        ":srv BATCH +z znc.in/playback #h",
        "@batch=z :carol!c@h JOIN #h",
        "@batch=z :alice!a@h NICK alicia",
        "@batch=z :alice!a@h PART #h",
        "@batch=z :mallory!m@h PRIVMSG bot :\x01VERSION\x01",
        "@batch=z :srv BATCH +n netsplit a b",  # nested in history: history too
        "@batch=n :alice!a@h QUIT :split",
        ":srv BATCH -n",
        ":srv BATCH -z",
    )
    assert sorted(state.channels["#h"].members) == ["alice", "bot"]
    assert state.user("alice") is not None and state.user("carol") is None
    assert sent(conn) == []  # no CTCP VERSION reply to history


def test_other_batches_are_not_history() -> None:
    conn = joined_bot()
    events = feed(
        conn,
        ":srv BATCH +s netsplit a b",
        "@batch=s :alice!a@h QUIT :a b",
        ":srv BATCH -s",
    )
    assert [type(e).__name__ for e in events] == ["BatchStarted", "Quit", "BatchEnded"]
    assert not events[0].history  # type: ignore[attr-defined]
    assert "alice" not in conn.state.channels["#h"].members  # type: ignore[attr-defined]


def test_open_batches_are_bounded_the_oldest_ends_forced() -> None:
    conn = joined_bot()
    lines = [f":srv BATCH +b{i} chathistory #h" for i in range(MAX_OPEN_BATCHES + 1)]
    events = feed(conn, *lines)
    forced = [e for e in events if isinstance(e, ev.BatchEnded)]
    assert [(e.ref, e.forced) for e in forced] == [("b0", True)]
    assert len(conn.batches.open) == MAX_OPEN_BATCHES  # type: ignore[attr-defined]
    # A line of the forgotten batch is a live line again.
    (line,) = feed(conn, "@batch=b0 :alice!a@h PRIVMSG #h :late")
    assert isinstance(line, ev.Privmsg)


def test_malformed_batch_lines_are_ignored() -> None:
    conn = joined_bot()
    assert feed(conn, ":srv BATCH", ":srv BATCH +", ":srv BATCH +x", ":srv BATCH -nope") == []
    assert feed(conn, ":srv BATCH x chathistory") == []


def test_batches_class() -> None:
    b = Batches(limit=2)
    first, evicted = b.start("1", "CHATHISTORY", ("#a",), {})
    assert first.history and evicted is None  # the type is case-insensitive
    assert b.is_history({"batch": "1"}) and not b.is_history({"batch": "2"})
    b.start("1", "other", (), {})  # the same reference again replaces it
    assert not b.is_history({"batch": "1"})
    assert [x.ref for x in b.clear()] == ["1"] and not b.open


# -- a batch that never ends: overdue ---------------------------------------------------


def overdue(conn: object, now: float) -> list[ev.BatchOverdue]:
    """The overdue reports the timers make at ``now`` (as the adapter's timer runs them)."""
    conn.data_to_send(now)  # type: ignore[attr-defined]
    return [e for e in conn.pop_events() if isinstance(e, ev.BatchOverdue)]  # type: ignore[attr-defined]


def test_a_batch_open_too_long_is_reported_overdue_and_stays_open() -> None:
    conn = joined_bot()
    feed(conn, ":srv BATCH +s netsplit irc.hub irc.leaf", now=10.0)
    assert conn.next_wakeup(10.0) <= 10.0 + MAX_BATCH_SECONDS  # type: ignore[attr-defined]
    assert overdue(conn, 10.0 + MAX_BATCH_SECONDS - 0.01) == []
    (late,) = overdue(conn, 10.0 + MAX_BATCH_SECONDS)
    assert (late.ref, late.type, late.params, late.history) == (
        "s",
        "netsplit",
        ("irc.hub", "irc.leaf"),
        False,
    )
    assert late.open_for == MAX_BATCH_SECONDS
    assert overdue(conn, 10.0 + MAX_BATCH_SECONDS + 1) == []  # not again at once
    # Still open: its lines still carry it, and it is due again an interval later.
    (quit_,) = feed(conn, "@batch=s :alice!a@h QUIT :irc.hub irc.leaf", now=80.0)
    assert quit_.tags["batch"] == "s"
    (again,) = overdue(conn, 10.0 + 2 * MAX_BATCH_SECONDS)
    assert again.open_for == 2 * MAX_BATCH_SECONDS


def test_an_overdue_history_batch_keeps_its_lines_history() -> None:
    """The bound writes what was collected; it must not make history live lines."""
    conn = joined_bot()
    feed(conn, ":srv BATCH +h chathistory #h", now=0.0)
    (late,) = overdue(conn, MAX_BATCH_SECONDS)
    assert late.history
    feed(conn, "@batch=h :carol!c@h JOIN #h", now=MAX_BATCH_SECONDS + 1)
    assert "carol" not in conn.state.channels["#h"].members  # type: ignore[attr-defined]


def test_an_ended_batch_is_never_overdue() -> None:
    conn = joined_bot()
    feed(conn, ":srv BATCH +s netsplit a b", ":srv BATCH -s", now=0.0)
    assert conn.batches.next_due() is None  # type: ignore[attr-defined]
    assert overdue(conn, 10 * MAX_BATCH_SECONDS) == []


def test_batches_deadlines() -> None:
    b = Batches(max_seconds=5.0)
    assert b.next_due() is None and b.overdue(100.0) == []
    b.start("1", "netsplit", ("a", "b"), {}, now=1.0)
    b.start("2", "netjoin", ("a", "b"), {}, now=3.0)
    assert b.next_due() == 6.0
    assert [x.ref for x in b.overdue(7.0)] == ["1"] and b.next_due() == 8.0
    assert [x.ref for x in b.overdue(12.0)] == ["1", "2"]  # opened first, first
    with pytest.raises(ValueError):
        Batches(max_seconds=0)
