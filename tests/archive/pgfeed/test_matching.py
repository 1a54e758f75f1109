"""The deduplication rule (logbot.archive.postgres.matching), without a database."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from logbot.archive.postgres.events import parse_event
from logbot.archive.postgres.matching import Candidate, decide
from tests.archive.pgfeed.lines import line


def ev(t: int, text: str = "lol", **kw: object):  # type: ignore[no-untyped-def]
    e = parse_event(line(t, text, **kw))
    assert e is not None
    return e


def cand(e, ident: int, t: int | None = None, has_msgid: bool = False) -> Candidate:  # type: ignore[no-untyped-def]
    return Candidate(
        ident, e.match_key, e.time_ms if t is None else e.time_ms - e.time_ms + t, has_msgid
    )


def test_the_same_line_of_another_bot_within_the_window_matches() -> None:
    mine = ev(1000)
    d = decide([mine], {}, [Candidate(7, mine.match_key, mine.time_ms - 2500, False)], 3000)
    assert d.matched == [(mine, 7)] and d.new == []


def test_outside_the_window_is_a_new_event() -> None:
    mine = ev(1000)
    d = decide([mine], {}, [Candidate(7, mine.match_key, mine.time_ms - 3001, False)], 3000)
    assert d.new == [mine] and d.matched == []


def test_a_repeated_line_matches_one_to_one_in_order() -> None:
    a, b = ev(1000), ev(1500)
    pool = [
        Candidate(1, a.match_key, a.time_ms + 100, False),
        Candidate(2, a.match_key, b.time_ms + 100, False),
    ]
    d = decide([a, b], {}, pool, 3000)
    assert [(e.time_ms, i) for e, i in d.matched] == [(a.time_ms, 1), (b.time_ms, 2)]


def test_three_repeats_against_two_stored_leave_one_new() -> None:
    events = [ev(1000), ev(1100), ev(1200)]
    pool = [
        Candidate(1, events[0].match_key, events[0].time_ms, False),
        Candidate(2, events[0].match_key, events[1].time_ms, False),
    ]
    d = decide(events, {}, pool, 3000)
    assert len(d.matched) == 2 and len(d.new) == 1


def test_msgid_decides_and_two_msgids_never_match() -> None:
    a = ev(1000, msgid="m1")
    assert decide([a], {("net", "m1"): 9}, [], 3000).matched == [(a, 9)]
    # another msgid on the stored event: not the same event, however alike
    d = decide([a], {}, [Candidate(5, a.match_key, a.time_ms, True)], 3000)
    assert d.new == [a]
    # a stored copy without msgid (a bot without message-tags) is matched by content
    d = decide([a], {}, [Candidate(5, a.match_key, a.time_ms, False)], 3000)
    assert d.matched == [(a, 5)]


def test_bot_markers_are_never_merged() -> None:
    m = ev(1000, "connected", kind="connect", nick="bot")
    d = decide([m], {}, [Candidate(3, m.match_key, m.time_ms, False)], 3000)
    assert d.new == [m]


def test_different_text_nick_channel_or_type_do_not_match() -> None:
    base = ev(1000)
    for other in (
        ev(1000, "LOL"),
        ev(1000, nick="bob"),
        ev(1000, channel="#other"),
        ev(1000, kind="notice"),
    ):
        assert other.match_key != base.match_key
    # the nick and channel compare folded (RFC 1459), as IRC does
    assert ev(1000, nick="ALICE").match_key == base.match_key
    assert ev(1000, channel="#CHAN").match_key == base.match_key


@given(st.lists(st.integers(0, 20000), min_size=1, max_size=30), st.integers(-2000, 2000))
def test_two_bots_logging_the_same_lines_make_each_event_once(times: list[int], skew: int) -> None:
    """Bot B's copies of bot A's lines (clock off by ``skew`` ms, within the window)
    all match, one to one, whatever the repeats."""
    times.sort()
    a = [ev(t) for t in times]
    stored = [Candidate(i, e.match_key, e.time_ms, False) for i, e in enumerate(a)]
    b = [ev(t + skew) for t in times]
    d = decide(b, {}, stored, 3000)
    assert d.new == [] and len({i for _, i in d.matched}) == len(times)
