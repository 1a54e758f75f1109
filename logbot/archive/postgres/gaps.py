"""Merged gaps: what one bot missed that no other bot saw either.

Why: several bots feed one archive, each writing its own markers (``connect``,
``disconnect``, ``gap``, ``recovered``).  A ``gap`` line says "*this* bot missed the
events of [start, back]"; in the merged view that is only news for the parts of the
span where no *other* bot was in the channel.  So a gap line is left out when other
bots covered all of it, and shown with its text naming only the uncovered spans when
they covered part of it.

A bot's presence in a channel, from its markers there in (time_ms, id) order: it is
present from each ``connect``, ``gap`` or ``recovered`` marker (from the marker's time:
a gap's time is when the bot was back) until its next ``disconnect`` (that time) or
the start of its next ``gap``; when its last marker leaves it present, until its
last line anywhere or its feed's last look, whichever is later (``instances.last_ms``,
``alive_ms``: a bot in a quiet channel is there as long as its feed runs, and its feed
runs as long as it does).  Other types of marker (``opted_out``)
change nothing.  Spans are half-open ``[start, end)`` in Unix milliseconds.

Pure functions, no database: the reads fetch the markers (:mod:`.reads`) and ask here.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "CLOCK_SLACK_MS",
    "OFF",
    "ON",
    "Marker",
    "Span",
    "describe",
    "merged_record",
    "presence",
    "uncovered",
]

#: Markers a bot is in the channel from (the marker's own time).
ON = frozenset({"connect", "gap", "recovered"})
#: Markers that end a bot's presence (a ``gap`` ends it at its start, before the
#: bot is back at its time).
OFF = frozenset({"disconnect", "gap"})

Span = tuple[int, int]

#: Milliseconds by which another bot's presence is taken to start earlier and end
#: later when it is laid over a gap: two hosts' clocks differ by some milliseconds
#: (without ``server-time`` each bot stamps lines with its own), and a bot writes its
#: ``connect`` line a moment after the JOIN it logs, so a gap that ends or begins within
#: a hair of another bot's arrival would otherwise keep a sliver "not seen by any bot"
#: that only the clocks made.
CLOCK_SLACK_MS = 500


@dataclass(frozen=True)
class Marker:
    """One marker line of one bot in one channel (``gap_from_ms``: a gap's start)."""

    instance: str
    type: str
    time_ms: int
    gap_from_ms: int | None = None
    id: int = 0


def _union(spans: Iterable[Span]) -> list[Span]:
    """Sorted, disjoint, non-empty spans covering what ``spans`` cover."""
    out: list[Span] = []
    for start, end in sorted(s for s in spans if s[1] > s[0]):
        if out and start <= out[-1][1]:
            if end > out[-1][1]:
                out[-1] = (out[-1][0], end)
        else:
            out.append((start, end))
    return out


def presence(markers: Iterable[Marker], last_ms: Mapping[str, int]) -> dict[str, list[Span]]:
    """Each bot's spans of presence (sorted, disjoint) from its markers in a channel;
    ``last_ms``: each bot's last line time (a bot missing there is present no longer
    than its last marker)."""
    by_bot: dict[str, list[Marker]] = {}
    for marker in markers:
        by_bot.setdefault(marker.instance, []).append(marker)
    out: dict[str, list[Span]] = {}
    for bot, own in by_bot.items():
        own.sort(key=lambda m: (m.time_ms, m.id))
        spans: list[Span] = []
        start: int | None = None
        for marker in own:
            if marker.type in OFF and start is not None:
                end = marker.time_ms
                if marker.type == "gap" and marker.gap_from_ms is not None:
                    end = min(end, marker.gap_from_ms)
                spans.append((start, end))
                start = None
            if marker.type in ON and start is None:
                start = marker.time_ms
        if start is not None:
            spans.append((start, last_ms.get(bot, start)))
        out[bot] = _union(spans)
    return out


def uncovered(
    gap: Marker, present: Mapping[str, list[Span]], slack_ms: int | None = None
) -> list[Span]:
    """The parts of ``gap``'s span [start, back) no *other* bot was present for
    (sorted, disjoint, non-empty); ``[]`` when others covered all of it.  A gap
    without a start, or of no length, is returned whole (``[(back, back)]``) unless
    another bot was there at that moment.  Each other bot's presence is widened by
    ``slack_ms`` on both sides (None: :data:`CLOCK_SLACK_MS`)."""
    if slack_ms is None:
        slack_ms = CLOCK_SLACK_MS
    start = gap.time_ms if gap.gap_from_ms is None else gap.gap_from_ms
    end = gap.time_ms
    others = _union(
        (a - slack_ms, b + slack_ms)
        for bot, spans in present.items()
        if bot != gap.instance
        for a, b in spans
    )
    if start >= end:
        moment = end
        seen = any(a <= moment < b for a, b in others)
        return [] if seen else [(moment, moment)]
    out: list[Span] = []
    cursor = start
    for a, b in others:
        if b <= cursor:
            continue
        if a >= end:
            break
        if a > cursor:
            out.append((cursor, a))
        cursor = max(cursor, b)
        if cursor >= end:
            break
    if cursor < end:
        out.append((cursor, end))
    return out


def _zone(record: Mapping[str, Any]) -> datetime.tzinfo:
    """The UTC offset of the record's ``time`` (the channel's zone), else UTC."""
    time = record.get("time")
    if isinstance(time, str):
        try:
            zone = datetime.datetime.fromisoformat(time.replace("Z", "+00:00")).tzinfo
        except ValueError:
            zone = None
        if zone is not None:
            return zone
    return datetime.UTC


def _iso(ms: int, zone: datetime.tzinfo) -> str:
    try:
        moment = datetime.datetime.fromtimestamp(ms / 1000, zone)
    except (OverflowError, OSError, ValueError):
        return f"{ms} ms"
    return moment.isoformat(timespec="milliseconds")


def describe(spans: list[Span], zone: datetime.tzinfo = datetime.UTC) -> str:
    """The sentence that replaces a partly covered gap's text."""
    parts = [f"between {_iso(a, zone)} and {_iso(b, zone)}" for a, b in spans]
    if len(parts) > 1:
        parts[-1] = "and " + parts[-1]
    joined = ", ".join(parts) if len(parts) > 2 else " ".join(parts)
    return f"events {joined} were not seen by any bot"


def merged_record(
    record: Mapping[str, Any], gap: Marker, present: Mapping[str, list[Span]]
) -> Mapping[str, Any] | None:
    """A gap line's record as the merged view shows it: None (others covered all of
    it), ``record`` itself (nobody covered any of it), or a copy whose ``text`` names
    the spans nobody saw."""
    missing = uncovered(gap, present)
    if not missing:
        return None
    start = gap.time_ms if gap.gap_from_ms is None else gap.gap_from_ms
    if missing == [(start, gap.time_ms)] or start >= gap.time_ms:
        return record
    return {**record, "text": describe(missing, _zone(record))}
