"""When a channel log moves to a new file: dates, the end of a day, size limits.

Everything here is pure (no I/O), so the rules that decide where a line goes are
tested without a file system and without a clock.

*Dates.*  A line's date is its record's time in the channel's time zone, but a channel's
files only ever move forward: the writer remembers, per (network, channel), the largest
date seen, and a record stamped earlier (a late ``server-time`` tag, a clock step back,
the repeated hour when DST ends) goes to that newer file.  Otherwise one late line would
reopen yesterday's file after it was closed, compressed or deleted.

*The end of a day* is kept as a UTC instant (:func:`day_end`), so the writer's hot path
decides "same file as the last line" with one datetime comparison instead of a time
zone conversion per line.  It is the *earliest* instant whose local date is later, so
a wrong guess can only send a line through the slow path, never into the wrong file.

*Trusted stamps.*  A ``server-time`` stamp dates its line only when it is within the
channel's ``server_time_tolerance`` of our clock (:func:`trust_window`): one line stamped
2999-01-01 would otherwise move the channel's date there for good, and one stamped
9999-12-31 has no next day to end at.  The writer keeps each channel's window as two
UTC instants, moved with the clock at most every :data:`TRUST_REFRESH` seconds, so the
hot path checks a stamp with one chained comparison; a stamp outside gets our time
(:func:`rejection` says why).

*Sizes.*  With ``rotation: size`` a file is rotated *before* the write that would make it
pass ``max_bytes``, unless it is empty (a line longer than the limit still goes in, alone):
:func:`size_chunks` cuts a batch of lines into the runs that go into each file.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

__all__ = [
    "EARLIEST_USABLE",
    "LATEST_USABLE",
    "LOG_SUFFIXES",
    "TRUST_REFRESH",
    "Seen",
    "day_end",
    "is_log_file",
    "local_date",
    "rejection",
    "retention_cutoff",
    "size_chunks",
    "trust_window",
    "zone",
]

#: Names of the files the writer makes (live, rotated and compressed).
LOG_SUFFIXES = (".log", ".jsonl", ".log.gz", ".jsonl.gz")

#: Earlier than any record: a channel that has no file yet always takes the slow path.
NEVER = datetime.min.replace(tzinfo=UTC)

#: The first and last instants a line may be dated with.  A week inside what a datetime
#: holds: a date there still has a next day (:func:`day_end`) and survives any time
#: zone's offset (:func:`local_date`); a stamp nearer year 1 or 9999 raised
#: ``OverflowError`` there, and the line was lost.
EARLIEST_USABLE = datetime(1, 1, 8, tzinfo=UTC)
LATEST_USABLE = datetime(9999, 12, 24, tzinfo=UTC)
_USABLE_SECONDS = (LATEST_USABLE - EARLIEST_USABLE).total_seconds()

#: Seconds between two reads of the wall clock for the trust windows (at each read from
#: the server): a window is at most this old, so a stamp is judged to the second.
TRUST_REFRESH = 1.0


def trust_window(now: datetime, tolerance: float | None) -> tuple[datetime, datetime]:
    """``(lo, hi)``: the server stamps to date lines with at ``now``, ``lo <= t <= hi``.

    Within ``tolerance`` seconds of ``now``, and usable.  ``None`` (or more than the
    usable range): every usable stamp; ``0``: none (an empty window, ``lo > hi``).
    """
    if tolerance is None or tolerance >= _USABLE_SECONDS:
        return EARLIEST_USABLE, LATEST_USABLE
    if tolerance <= 0:
        return LATEST_USABLE, EARLIEST_USABLE
    span = timedelta(seconds=tolerance)
    lo = now - span if now - EARLIEST_USABLE > span else EARLIEST_USABLE
    hi = now + span if LATEST_USABLE - now > span else LATEST_USABLE
    return lo, hi


def rejection(when: datetime, now: datetime) -> str:
    """Why a stamp outside the window is not used: ``"invalid"`` (no date can be
    computed from it), else ``"ahead"`` of our clock's ``now`` or ``"behind"`` it."""
    if not EARLIEST_USABLE <= when <= LATEST_USABLE:
        return "invalid"
    return "ahead" if when > now else "behind"


