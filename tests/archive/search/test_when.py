"""--since and --until: the forms people type, against a fixed "now"."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from logbot.archive.search.when import parse_when

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC).timestamp()


def ms(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp() * 1000)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-12-01", "2026-12-01T00:00:00+00:00"),
        ("2026-12-01T14:03", "2026-12-01T14:03:00+00:00"),
        ("2026-12-01T14:03:07", "2026-12-01T14:03:07+00:00"),
        ("2026-12-01 14:03:07Z", "2026-12-01T14:03:07+00:00"),
        ("2026-12-01T14:03:07+01:00", "2026-12-01T13:03:07+00:00"),
        ("7d", "2026-11-29T12:00:00+00:00"),
        ("12h", "2026-12-06T00:00:00+00:00"),
        ("30m", "2026-12-06T11:30:00+00:00"),
        ("2w", "2026-11-22T12:00:00+00:00"),
    ],
)
def test_forms(text: str, expected: str) -> None:
    assert parse_when(text, NOW) == ms(expected)


def test_a_day_as_until_takes_the_whole_day() -> None:
    assert parse_when("2026-12-01", NOW, end_of_day=True) == ms("2026-12-02T00:00:00+00:00")
    assert parse_when("2026-12-01T10:00", NOW, end_of_day=True) == ms("2026-12-01T10:00:00+00:00")


@pytest.mark.parametrize(
    "text", ["yesterday", "2026-13-01", "2026-02-30", "7y", "-7d", "", "99999999999d", "1.5h"]
)
def test_bad_times_say_what_is_accepted(text: str) -> None:
    with pytest.raises(ValueError, match="not a time"):
        parse_when(text, NOW)
