"""The writer's state per target (channel or private correspondent), and its bound.

Per (network, folded channel) a :class:`Channel` holds what the hot path reads for each
line -- the time zone, the current date and the UTC instant it ends, the trust window
and one :class:`Output` (formatter and file) per format -- so that a line is formatted
and written without rendering a path or converting a time zone.  At most
``max_targets`` are kept; :class:`Targets` makes them and drops the least recently
written one (second chance) when a new one would pass the bound.

Apart from :mod:`logbot.logs.writer` because it is the shape of that state and the rule
that bounds it; the per-line code only reads it (and marks ``used``).  :class:`Targets`
is a base class of :class:`~logbot.logs.writer.LogWriter`, not an object of its own: it
has no state of its own (``LogWriter.__init__`` makes every attribute it names), and
``write()`` calls ``self._channel`` as before, with no extra call or lookup.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from datetime import UTC, date, datetime

from logbot.config.settings import LogOptions
from logbot.logs.formats import FORMATTERS, text_formatter
from logbot.logs.logfile import LogFile
from logbot.logs.rotation import EARLIEST_USABLE, LATEST_USABLE, NEVER, Seen, zone

__all__ = ["MAX_TARGETS", "Channel", "Output", "Targets", "configured_layout"]

log = logging.getLogger("logbot.logs.writer")  # the writer's logger: one place to watch

#: Targets (channels and private correspondents, per network) whose state is kept: the
#: date, time zone, trust window and file objects of each.  Beyond it the least
#: recently written one is dropped (its files written out and closed) and rebuilt, in
#: the same files, when it writes again.  About 3.5 KiB each: at most some 14 MiB,
#: where 50,000 correspondents of a ``private: true`` bot held 190 MiB.  4,096 keeps
#: every channel of a bot in thousands of them hot.
MAX_TARGETS = 4096


def configured_layout(options: LogOptions) -> tuple[str, str | None]:
    """The text layout ``options`` ask for: (``text_layout``, ``time_format``)."""
    return options.text_layout, options.time_format


class Output:
    __slots__ = ("file", "fmt", "format")

    def __init__(self, fmt: str, format: Callable[..., str]) -> None:
        self.fmt = fmt
        self.format = format
        self.file: LogFile | None = None


class Channel:
    """The hot path's cache for one (network, folded channel)."""

    __slots__ = (
        "date", "ends", "folded", "hi", "lo", "network", "options", "outputs", "seen", "tz",
        "used",
    )  # fmt: skip

    def __init__(self, network: str, folded: str, options: LogOptions, seen: Seen) -> None:
        self.network, self.folded, self.options, self.seen = network, folded, options, seen
        try:
            self.tz = zone(options.timezone)
        except (KeyError, ValueError):  # ZoneInfoNotFoundError is a KeyError
            log.error(
                "unknown time zone %r for %s %s: using UTC", options.timezone, network, folded
            )
            self.tz = UTC
        self.date: date | None = None
        self.ends: datetime = NEVER  # the first instant after ``date``: then, slow path
        # the server stamps taken as they are (LogWriter._tick); empty until the first line
        self.lo, self.hi = LATEST_USABLE, EARLIEST_USABLE
        # Written to again since created or since the eviction last passed it: a target
        # that wrote once (most private correspondents) goes first (LogWriter._evict).
        self.used = False
        self.outputs: list[Output] = []
        for fmt in options.formats:
            if fmt == "text":  # its layout: see LogWriter._text_layout
                self.outputs.append(Output(fmt, text_formatter(*configured_layout(options))))
            elif fmt in FORMATTERS:
                self.outputs.append(Output(fmt, FORMATTERS[fmt]))
            else:
                log.error("unknown log format %r for %s %s: skipped", fmt, network, folded)


class Targets:
    """The table of :class:`Channel`: made on a target's first line, bounded by
    ``max_targets``; a base of :class:`~logbot.logs.writer.LogWriter`."""

    _channels: dict[tuple[str, str], Channel]
    _ring: deque[tuple[str, str]]
    _seen: dict[tuple[str, str], Seen]
    _max_targets: int
    _wall: Callable[[], float]
    _release: Callable[[LogFile, str], None]

    def _channel(self, network: str, folded: str, options: LogOptions) -> Channel:
        key = (network, folded)
        if key not in self._channels:
            if len(self._channels) >= self._max_targets:
                self._evict()
            self._ring.append(key)
        seen = self._seen.get(key)
        if seen is None:
            seen = self._seen[key] = Seen()
        old = self._channels.get(key)
        ch = self._channels[key] = Channel(network, folded, options, seen)
        if old is not None:  # new options (a config reload): the files are re-acquired
            for out in old.outputs:
                if out.file is not None:
                    self._release(out.file, "released")
        return ch

    def _evict(self) -> None:
        """Drop the state of a target not written to lately, to stay at ``MAX_TARGETS``.

        Second chance (the CLOCK algorithm, an approximation of least recently used): the
        ring holds the keys oldest first; one whose target was written to again since
        (``used``) loses the mark and goes to the back, the first one unmarked is dropped.
        So the hot path pays one attribute store per line, not a reordering, and a flood
        of one-line correspondents evicts each other, not a channel that keeps talking.
        Each mark is cleared once: O(1) per line, amortized.

        The files are written out and released like a channel's at the end of its day:
        closed (compressed when that day is over, as the end-of-day check would have),
        and lines waiting out a failed disk stay with their file until written.  Its
        largest date goes too: rebuilt, it starts from its next record's date, in the
        same file when that is the same day (see ``LogWriter._roll`` for a late line)."""
        ring, channels = self._ring, self._channels
        while True:
            key = ring.popleft()
            ch = channels[key]
            if not ch.used:
                break
            ch.used = False
            ring.append(key)
        del channels[key]
        self._seen.pop(key, None)
        over = (
            ch.ends is not NEVER
            and "{date" in ch.options.path
            and datetime.fromtimestamp(self._wall(), UTC) >= ch.ends
        )
        for out in ch.outputs:
            if out.file is not None:
                self._release(out.file, "rotated" if over else "released")
                out.file = None

    def has_target(self, network: str, folded: str) -> bool:
        """Whether the writer holds state for this target now (not evicted)."""
        return (network, folded) in self._channels
