"""The merged view of a channel's day: its lines by (time_ms, id), numbered, with
every bot's gap lines reduced to what no other bot saw (:mod:`.gaps`).

Why a module between the reads and the search: a day page, a permalink and a search
hit's context are all "lines of a day from seq N", and a search hit that is a gap
line is shown (or left out) as the day page would show it.

*seq* is a line's place in its day by (time_ms, id), from 1, counted over every event
of the day, hidden gap lines included: so the day's count in ``days`` (which the feed
keeps, gap lines included) is the last seq, and the parts of a day page and the
permalinks ``#L<seq>`` agree with it; a hidden gap leaves a hole in the numbers.
A page is read from the (network, channel, day, time_ms, id) index: the lines before
it are skipped in the index, not read.

The markers that decide a gap are fetched only when the lines hold a gap line: the
window of the gaps' spans, plus each bot's last marker before it (its state at the
window's start) and its first after it (a gap there may have begun inside the
window), from ``events_markers``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from logbot.archive.model import Line
from logbot.archive.postgres.gaps import Marker, Span, merged_record, presence

__all__ = ["COLUMNS", "GAP", "EventRow", "Merger", "channel_presence", "page"]

#: The type of the marker lines that are merged.
GAP = "gap"

#: The columns of an :class:`EventRow`, in order (of ``events e``).
COLUMNS = (
    "e.id, e.time_ms, e.network, e.channel, e.day, e.type, e.marker, e.instance, e.gap_from_ms"
)


@dataclass(frozen=True, slots=True)
class EventRow:
    """What the merged view needs of an event to decide about it (no record)."""

    id: int
    time_ms: int
    network: str
    channel: str
    day: str
    type: str
    marker: bool
    instance: str
    gap_from_ms: int | None

    @property
    def is_gap(self) -> bool:
        return self.marker and self.type == GAP

    def as_marker(self) -> Marker:
        return Marker(self.instance, self.type, self.time_ms, self.gap_from_ms, self.id)


_WINDOW = """
SELECT instance, type, time_ms, gap_from_ms, id FROM events
 WHERE marker AND network = %(net)s AND channel = %(chan)s AND time_ms BETWEEN %(lo)s AND %(hi)s
UNION ALL
SELECT m.* FROM instances i CROSS JOIN LATERAL (
  SELECT instance, type, time_ms, gap_from_ms, id FROM events
   WHERE marker AND network = %(net)s AND channel = %(chan)s AND instance = i.instance
     AND time_ms < %(lo)s
   ORDER BY time_ms DESC, id DESC LIMIT 1) m
UNION ALL
SELECT m.* FROM instances i CROSS JOIN LATERAL (
  SELECT instance, type, time_ms, gap_from_ms, id FROM events
   WHERE marker AND network = %(net)s AND channel = %(chan)s AND instance = i.instance
     AND time_ms > %(hi)s
   ORDER BY time_ms, id LIMIT 1) m
"""


def channel_presence(
    conn: Any, network: str, channel: str, gaps: Sequence[Marker]
) -> dict[str, list[Span]]:
    """Every bot's presence in the channel around ``gaps`` (:func:`.gaps.presence`)."""
    lo = min(g.time_ms if g.gap_from_ms is None else min(g.gap_from_ms, g.time_ms) for g in gaps)
    hi = max(g.time_ms for g in gaps)
    rows = conn.execute(_WINDOW, {"net": network, "chan": channel, "lo": lo, "hi": hi}).fetchall()
    markers = {row[4]: Marker(row[0], row[1], row[2], row[3], row[4]) for row in rows}
    last = dict(
        conn.execute(
            "SELECT instance, greatest(last_ms, coalesce(alive_ms, last_ms)) FROM instances"
        ).fetchall()
    )
    return presence(markers.values(), last)


class Merger:
    """Decides gap lines, fetching each channel's markers once for the gaps asked
    about together (:meth:`decide`), then rewrites their records (:meth:`record`)."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self._present: dict[int, Mapping[str, list[Span]]] = {}
        self._gaps: dict[int, Marker] = {}

    def decide(self, rows: Iterable[EventRow]) -> set[int]:
        """The ids among ``rows``' gap lines that the merged view leaves out."""
        by_channel: dict[tuple[str, str], list[Marker]] = {}
        for row in rows:
            if row.is_gap and row.id not in self._gaps:
                marker = row.as_marker()
                self._gaps[row.id] = marker
                by_channel.setdefault((row.network, row.channel), []).append(marker)
        for (network, channel), gaps in by_channel.items():
            present = channel_presence(self.conn, network, channel, gaps)
            for gap in gaps:
                self._present[gap.id] = present
        hidden = set()
        for gap_id, gap in self._gaps.items():
            if merged_record({}, gap, self._present[gap_id]) is None:
                hidden.add(gap_id)
        return hidden

    def record(self, event_id: int, record: Mapping[str, Any]) -> Mapping[str, Any] | None:
        """``record`` as the merged view shows it (None: left out); lines that are not
        gaps decided here are returned as they are."""
        gap = self._gaps.get(event_id)
        if gap is None:
            return record
        return merged_record(record, gap, self._present[event_id])


_PAGE = (
    "SELECT %s::bigint + row_number() OVER (ORDER BY e.time_ms, e.id), "
    + COLUMNS
    + ", e.record FROM (SELECT id FROM events WHERE network = %s AND channel = %s AND day = %s"
    " ORDER BY time_ms, id OFFSET %s LIMIT %s) AS page JOIN events e ON e.id = page.id"
    " ORDER BY e.time_ms, e.id"
)


def page(
    conn: Any, network: str, channel: str, day: str, after: int = 0, limit: int | None = None
) -> list[Line]:
    """The lines of a day with seq > ``after``, at most ``limit`` (of them, before
    hidden gap lines are left out), merged.  ``channel`` is the key."""
    after = max(after, 0)
    if limit is not None and limit <= 0:
        return []
    rows = conn.execute(_PAGE, (after, network, channel, day, after, limit)).fetchall()
    events = [(row[0], EventRow(*row[1:10]), row[10]) for row in rows]
    merger = Merger(conn)
    if any(event.is_gap for _, event, _ in events):
        merger.decide(event for _, event, _ in events)
    out = []
    for seq, event, text in events:
        shown = merger.record(event.id, json.loads(text))
        if shown is not None:
            out.append(Line(int(seq), shown))
    return out
