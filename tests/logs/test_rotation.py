"""The pure rotation rules: local dates, the end of a day across DST, size runs."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from logbot.logs.rotation import (
    NEVER,
    Seen,
    day_end,
    is_log_file,
    local_date,
    retention_cutoff,
    size_chunks,
    zone,
)

BERLIN = ZoneInfo("Europe/Berlin")
MICRO = timedelta(microseconds=1)


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


# -- zones and dates ------------------------------------------------------------------------


def test_zone_is_built_once_and_utc_is_the_fast_one() -> None:
    assert zone("Europe/Berlin") is zone("Europe/Berlin")
    assert zone("UTC") is UTC
    with pytest.raises(KeyError):  # ZoneInfoNotFoundError
        zone("Mars/Olympus_Mons")


def test_local_date_converts_and_takes_naive_as_utc() -> None:
    assert local_date(utc(2026, 1, 1, 23, 30), BERLIN) == date(2026, 1, 2)
    assert local_date(utc(2026, 1, 1, 22, 59, 59), BERLIN) == date(2026, 1, 1)
    assert local_date(datetime(2026, 1, 1, 23, 30), UTC) == date(2026, 1, 1)
    assert local_date(datetime(2026, 1, 1, 23, 30), BERLIN) == date(2026, 1, 2)


def test_day_end_utc() -> None:
    assert day_end(date(2026, 1, 1), UTC) == utc(2026, 1, 2)
    assert day_end(date(2026, 12, 31), UTC) == utc(2027, 1, 1)
    assert day_end(date(2026, 1, 1), UTC).tzinfo is UTC


@pytest.mark.parametrize(
    ("day", "end"),
    [
        (date(2026, 3, 28), utc(2026, 3, 28, 23)),  # winter time: +01:00
        (date(2026, 3, 29), utc(2026, 3, 29, 22)),  # 02:00 -> 03:00: a 23-hour day, then +02:00
        (date(2026, 10, 24), utc(2026, 10, 24, 22)),
        (date(2026, 10, 25), utc(2026, 10, 25, 23)),  # 03:00 -> 02:00: a 25-hour day
    ],
)
def test_day_end_berlin_across_dst(day: date, end: datetime) -> None:
    assert day_end(day, BERLIN) == end
    assert local_date(end - MICRO, BERLIN) == day
    assert local_date(end, BERLIN) == day + timedelta(days=1)


# Zones whose clocks jump at local midnight (or did), where "00:00" may not exist or
# come twice: the end of the day must still be the first instant of the next date.
ODD_ZONES = [
    "Europe/Berlin",
    "America/Havana",
    "America/Santiago",
    "America/Sao_Paulo",
    "Asia/Beirut",
    "America/Asuncion",
    "Pacific/Apia",
    "Australia/Lord_Howe",
    "UTC",
    "Asia/Kolkata",
    "America/St_Johns",
]


@given(
    st.sampled_from(ODD_ZONES), st.dates(min_value=date(1990, 1, 1), max_value=date(2037, 12, 31))
)
def test_day_end_is_the_first_instant_of_a_later_date(name: str, day: date) -> None:
    tz = ZoneInfo(name)
    end = day_end(day, tz)
    assert local_date(end, tz) > day
    assert local_date(end - MICRO, tz) <= day


def test_day_end_where_midnight_is_skipped() -> None:
    # Havana springs forward at 00:00 -> 01:00 (2026-03-08): that day has no midnight.
    havana = ZoneInfo("America/Havana")
    end = day_end(date(2026, 3, 7), havana)
    assert local_date(end - MICRO, havana) == date(2026, 3, 7)
    assert end.astimezone(havana).replace(tzinfo=None) == datetime(2026, 3, 8, 1, 0)


# -- the largest date seen ------------------------------------------------------------------


def test_seen_never_goes_back() -> None:
    seen = Seen()
    assert seen.date is None
    assert seen.place(date(2026, 1, 2)) == date(2026, 1, 2)
    assert seen.place(date(2026, 1, 1)) == date(2026, 1, 2)  # a late stamp: newer file
    assert seen.place(date(2026, 1, 3)) == date(2026, 1, 3)
    assert seen.date == date(2026, 1, 3)


def test_never_is_before_any_record() -> None:
    assert utc(1, 1, 1) >= NEVER
    assert utc(2026, 1, 1) >= NEVER


# -- size runs ------------------------------------------------------------------------------


def test_size_chunks_without_a_limit_is_one_run() -> None:
    assert size_chunks(10_000, [10, 20, 30], None) == [(False, 0, 3)]
    assert size_chunks(0, [], 100) == []


def test_size_chunks_rotates_before_passing_the_limit() -> None:
    # 90 bytes in the file, limit 100: 10 still fits, the next 10 does not.
    assert size_chunks(90, [10, 10, 10], 100) == [(False, 0, 1), (True, 1, 3)]
    assert size_chunks(0, [40, 40, 40, 40], 100) == [(False, 0, 2), (True, 2, 4)]


def test_size_chunks_rotates_first_when_the_file_is_full() -> None:
    assert size_chunks(100, [1], 100) == [(True, 0, 1)]
    assert size_chunks(95, [10, 10], 100) == [(True, 0, 2)]


def test_a_line_longer_than_the_limit_goes_in_alone() -> None:
    assert size_chunks(0, [500], 100) == [(False, 0, 1)]
    assert size_chunks(0, [500, 10], 100) == [(False, 0, 1), (True, 1, 2)]
    assert size_chunks(10, [500, 10], 100) == [(True, 0, 1), (True, 1, 2)]


@given(st.integers(0, 300), st.lists(st.integers(1, 150), max_size=40), st.integers(1, 200))
def test_size_chunks_properties(size: int, lengths: list[int], limit: int) -> None:
    runs = size_chunks(size, lengths, limit)
    # every line exactly once, in order
    assert [i for _, a, b in runs for i in range(a, b)] == list(range(len(lengths)))
    current = size
    for rotate, start, stop in runs:
        if rotate:  # only when needed: the file was not empty and the line did not fit
            assert current > 0
            assert current + lengths[start] > limit
            current = 0
        run = sum(lengths[start:stop])
        # a run passes the limit only as a single line started in an empty file
        assert current + run <= limit or (stop - start == 1 and current == 0)
        current += run
        # and a run is as long as it can be: the next line would not have fit
        if stop < len(lengths):
            assert current + lengths[stop] > limit


# -- names and ages -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "ok"),
    [
        ("2026-01-01.log", True),
        ("2026-01-01.jsonl", True),
        ("2026-01-01.001.log.gz", True),
        ("2026-01-01.jsonl.gz", True),
        ("notes.txt", False),
        ("2026-01-01.log.tmp", False),
        ("x.gz", False),
    ],
)
def test_is_log_file(name: str, ok: bool) -> None:
    assert is_log_file(name) is ok


def test_retention_cutoff() -> None:
    assert retention_cutoff(1_000_000.0, 1) == 1_000_000.0 - 86400
    assert retention_cutoff(1_000_000.0, 0.5) == 1_000_000.0 - 43200


# -- page_runs: batches that kill -9 cannot tear -------------------------------------------


@given(st.integers(0, 20_000), st.lists(st.integers(1, 5_000), min_size=1, max_size=60))
def test_page_runs_cover_every_line_once_and_never_batch_across_a_page(
    size: int, lengths: list[int]
) -> None:
    from logbot.logs.rotation import page_runs

    runs = page_runs(size, lengths, 0, len(lengths), page=4096)
    assert [i for a, b in runs for i in range(a, b)] == list(range(len(lengths)))
    offset = size
    for a, b in runs:
        for i in range(a, b):
            end = offset + lengths[i]
            crosses = offset // 4096 != (end - 1) // 4096  # a boundary inside the line
            assert not (crosses and b - a > 1), "a line that crosses is written alone"
            offset = end


def test_page_runs_of_small_lines() -> None:
    from logbot.logs.rotation import page_runs

    # a line that ends on the boundary: the batch goes on (a cut there is harmless)
    assert page_runs(4000, [96, 100, 100, 100], 0, 4, page=4096) == [(0, 4)]
    # a line across the boundary is written alone
    assert page_runs(4000, [50, 100, 10], 0, 3, page=4096) == [(0, 1), (1, 2), (2, 3)]
    assert page_runs(4050, [100, 10, 10], 0, 3, page=4096) == [(0, 1), (1, 3)]
    assert page_runs(0, [3000, 3000, 3000], 0, 3, page=4096) == [(0, 1), (1, 2), (2, 3)]
    assert page_runs(0, [10] * 5, 1, 4, page=4096) == [(1, 4)]
