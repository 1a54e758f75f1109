"""Trusted stamps: a ``server-time`` stamp too far from the wall clock is replaced.

Each :class:`~logbot.logs.targets.Channel` keeps its trust window as two UTC instants
(:func:`~logbot.logs.rotation.trust_window`), moved with the wall clock at most every
``TRUST_REFRESH`` seconds (:meth:`ServerTime._tick`, once per read from the server),
so that the hot path checks a stamp with one chained comparison.  A stamp outside is
judged again on the clock as it is now (:meth:`ServerTime._trusted`); one still
outside is replaced by the wall clock's time, the server's kept in the record, and
warned about once per network.

Apart from :mod:`logbot.logs.writer` because it is a policy of its own (what a stamp
must be to date its line), not the writing.  :class:`ServerTime` is a base class of
:class:`~logbot.logs.writer.LogWriter`, not an object of its own: ``write()`` calls
``self._tick`` and ``self._trusted`` exactly as before, with no extra call or lookup.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from logbot.logs.record import LogRecord, restamped
from logbot.logs.rotation import TRUST_REFRESH, rejection, trust_window
from logbot.logs.targets import Channel

__all__ = ["ServerTime"]

log = logging.getLogger("logbot.logs.writer")  # the writer's logger: one place to watch


_WHY = {  # record.server_time_rejected, as the warning says it
    "ahead": "ahead of the local clock",
    "behind": "behind the local clock",
    "invalid": "not a usable time",
}


class ServerTime:
    """The trust windows and the replacement of untrusted stamps; a base of
    :class:`~logbot.logs.writer.LogWriter`."""

    _channels: dict[tuple[str, str], Channel]
    _wall: Callable[[], float]
    _tick_ends: float  # the trust windows are good until this wall time
    _untrusted: set[str]  # networks warned about their server-time

    def _tick(self) -> None:
        """Move every channel's trust window with the wall clock, at most every
        ``TRUST_REFRESH`` seconds (or at once when the clock stepped back), so that the
        hot path compares a stamp with two instants instead of reading the clock."""
        now = self._wall()
        if self._tick_ends - TRUST_REFRESH <= now < self._tick_ends:
            return
        self._tick_ends = now + TRUST_REFRESH
        moment = datetime.fromtimestamp(now, UTC)
        windows: dict[float | None, tuple[datetime, datetime]] = {}
        for ch in self._channels.values():
            tolerance = ch.options.server_time_tolerance
            window = windows.get(tolerance)
            if window is None:
                window = windows[tolerance] = trust_window(moment, tolerance)
            ch.lo, ch.hi = window

    def _trusted(self, ch: Channel, record: LogRecord) -> LogRecord:
        """``record`` with a stamp outside ``ch``'s window: judged again on the clock as
        it is now; a server stamp still outside is replaced by our time."""
        if record.time_source != "server":
            return record  # our own clock's: nothing better to use
        now = datetime.fromtimestamp(self._wall(), UTC)
        tolerance = ch.options.server_time_tolerance
        ch.lo, ch.hi = trust_window(now, tolerance)
        if ch.lo <= record.time <= ch.hi:
            return record
        why = rejection(record.time, now)
        if why == "behind" and record.replayed is not None:
            return record  # history is old by nature; only a stamp from the future is wrong
        out = restamped(record, now, why)
        if record.network not in self._untrusted:
            self._untrusted.add(record.network)
            log.warning(
                "%s: untrusted server-time stamps: %s in %s is %s (server_time_tolerance: %s);"
                " such lines are logged at the local time, the server's stamp kept in the"
                " JSONL as server_time; not reported again for this network",
                record.network,
                out.server_time,
                record.channel,
                _WHY[out.server_time_rejected or "invalid"],
                "null" if tolerance is None else f"{tolerance:g} s",
            )
        return out
