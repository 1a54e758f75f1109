"""Warnings a server can cause, said a bounded number of times.

Some warnings can be caused once per line a server sends: an over-long line, an
unparsable one, a line that makes a handler of ours fail.  A server sending thousands
of them must not make us write thousands of lines on stderr: they would bury every
other diagnostic (of all networks, which share stderr), and writing them costs more
than the lines themselves.  So each *kind* of warning (a fixed name per place in the
code, never taken from the server) is logged in full :data:`WARNINGS_IN_FULL` times;
after that its occurrences are only counted, and the count is logged at most once per
:data:`WARNINGS_INTERVAL` seconds (``over-long line: 1234 more like this in the last
60 s``).  A kind that stays quiet for a whole interval is logged in full again at its
next occurrence: a new burst, an hour later, deserves to be seen.

A limit that was reached (:mod:`logbot.irc.limits`) is said once per connection
(:meth:`Diagnostics.once`): one warning that members are no longer tracked says it
all, and repeating it would be the flood this module is here to stop.

Time comes in as everywhere in the core: the connection calls :meth:`Diagnostics.tick`
with the time of each read, which also logs the counts that are due, so that a count
is not held back until the next occurrence of its kind.  Tests drive it with any
clock they like.
"""

from __future__ import annotations

import logging
import math

__all__ = ["WARNINGS_IN_FULL", "WARNINGS_INTERVAL", "Diagnostics"]

#: Warnings of one kind logged in full before they are only counted.
WARNINGS_IN_FULL = 5
#: Seconds between two counts of one kind's suppressed warnings (at most one per
#: interval); also how long a kind must stay quiet to be logged in full again.
WARNINGS_INTERVAL = 60.0


class _Kind:
    __slots__ = ("in_full", "last", "level", "logger", "since", "suppressed")

    def __init__(self, logger: logging.Logger, now: float) -> None:
        self.logger = logger
        self.level = logging.WARNING
        self.in_full = 0  # logged in full since the kind was (re-)armed
        self.suppressed = 0  # counted, not yet reported
        self.since = now  # when the first of ``suppressed`` came
        self.last = now  # the latest occurrence


class Diagnostics:
    """The rate-limited warnings of one connection.

    ``label`` starts every message (the bot may set it to the network's name).
    """

    def __init__(
        self,
        *,
        in_full: int = WARNINGS_IN_FULL,
        interval: float = WARNINGS_INTERVAL,
        label: str = "",
    ) -> None:
        if in_full < 0 or not interval > 0:
            raise ValueError(f"need in_full >= 0 and interval > 0, not {in_full}, {interval}")
        self.in_full = in_full
        self.interval = interval
        self.label = label
        self.now = -math.inf  # before the first tick: no quiet interval has passed yet
        #: The ``once`` kinds said so far (the limits this connection reached).
        self.said: set[str] = set()
        self._kinds: dict[str, _Kind] = {}
        self._next_due = math.inf  # the earliest time a count is due

    def tick(self, now: float) -> None:
        """Advance the clock to ``now``; log the counts whose interval is over."""
        self.now = now
        if now >= self._next_due:
            self._report_due(now)

    def warning(
        self,
        kind: str,
        logger: logging.Logger,
        msg: str,
        *args: object,
        exc_info: bool = False,
        level: int = logging.WARNING,
    ) -> bool:
        """Log ``msg % args`` on ``logger`` unless ``kind`` has been logged in full
        enough lately; then count it.  True when it was logged.  (``level``: a bug of
        ours is an ERROR, and its count is logged at that level too.)"""
        now = self.now
        state = self._kinds.get(kind)
        if state is None:
            state = self._kinds[kind] = _Kind(logger, now)
        elif not state.suppressed and now - state.last >= self.interval:
            state.in_full = 0  # quiet for a whole interval: a new burst is shown
        state.last = now
        if state.in_full < self.in_full:
            state.in_full += 1
            logger.log(level, self.label + msg, *args, exc_info=exc_info)
            return True
        if not state.suppressed:
            state.since = now
            state.logger, state.level = logger, level
            self._next_due = min(self._next_due, now + self.interval)
        state.suppressed += 1
        return False

    def once(self, kind: str, logger: logging.Logger, msg: str, *args: object) -> bool:
        """Log ``msg % args`` the first time ``kind`` comes on this connection only."""
        if kind in self.said:
            return False
        self.said.add(kind)
        logger.warning(self.label + msg, *args)
        return True

    def suppressed(self, kind: str) -> int:
        """How many warnings of ``kind`` are counted and not yet reported."""
        state = self._kinds.get(kind)
        return 0 if state is None else state.suppressed

    def _report_due(self, now: float) -> None:
        next_due = math.inf
        for kind, state in self._kinds.items():
            if not state.suppressed:
                continue
            if now - state.since >= self.interval:
                state.logger.log(
                    state.level,
                    "%s%s: %d more like this in the last %.0f s",
                    self.label,
                    kind,
                    state.suppressed,
                    now - state.since,
                )
                state.suppressed = 0
            else:
                next_due = min(next_due, state.since + self.interval)
        self._next_due = next_due
