"""Merged gaps: presence from markers, the uncovered parts of a gap, the rewritten
line (pure), checked against a pointwise oracle; then through the reads."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from logbot.archive.model import Query
from logbot.archive.postgres import gaps
from logbot.archive.postgres.gaps import Marker, describe, merged_record, presence, uncovered
from logbot.archive.postgres.reads import PgArchive
from tests.archive.postgres.rows import add_event, ms, record, set_last_ms


@pytest.fixture(autouse=True)
def _exact_clocks(monkeypatch: pytest.MonkeyPatch) -> None:
    """The tests below lay spans edge to edge, to the millisecond: no clock slack
    (which has its own test, test_another_bot_s_presence_gets_the_clocks_slack)."""
    monkeypatch.setattr(gaps, "CLOCK_SLACK_MS", 0)


# -- pure ----------------------------------------------------------------------------------


def test_another_bot_s_presence_gets_the_clocks_slack() -> None:
    """b's connect line came 1 ms after a's last line (two clocks, or b's JOIN logged
    before its connect line): with the slack that is no gap; a real one still is."""
    present = presence([Marker("b", "connect", 10_001)], {"b": 60_000})
    gap = Marker("a", "gap", 50_000, gap_from_ms=10_000)
    assert uncovered(gap, present, slack_ms=0) == [(10_000, 10_001)]
    assert uncovered(gap, present, slack_ms=500) == []
    late = presence([Marker("b", "connect", 20_000)], {"b": 60_000})
    assert uncovered(gap, late, slack_ms=500) == [(10_000, 19_500)]


def test_presence_from_connect_to_disconnect() -> None:
    markers = [
        Marker("b", "connect", 10),
        Marker("b", "disconnect", 20),
        Marker("b", "connect", 30),
        Marker("b", "opted_out", 35),
        Marker("b", "recovered", 36),
    ]
    assert presence(markers, {"b": 50}) == {"b": [(10, 20), (30, 50)]}


def test_a_gap_ends_presence_at_its_start_and_starts_it_again_when_back() -> None:
    markers = [Marker("b", "connect", 10), Marker("b", "gap", 40, gap_from_ms=25)]
    assert presence(markers, {"b": 60}) == {"b": [(10, 25), (40, 60)]}
    # without a last line known, presence ends at the last marker
    assert presence(markers, {}) == {"b": [(10, 25)]}


def test_markers_are_taken_in_time_order_whatever_their_order_given() -> None:
    markers = [Marker("b", "disconnect", 20, id=2), Marker("b", "connect", 10, id=1)]
    assert presence(markers, {"b": 99}) == {"b": [(10, 20)]}


def test_uncovered() -> None:
    present = {"a": [(0, 100)], "b": [(10, 20), (30, 40)], "c": [(35, 50)]}
    gap = Marker("a", "gap", 60, gap_from_ms=5)
    assert uncovered(gap, present) == [(5, 10), (20, 30), (50, 60)]  # a's own presence: no
    assert uncovered(Marker("a", "gap", 18, gap_from_ms=12), present) == []
    assert uncovered(Marker("x", "gap", 40, gap_from_ms=10), present) == []
    assert uncovered(Marker("a", "gap", 9, gap_from_ms=1), present) == [(1, 9)]


def test_a_gap_of_no_length() -> None:
    present = {"b": [(10, 20)]}
    assert uncovered(Marker("a", "gap", 15, gap_from_ms=15), present) == []
    assert uncovered(Marker("a", "gap", 25, gap_from_ms=None), present) == [(25, 25)]


def test_merged_record() -> None:
    rec = {"time": "2026-01-02T11:00:00.000+01:00", "type": "gap", "text": "missed"}
    gap = Marker("a", "gap", 60_000, gap_from_ms=0)
    assert merged_record(rec, gap, {"b": [(0, 60_000)]}) is None
    assert merged_record(rec, gap, {"b": [(70_000, 80_000)]}) is rec
    shown = merged_record(rec, gap, {"b": [(10_000, 50_000)]})
    assert shown is not None and shown["time"] == rec["time"] and rec["text"] == "missed"
    assert shown["text"] == (
        "events between 1970-01-01T01:00:00.000+01:00 and 1970-01-01T01:00:10.000+01:00"
        " and between 1970-01-01T01:00:50.000+01:00 and 1970-01-01T01:01:00.000+01:00"
        " were not seen by any bot"
    )


def test_describe() -> None:
    assert describe([(0, 1000)]) == (
        "events between 1970-01-01T00:00:00.000+00:00 and 1970-01-01T00:00:01.000+00:00"
        " were not seen by any bot"
    )
    three = describe([(0, 1), (2, 3), (4, 5)], datetime.UTC)
    assert three.count("between") == 3 and ", and between" in three


BOTS = ("a", "b", "c")
TIME = st.integers(0, 60)


@st.composite
def markers(draw: Any) -> list[Marker]:
    out = []
    for n in range(draw(st.integers(0, 12))):
        kind = draw(st.sampled_from(("connect", "disconnect", "gap", "recovered", "opted_out")))
        at = draw(TIME)
        start = draw(st.one_of(st.none(), TIME)) if kind == "gap" else None
        out.append(Marker(draw(st.sampled_from(BOTS)), kind, at, start, id=n))
    return out


def _present_at(own: list[Marker], x: int, last: int | None) -> bool:
    """The oracle: present at ``x`` if some on-marker at or before ``x`` is not yet
    followed (in order) by a disconnect or a gap's start at or before ``x``."""
    own = sorted(own, key=lambda m: (m.time_ms, m.id))
    for i, on in enumerate(own):
        if on.type not in ("connect", "gap", "recovered") or on.time_ms > x:
            continue
        end = on.time_ms if last is None else max(on.time_ms, last)
        for off in own[i + 1 :]:
            if off.type == "disconnect":
                end = off.time_ms
                break
            if off.type == "gap":
                end = off.time_ms if off.gap_from_ms is None else min(off.time_ms, off.gap_from_ms)
                break
        if on.time_ms <= x < end:
            return True
    return False


