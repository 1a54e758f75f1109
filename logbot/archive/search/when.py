"""``--since`` and ``--until``: a time as people type it, to Unix milliseconds.

Why these forms: a day (``2026-12-06``), a moment (``2026-12-06T14:03``, with seconds,
with an offset or ``Z``; UTC without one: the logs' days are in each channel's own
zone, so no single local zone would be right), or a span back from now (``7d``,
``12h``, ``30m``, ``45s``, ``2w``), which is what one types most.  "Now" is given by
the caller (a clock), never read here.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

__all__ = ["MAX_SPAN_DAYS", "parse_when"]

#: The longest span back from now accepted (days): about 10,000 years, so that the
#: result is still a time ``datetime`` can hold.
MAX_SPAN_DAYS = 3_650_000

_SPAN = re.compile(r"(\d{1,9})([wdhms])")
_UNITS = {"w": 604_800, "d": 86_400, "h": 3_600, "m": 60, "s": 1}
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_MOMENT = re.compile(
    r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:Z|[+-]\d{2}:?\d{2})?"
)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def parse_when(text: str, now: float, *, end_of_day: bool = False) -> int:
    """``text`` as Unix milliseconds; ``now`` is the current Unix time (seconds).

    A bare day is its UTC midnight, or with ``end_of_day`` the next one (``--until
    2026-12-06`` takes in the whole 6th).

    :raises ValueError: with a message that shows the forms accepted.
    """
    value = text.strip()
    m = _SPAN.fullmatch(value)
    try:
        if m is not None:
            seconds = int(m[1]) * _UNITS[m[2]]
            if seconds > MAX_SPAN_DAYS * 86_400:
                raise ValueError("too far back")
            return int((now - seconds) * 1000)
        if _DAY.fullmatch(value):
            day = date.fromisoformat(value)
            start = datetime(day.year, day.month, day.day, tzinfo=UTC)
            if end_of_day:
                start += timedelta(days=1)
            return (start - _EPOCH) // timedelta(milliseconds=1)
        if _MOMENT.fullmatch(value):
            when = datetime.fromisoformat(value.replace("Z", "+00:00"))
            if when.tzinfo is None:
                when = when.replace(tzinfo=UTC)
            return (when - _EPOCH) // timedelta(milliseconds=1)
    except (ValueError, OverflowError) as e:
        raise ValueError(f"{text!r} is not a time I can use ({e})") from None
    raise ValueError(
        f"{text!r} is not a time: give YYYY-MM-DD, YYYY-MM-DDTHH:MM[:SS] (UTC unless an "
        "offset such as +01:00 follows), or a span back from now such as 7d, 12h, 30m"
    )
