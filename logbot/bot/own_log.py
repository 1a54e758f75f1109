"""A network's own channel logs, read back: where gaps start, and what history repeats.

Three places need the log that the bot itself wrote: the first join of a channel (its
gap starts at the log's last line), a bouncer back on the network (the same, before its
first ``*status`` message) and a history replay (which of its lines are already there,
and from which line to ask ``CHATHISTORY``).  This is the one place that finds the
writer's root, writes out what the current read gathered when it matters, and asks
:mod:`logbot.logs.readback` with the channel's own options.  A writer without a root
(the unit tests' recording writer) has no files: nothing is read, nothing is found.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from logbot.config.settings import LogOptions
from logbot.logs import readback
from logbot.logs.readback import Logged

__all__ = ["OwnLog"]


class OwnLog:
    def __init__(
        self,
        network: Callable[[], str],
        writer: Callable[[], Any],
        options: Callable[[str], LogOptions],
    ) -> None:
        self._network = network  # the network's name (it may change with a reload)
        self._writer = writer  # the writer (a reload with a new log root replaces it)
        self._options = options  # folded channel -> its log options

    def last_time(
        self,
        folded: str,
        now: datetime,
        *,
        content: bool = False,
        before: datetime | None = None,
        flush: bool = False,
    ) -> datetime | None:
        """The time of the channel's last logged line (see readback.last_time);
        ``flush``: write out what this read gathered first."""
        writer = self._writer()
        root = getattr(writer, "root", None)
        if root is None:
            return None
        if flush:
            writer.flush()
        options = self._options(folded)
        name = self._network()
        return readback.last_time(root, options, name, folded, now, content=content, before=before)

    def since(self, folded: str, since: datetime, now: datetime) -> tuple[str | None, list[Logged]]:
        """The format read and the lines logged from ``since`` to ``now``, this read's
        lines included."""
        writer = self._writer()
        root = getattr(writer, "root", None)
        if root is None:
            return None, []
        writer.flush()
        return readback.logged_since(
            root, self._options(folded), self._network(), folded, since, now
        )