@settings(max_examples=300, deadline=None)
@given(markers(), st.sampled_from(BOTS), TIME, TIME, st.dictionaries(st.sampled_from(BOTS), TIME))
def test_uncovered_agrees_with_the_pointwise_oracle(
    ms_: list[Marker], bot: str, start: int, end: int, last: dict[str, int]
) -> None:
    start, end = min(start, end), max(start, end)
    gap = Marker(bot, "gap", end, start, id=99)
    present = presence(ms_, last)
    got = uncovered(gap, present)

    def seen(x: int) -> bool:
        return any(
            _present_at([m for m in ms_ if m.instance == other], x, last.get(other))
            for other in BOTS
            if other != bot
        )

    if start == end:
        assert got == ([] if seen(end) else [(end, end)])
        return
    expected: list[tuple[int, int]] = []
    for x in range(start, end):
        if seen(x):
            continue
        if expected and expected[-1][1] == x:
            expected[-1] = (expected[-1][0], x + 1)
        else:
            expected.append((x, x + 1))
    assert got == expected
    # the gap's own bot never covers it: its markers change nothing
    mine = [m for m in ms_ if m.instance != bot]
    assert uncovered(gap, presence(mine, last)) == got


@settings(max_examples=200, deadline=None)
@given(markers(), st.dictionaries(st.sampled_from(BOTS), TIME))
def test_presence_spans_are_sorted_disjoint_and_not_empty(
    ms_: list[Marker], last: dict[str, int]
) -> None:
    for spans in presence(ms_, last).values():
        assert all(a < b for a, b in spans)
        assert all(spans[i][1] < spans[i + 1][0] for i in range(len(spans) - 1))


# -- through the reads ---------------------------------------------------------------------

DAY = "2026-01-02"


def _gap(start: str, back: str, instance: str = "bot1") -> dict[str, Any]:
    return record(f"{DAY}T{back}", f"missed the channel from {start}", type="gap",
                  nick=None, target=f"{DAY}T{start}+00:00")  # fmt: skip


def _two_bots(pg: Any) -> None:
    """bot1 and bot2 in #chan from 09:00; bot2 away 10:10-10:20 (a gap of its own)."""
    for bot in ("bot1", "bot2"):
        add_event(pg, record(f"{DAY}T09:00:00", "connected", type="connect", nick=None),
                  instance=bot)  # fmt: skip
    add_event(pg, record(f"{DAY}T09:30:00", "hello"), instance="bot1")
    add_event(pg, _gap("10:10:00", "10:20:00"), instance="bot2")
    add_event(pg, record(f"{DAY}T12:00:00", "bye"), instance="bot2")
    set_last_ms(pg, "bot1", ms(f"{DAY}T12:00:00"))
    set_last_ms(pg, "bot2", ms(f"{DAY}T12:00:00"))