@functools.cache
def zone(name: str) -> tzinfo:
    """The time zone called ``name`` (IANA), built once.

    ``UTC`` is :data:`datetime.timezone.utc`: the same offsets as ``ZoneInfo("UTC")``,
    and comparisons between datetimes that share that tzinfo skip ``utcoffset`` calls.
    """
    if name == "UTC":
        return UTC
    return ZoneInfo(name)


def local_date(when: datetime, tz: tzinfo) -> date:
    """The date of ``when`` in ``tz`` (a naive ``when`` is taken as UTC)."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(tz).date()


def day_end(day: date, tz: tzinfo) -> datetime:
    """The first instant (in UTC) whose date in ``tz`` is after ``day``.

    Local midnight of the next day with ``fold=0``: when midnight falls in a DST gap
    that is the instant of the jump, when it is repeated it is the first occurrence;
    either way no instant of the next day comes earlier.
    """
    midnight = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)
    return midnight.astimezone(UTC)


class Seen:
    """The largest date seen for one (network, channel); shared by its cache entries."""

    __slots__ = ("date",)

    def __init__(self) -> None:
        self.date: date | None = None

    def place(self, record_date: date) -> date:
        """The date a record of ``record_date`` goes to: never earlier than before."""
        if self.date is None or record_date > self.date:
            self.date = record_date
        return self.date


def size_chunks(
    size: int, lengths: Sequence[int], max_bytes: int | None
) -> list[tuple[bool, int, int]]:
    """Cut lines of ``lengths`` bytes into runs ``(rotate_first, start, stop)``.

    ``size`` is the live file's size now.  Each run is written with one write; when
    ``rotate_first`` is true the file is rotated before that run.  A file is rotated
    before a line that would make it larger than ``max_bytes`` unless it is empty.
    """
    runs: list[tuple[bool, int, int]] = []
    rotate, start, current = False, 0, size
    for index, length in enumerate(lengths):
        if max_bytes is not None and current > 0 and current + length > max_bytes:
            if index > start:
                runs.append((rotate, start, index))
            rotate, start, current = True, index, 0
        current += length
    if len(lengths) > start:
        runs.append((rotate, start, len(lengths)))
    return runs


#: The kernel copies a write into the page cache one page of the *file* at a time, and
#: between two pages it stops for a pending SIGKILL: a write that spans a page boundary
#: can be cut there, leaving half a line.  A write that stays within one page cannot.
PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def page_runs(
    size: int, lengths: Sequence[int], start: int, stop: int, page: int = PAGE
) -> list[tuple[int, int]]:
    """Cut lines ``start:stop`` (of ``lengths`` bytes, appended at offset ``size``) into
    runs ``(a, b)`` to write one write each: in a run of several lines every page
    boundary falls between two lines (where a cut leaves whole lines), and a line that
    crosses a boundary is written alone.

    Measured (a writer killed with SIGKILL at random, 400 times, two files each):
    lines written one by one left a torn last line in 0.5 % of the files, these runs
    also 0.5 %, runs that *begin* with the crossing line 1.25 %, one write per read
    11.5 % (``bench/kill9_tears.py``).  No cut makes it 0: the tail is repaired when the
    file is next opened (``logfile.repair_tail``)."""
    runs: list[tuple[int, int]] = []
    first = start
    offset = size % page
    for index in range(start, stop):
        length = lengths[index]
        if offset + length > page:  # this line crosses a boundary: alone
            if index > first:
                runs.append((first, index))
            runs.append((index, index + 1))
            first = index + 1
        offset = (offset + length) % page
    if stop > first:
        runs.append((first, stop))
    return runs


def is_log_file(name: str) -> bool:
    """True for the names the writer makes (``.log``, ``.jsonl``, and their ``.gz``)."""
    return name.endswith(LOG_SUFFIXES)


def retention_cutoff(now: float, days: float) -> float:
    """Files last modified before this time (seconds since the epoch) are expired."""
    return now - days * 86400.0
