"""Replayed lines against the log: msgid first, else content within the slack."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from logbot.logs.dedupe import DEDUPE_SLACK, new_lines
from logbot.logs.readback import Logged, content_key
from logbot.logs.record import LogRecord

T0 = datetime(2026, 12, 6, 5, 0, tzinfo=UTC)


def rec(text: str, second: float, nick: str = "alice", msgid: str | None = None) -> LogRecord:
    return LogRecord(T0 + timedelta(seconds=second), "server", "message", "n", "#h", nick,
                     text=text, msgid=msgid)  # fmt: skip


def logged(r: LogRecord, fmt: str = "jsonl", *, msgid: bool = True) -> Logged:
    return Logged(r.time, content_key(r, fmt), r.msgid if msgid else None, False)


def key(r: LogRecord) -> tuple[str, ...]:
    return content_key(r, "jsonl")


def test_lines_already_logged_are_dropped_new_ones_kept_in_time_order() -> None:
    old = [rec("a", 0), rec("b", 1)]
    replay = [rec("c", 3), rec("b", 1.9), rec("a", 0)]  # b: a second-rounded replay of b
    assert [r.text for r in new_lines(replay, [logged(r) for r in old], key)] == ["c"]


def test_the_slack_bounds_a_content_match() -> None:
    old = [rec("ok", 0)]
    far = rec("ok", DEDUPE_SLACK + 0.5)
    assert new_lines([far], [logged(r) for r in old], key) == [far]


def test_a_multiset_two_identical_lines_one_logged_gives_one() -> None:
    old = [rec("ok", 0)]
    replay = [rec("ok", 0), rec("ok", 0.5)]
    assert len(new_lines(replay, [logged(r) for r in old], key)) == 1


def test_msgid_decides_where_both_have_one() -> None:
    old = [rec("ok", 0, msgid="m1")]
    same, other = rec("ok", 0.1, msgid="m1"), rec("ok", 0.2, msgid="m2")
    assert new_lines([same, other], [logged(r) for r in old], key) == [other]
    moved = rec("ok", 30, msgid="m1")  # the same message, whatever its time says
    assert new_lines([moved], [logged(r) for r in old], key) == []


def test_without_a_msgid_on_one_side_content_decides() -> None:
    old = [rec("ok", 0, msgid="m1")]
    assert new_lines([rec("ok", 0.3)], [logged(r) for r in old], key) == []  # ZNC: no msgid
    old = [rec("ok", 0)]
    assert new_lines([rec("ok", 0.3, msgid="x")], [logged(r) for r in old], key) == []


def test_markers_in_the_log_match_nothing() -> None:
    marker = Logged(T0, ("message", "alice", "hi"), None, True)
    r = rec("hi", 0)
    assert new_lines([r], [marker], key) == [r]


def test_text_and_jsonl_keys_are_one_key() -> None:
    """A channel whose formats changed (or whose text layout did) compares alike: the
    text line is read back into the record's type, nick and text (tests/logs/
    test_readback.py reads them from files)."""
    r = rec("line\nwith a newline", 0)
    assert content_key(r, "text") == content_key(r, "jsonl") == ("message", "alice", r.text)


def test_a_time_without_seconds_matches_its_whole_minute() -> None:
    """irssi's 14:03 stands for 14:03:00 to 14:03:59: a replayed line of 14:03:45 is
    the logged one, one of the next minute past the slack is not."""
    minute = Logged(T0, key(rec("hi", 0)), None, False, span=60)
    assert new_lines([rec("hi", 45)], [minute], key) == []
    for second in (60 + DEDUPE_SLACK + 0.5, -DEDUPE_SLACK - 0.5):
        other = rec("hi", second)
        assert new_lines([other], [minute], key) == [other]
    exact = Logged(T0, key(rec("hi", 0)), None, False)
    assert new_lines([rec("hi", 45)], [exact], key) == [rec("hi", 45)]


@given(
    st.lists(st.tuples(st.sampled_from("abc"), st.integers(0, 20)), max_size=30),
    st.lists(st.tuples(st.sampled_from("abc"), st.integers(0, 20)), max_size=30),
)
def test_replaying_the_log_itself_adds_nothing_and_new_lines_are_never_lost(
    have: list[tuple[str, int]], extra: list[tuple[str, int]]
) -> None:
    old = [rec(t, s) for t, s in have]
    assert new_lines(old, [logged(r) for r in old], key) == []
    added = [rec(t, s + 100) for t, s in extra]  # far from anything logged
    out = new_lines(old + added, [logged(r) for r in old], key)
    assert sorted((r.text, r.time) for r in out) == sorted((r.text, r.time) for r in added)