def test_a_covered_gap_is_left_out(pg: Any, archive: PgArchive) -> None:
    _two_bots(pg)
    add_event(pg, _gap("10:00:00", "10:05:00"), instance="bot1")  # bot2 was there
    lines = archive.day_lines("net", "#chan", DAY)
    # seq 4 (bot1's gap) and 5 (bot2's, 10:10-10:20: bot1 was back) are left out
    assert [(line.seq, line.record["type"]) for line in lines] == [
        (1, "connect"), (2, "connect"), (3, "message"), (6, "message"),
    ]  # fmt: skip
    assert archive.line("net", "#chan", DAY, 4) is None
    assert archive.line("net", "#chan", DAY, 6) == lines[3]
    assert archive.days("net", "#chan") == [(DAY, 6)]  # the feed's count: gap lines in it
    assert archive.search(Query(types=("gap",))) == []
    assert archive.count(Query(types=("gap",))) == 0
    assert archive.count(Query(words="missed")) == 0
    assert archive.search(Query(regex="missed")) == []
    # a gap of bot1 while bot2 was away: nobody saw it, shown as it is; and bot2's
    # gap now has a part nobody saw
    add_event(pg, _gap("10:12:00", "10:18:00"), instance="bot1")
    lines = archive.day_lines("net", "#chan", DAY)
    assert [(line.seq, line.record["type"]) for line in lines][3:] == [
        (5, "gap"), (6, "gap"), (7, "message"),
    ]  # fmt: skip
    assert lines[3].record["text"] == "missed the channel from 10:12:00"
    assert lines[4].record["text"] == (
        "events between 2026-01-02T10:12:00.000+00:00 and 2026-01-02T10:18:00.000+00:00"
        " were not seen by any bot"
    )
    hits = archive.search(Query(words="missed"))
    assert [(h.seq, h.record["text"]) for h in hits] == [
        (6, lines[4].record["text"]), (5, lines[3].record["text"])
    ]  # fmt: skip
    assert [h.seq for h in archive.search(Query(regex="missed"))] == [6, 5]
    assert archive.count(Query(words="missed")) == archive.count(Query(regex="missed")) == 2
    assert [h.seq for h in archive.search(Query(words="missed", offset=1))] == [5]


def test_a_partly_covered_gap_names_what_nobody_saw(pg: Any, archive: PgArchive) -> None:
    _two_bots(pg)
    add_event(pg, _gap("10:00:00", "10:30:00"), instance="bot1")
    lines = archive.day_lines("net", "#chan", DAY)
    gaps = [line for line in lines if line.record["type"] == "gap"]
    text = gaps[1].record["text"]
    assert text == (
        "events between 2026-01-02T10:10:00.000+00:00 and 2026-01-02T10:20:00.000+00:00"
        " were not seen by any bot"
    )
    assert gaps[1].record["time"] == f"{DAY}T10:30:00.000+00:00"
    (hit,) = archive.search(Query(types=("gap",), nick=None, limit=1))
    assert hit.record["text"] == text and hit.seq == gaps[1].seq
    assert archive.line("net", "#chan", DAY, gaps[1].seq) == gaps[1]


def test_presence_ends_at_a_disconnect_and_at_the_last_line(pg: Any, archive: PgArchive) -> None:
    _two_bots(pg)
    add_event(pg, record(f"{DAY}T11:00:00", "quit", type="disconnect", nick=None),
              instance="bot2")  # fmt: skip
    add_event(pg, _gap("11:10:00", "11:20:00"), instance="bot1")  # nobody: shown whole
    set_last_ms(pg, "bot1", ms(f"{DAY}T13:00:00"))
    add_event(pg, record(f"{DAY}T11:30:00", "back", type="connect", nick=None), instance="bot2")
    set_last_ms(pg, "bot2", ms(f"{DAY}T11:40:00"))
    add_event(pg, _gap("11:35:00", "11:50:00"), instance="bot1")  # bot2 until 11:40
    gaps = [
        line.record["text"]
        for line in archive.day_lines("net", "#chan", DAY)
        if line.record["type"] == "gap"
    ]
    assert len(gaps) == 2  # bot2's of 10:20 is left out: bot1 was there
    assert gaps[0] == "missed the channel from 11:10:00"
    assert gaps[1].startswith("events between 2026-01-02T11:40:00.000+00:00 and 2026-01-02T11:50")


def test_a_gap_in_another_channel_is_not_covered_there(pg: Any, archive: PgArchive) -> None:
    _two_bots(pg)
    add_event(pg, _gap("10:00:00", "10:05:00") | {"channel": "#other"}, instance="bot1")
    lines = archive.day_lines("net", "#other", DAY)
    assert [line.record["text"] for line in lines] == ["missed the channel from 10:00:00"]


def test_context_around_a_hit_is_the_merged_view(pg: Any, archive: PgArchive) -> None:
    _two_bots(pg)
    add_event(pg, _gap("10:00:00", "10:05:00"), instance="bot1")
    (hit,) = archive.search(Query(words="bye"), context=3)
    assert hit.seq == 6
    assert [line.seq for line in hit.context] == [3, 6]  # 4 and 5: covered gaps
