"""The :class:`PgFeed`: this bot's log files, followed into the PostgreSQL archive.

Why built on the SQLite index's follower: which files there are, how far each was
read, renames, compression, truncation, ``.gz`` handoffs and files deleted are all
solved there (:mod:`logbot.archive.index.ingest`).  The feed keeps that follower's
``files`` table in a small local SQLite file (:data:`STATE_NAME` under
``plugins.data_dir``) and sends the lines to PostgreSQL (:class:`.feed.PgSink`)
instead of its own tables.  Lines are never taken out of the database when files go:
the database is the team's archive, which outlives any one bot's files.  A lost or
damaged state file is made again and every file fed again, which the sightings make
harmless (only slow).

It runs where the SQLite index's follower runs (``logbot archive feed --follow``, a
child of ``logbot run``), on the same :class:`~logbot.archive.index.Follower`, so a
database that is down is one warning and a retry every ``interval``; the files are
written all the same, and the feed catches up when the database is back.  What it has
done, and how far behind it is, goes to :data:`STATUS_NAME` (JSON, written after
each look) for the bot's ``/metrics``.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from logbot.archive.index.database import Index
from logbot.archive.index.ingest import Ingest
from logbot.archive.postgres.connect import Database
from logbot.archive.postgres.feed import PgSink
from logbot.logs.safe_open import put_file

__all__ = ["MAX_STATUS_BYTES", "STATE_NAME", "STATUS_NAME", "PgFeed", "read_status", "write_status"]

#: The feed state's file name under ``plugins.data_dir``.
STATE_NAME = "postgres-feed.sqlite3"
#: The status file's name under ``plugins.data_dir``.
STATUS_NAME = "postgres-feed.json"
#: The largest status file read (bytes): it is ours, but a file planted there is not.
MAX_STATUS_BYTES = 4096


class PgFeed(Index):
    """Follows a log root into PostgreSQL; :meth:`update` as the index's (the number
    of lines read); ``sink.counts`` says which were new, matched or known."""

    def __init__(
        self,
        state: str | os.PathLike[str],
        database: Database,
        instance: str,
        window_ms: int,
        *,
        status_path: Path | None = None,
        now: Callable[[], float] = time.time,
    ) -> None:
        self.sink = PgSink(database, instance, window_ms)
        self.status_path = status_path
        super().__init__(state, now=now)

    def update(self, root: str | os.PathLike[str], max_lines: int | None = None) -> int:
        """As the index's; then the status file says how it went."""
        try:
            lines = super().update(root, max_lines)
            if not self.pending:  # caught up: what the bot wrote is in the database
                self.sink.heartbeat(int(self._now() * 1000))
        except Exception as e:
            self._report(False, f"{type(e).__name__}: {e}")
            raise
        self._report(True, None)
        return lines

    def _report(self, ok: bool, error: str | None) -> None:
        if self.status_path is None:
            return
        try:
            write_status(self.status_path, self.status(ok, error))
        except OSError:
            pass  # the status is for /metrics; the feed goes on without it

    def _new_ingest(self, root: Path) -> Ingest:
        return Ingest(self._conn, root, self._now, self.sink)

    def close(self) -> None:
        self.sink.close()
        super().close()

    def backlog_bytes(self) -> int:
        """Bytes of recently written log files not in the database yet (files changed
        within the last hour, and those left over by the last look)."""
        ingest = self._ingest
        if ingest is None:
            return 0
        paths = [rel for rel in ingest.watched() if not rel.endswith(".gz")]
        if ingest.rows is not None:
            offsets = {rel: row.offset for rel, row in ingest.rows.items()}
        else:  # after a failed look: what the state file says was fed
            offsets = dict(self._conn.execute("SELECT path, offset FROM files").fetchall())
        total = 0
        for rel in paths:
            try:
                size = os.stat(ingest.root / rel).st_size
            except OSError:
                continue
            total += max(0, size - offsets.get(rel, 0))
        return total

    def status(self, ok: bool, error: str | None) -> dict[str, Any]:
        counts = self.sink.counts
        return {
            "instance": self.sink.instance,
            "database_up": ok,
            "error": error,
            "backlog_bytes": self.backlog_bytes(),
            "events_new": counts.new,
            "events_matched": counts.matched,
            "lines_known": counts.known,
            "bad_lines": self.bad_lines,
            "last_line_ms": self.sink.last_ms,
            "written_at": self._now(),
        }


def write_status(path: Path, status: dict[str, Any]) -> None:
    """Write the status file (a temporary file renamed over it: readers see a whole)."""
    fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        put_file(fd, path.name, json.dumps(status, sort_keys=True).encode())
    finally:
        os.close(fd)


def read_status(path: Path) -> dict[str, Any] | None:
    """The feed's last status, or None (no feed, or a file that is not one)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
        with open(fd, "rb") as f:
            data = f.read(MAX_STATUS_BYTES + 1)
    except OSError:
        return None
    if len(data) > MAX_STATUS_BYTES:
        return None
    try:
        status = json.loads(data)
    except ValueError:
        return None
    return status if isinstance(status, dict) else None
