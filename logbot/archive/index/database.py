"""The :class:`Index`: one SQLite index file, kept up to date with one log root.

Why one object for writes and reads: the follower (a process of its own) updates it,
the web view and ``logbot search`` read it, each through its own ``Index`` on the
same file; SQLite's WAL lets the readers go on while the writer commits.  An error
that says the file is damaged is never worked around: an update moves the file aside
and starts a new index, which the same update fills from the files; a read raises
:class:`~.schema.IndexCorrupt`.  An index file deleted or replaced under a running
process is noticed at the next update and opened again (rebuilt if new).
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from logbot.archive.index import reads
from logbot.archive.index import search as searching
from logbot.archive.index.ingest import Ingest
from logbot.archive.index.schema import (
    BUSY_TIMEOUT,
    IndexCorrupt,
    is_damage,
    move_aside,
    open_database,
    reset,
)
from logbot.archive.model import Hit, Line, Query

__all__ = ["Index"]


class Index:
    """The index at ``path`` (made if missing; a damaged one is moved aside and made
    anew: :attr:`fresh` then says it is empty until an update fills it).

    ``now``: the wall clock the file scan compares mtimes with.  ``search_steps`` and
    ``search_seconds``: the bounds of one search (:mod:`.search`).  ``verify``: run
    ``PRAGMA quick_check`` on opening (about a second per GB of index): always for the
    processes that write it; a short-lived reader (one search) may skip it.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        busy_timeout: float = BUSY_TIMEOUT,
        now: Callable[[], float] = time.time,
        search_steps: int = searching.SEARCH_STEPS,
        search_seconds: float | None = searching.SEARCH_SECONDS,
        verify: bool = True,
    ) -> None:
        self.path = Path(path)
        self._busy_timeout = busy_timeout
        self._now = now
        self.search_steps = search_steps
        self.search_seconds = search_seconds
        self._verify = verify
        self._ingest: Ingest | None = None
        self._conn, self.fresh = self._open()

    def _open(self) -> tuple[sqlite3.Connection, bool]:
        conn, fresh = open_database(self.path, self._busy_timeout, self._verify)
        searching.install_functions(conn)
        st = os.stat(self.path)
        self._identity = (st.st_dev, st.st_ino)
        return conn, fresh

    def _reopen(self, why: str | None) -> None:
        """Close, move the file aside if ``why`` (damaged), open anew."""
        self._drop_ingest()
        self._conn.close()
        if why is not None:
            move_aside(self.path, why)
        self._conn, self.fresh = self._open()

    def _drop_ingest(self) -> None:
        if self._ingest is not None:
            self._ingest.close()
            self._ingest = None

    def close(self) -> None:
        self._drop_ingest()
        self._conn.close()

    def __enter__(self) -> Index:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing ---------------------------------------------------------------------

    def update(self, root: str | os.PathLike[str], max_lines: int | None = None) -> int:
        """Index the lines added under ``root`` since the last update (all of them the
        first time); at most about ``max_lines`` lines read.  The number indexed."""
        root = Path(root)
        try:
            st = os.stat(self.path)
            replaced = (st.st_dev, st.st_ino) != self._identity
        except FileNotFoundError:
            replaced = True
        if replaced:
            self._reopen(None)
        ingest = self._ingest
        if ingest is None or ingest.root != root:
            self._drop_ingest()
            ingest = self._ingest = self._new_ingest(root)
        try:
            return ingest.update(max_lines)
        except sqlite3.DatabaseError as e:
            if not is_damage(e):
                raise
            self._reopen(f"damaged: {e}")
        self._ingest = self._new_ingest(root)
        return self._ingest.update(max_lines)

    def _new_ingest(self, root: Path) -> Ingest:
        """The follower of ``root`` into this file (a subclass may send the lines on)."""
        return Ingest(self._conn, root, self._now)

    def rebuild(self, root: str | os.PathLike[str]) -> int:
        """Empty the index and read every file under ``root`` again."""
        self._drop_ingest()
        try:
            reset(self._conn)
        except sqlite3.DatabaseError as e:
            if not is_damage(e):
                raise
            self._reopen(f"damaged: {e}")
        self._ingest = self._new_ingest(Path(root))
        return self._ingest.update(None, full=True)

    @property
    def pending(self) -> bool:
        """Whether the last update stopped at ``max_lines`` with lines left to read."""
        return self._ingest is not None and self._ingest.more

    @property
    def lines_indexed(self) -> int:
        """Lines indexed by this object's updates (since the last root change)."""
        return 0 if self._ingest is None else self._ingest.lines

    @property
    def bad_lines(self) -> int:
        """Lines skipped as not jsonl records by this object's updates."""
        return 0 if self._ingest is None else self._ingest.bad

    # -- reading ---------------------------------------------------------------------

    @contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        try:
            yield self._conn
        except sqlite3.DatabaseError as e:
            if is_damage(e):
                raise IndexCorrupt(f"index {self.path} is damaged: {e}") from None
            raise

    def networks(self) -> list[str]:
        with self._reading() as conn:
            return reads.networks(conn)

    def channels(self, network: str) -> list[reads.ChannelInfo]:
        with self._reading() as conn:
            return reads.channels(conn, network)

    def days(self, network: str, channel: str) -> list[tuple[str, int]]:
        with self._reading() as conn:
            return reads.days(conn, network, channel)

    def day_lines(
        self, network: str, channel: str, day: str, after: int = 0, limit: int | None = None
    ) -> list[Line]:
        with self._reading() as conn:
            return reads.day_lines(conn, network, channel, day, after, limit)

    def neighbours(self, network: str, channel: str, day: str) -> tuple[str | None, str | None]:
        with self._reading() as conn:
            return reads.neighbours(conn, network, channel, day)

    def line(self, network: str, channel: str, day: str, seq: int) -> Line | None:
        with self._reading() as conn:
            return reads.line(conn, network, channel, day, seq)

    def search(self, query: Query, context: int = 0) -> list[Hit]:
        """Lines matching ``query``, newest first (:func:`.search.search`).

        :raises SearchError: a bad regular expression, too many words, too long."""
        with self._reading() as conn:
            return searching.search(conn, query, context, self.search_steps, self.search_seconds)

    def count(self, query: Query) -> int:
        """Lines matching ``query``, at most :data:`~.search.COUNT_CAP`."""
        with self._reading() as conn:
            return searching.count(conn, query, self.search_steps, self.search_seconds)
