"""The :class:`Follower`: keeps an index up to date with a log root, on a reactor.

Why it looks like this: the follower runs in a process of its own (``logbot index
--follow``), never in the bot's, so indexing can neither slow nor break logging.  Each
``interval`` it reads at most ``batch_lines`` lines; when a batch was full (a restart's
catch-up, a rebuild) it goes on at the next reactor turn (``callLater(0)``) rather
than in one long call, so the process still answers signals between batches.  Any
error (a full disk, a locked or unwritable database) is logged in one line and the
update is tried again at the next interval: the process never dies of it.  The same
error again is not logged again; its end is.
"""

from __future__ import annotations

import logging
import os
from typing import Any, Protocol

from logbot.archive.index.database import Index
from logbot.config.settings import IndexOptions

__all__ = ["Follower"]

log = logging.getLogger("logbot.archive.index")


class _Clock(Protocol):
    def callLater(self, delay: float, f: Any, *args: Any, **kw: Any) -> Any: ...


class Follower:
    """Call ``index.update(root, max_lines=batch_lines)`` every ``interval`` seconds
    on ``clock`` (a reactor, or a ``task.Clock`` in tests), from :meth:`start` to
    :meth:`stop`.

    Counters for metrics: :attr:`lines_indexed`, :attr:`bad_lines`, :attr:`updates`,
    :attr:`errors` and :attr:`last_error` (None once an update worked again)."""

    def __init__(
        self,
        clock: _Clock,
        index: Index,
        root: str | os.PathLike[str],
        interval: float = IndexOptions.interval,
        batch_lines: int = IndexOptions.batch_lines,
        label: str = "index",
        done: str = "indexed",
    ) -> None:
        if interval <= 0 or batch_lines <= 0:
            raise ValueError("interval and batch_lines must be positive")
        self.clock = clock
        self.index = index
        self.root = root
        self.interval = interval
        self.batch_lines = batch_lines
        self.label = label  # what the log lines call it ("index", "archive feed")
        self.done = done  # and what it did with lines ("indexed", "fed")
        self.lines_indexed = 0
        self.bad_lines = 0
        self.updates = 0
        self.errors = 0
        self.last_error: str | None = None
        self.caught_up = False  # an update found nothing left to read
        self._call: Any = None
        self.running = False

    def start(self) -> None:
        """Start now (the first update at the next reactor turn)."""
        if self.running:
            return
        self.running = True
        self._call = self.clock.callLater(0, self._tick)

    def stop(self) -> None:
        self.running = False
        if self._call is not None and self._call.active():
            self._call.cancel()
        self._call = None

    def _tick(self) -> None:
        self._call = None
        if not self.running:
            return
        bad_before = self.index.bad_lines
        try:
            lines = self.index.update(self.root, max_lines=self.batch_lines)
        except Exception as e:
            self.errors += 1
            why = f"{type(e).__name__}: {e}"
            if why != self.last_error:
                log.warning(
                    "%s: update failed (%s); retrying every %g s", self.label, why, self.interval
                )
            self.last_error = why
            self._schedule(self.interval)
            return
        if self.last_error is not None:
            log.info("%s: updates work again", self.label)
            self.last_error = None
        self.updates += 1
        self.lines_indexed += lines
        self.bad_lines += max(0, self.index.bad_lines - bad_before)
        if lines:
            log.debug("%s: %d lines %s", self.label, lines, self.done)
        if self.index.pending:
            self._schedule(0)
            return
        if not self.caught_up:
            self.caught_up = True
            log.info(
                "%s: caught up with %s (%d lines %s)",
                self.label,
                self.root,
                self.lines_indexed,
                self.done,
            )
        self._schedule(self.interval)

    def _schedule(self, delay: float) -> None:
        if self.running:
            self._call = self.clock.callLater(delay, self._tick)
