"""The log writer's counters and gauges (:class:`WriterStats`).

Apart from :mod:`logbot.logs.writer` because more than the writer's own code counts
into it -- the descriptor table (:class:`~logbot.logs.logfile.Handles`), the outages
(:mod:`logbot.logs.outage`) and :mod:`logbot.logs.livefiles`, a base of the writer that
names the type and so cannot import it from the writer (an import cycle) -- and the
health report and metrics only read it.  ``WriterStats`` is still importable from
:mod:`logbot.logs.writer`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

__all__ = ["WriterStats"]


@dataclass
class WriterStats:
    lines_written: int = 0  # lines (per format file) that reached the disk
    write_errors: int = 0  # failed open/write/fsync attempts
    pending: int = 0  # lines waiting for a retry
    pending_since: float | None = None  # clock seconds: the oldest waiting file's outage start
    dropped: int = 0  # lines given up (pending bound exceeded, unsafe path)
    files_open: int = 0
    unsafe_links: int = 0  # opens, renames, compressions, sweeps refused: a symbolic link

    def plus_counters(self, other: WriterStats) -> WriterStats:
        """These stats with ``other``'s counters added (the gauges stay these): totals
        that do not go back when a reload replaces the writer."""
        return dataclasses.replace(
            self,
            lines_written=self.lines_written + other.lines_written,
            write_errors=self.write_errors + other.write_errors,
            dropped=self.dropped + other.dropped,
            unsafe_links=self.unsafe_links + other.unsafe_links,
        )
