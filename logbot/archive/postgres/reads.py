"""The PostgreSQL archive read as the SQLite index is: :class:`PgArchive`.

Why the same methods and shapes as :class:`logbot.archive.index.Index`'s reads: the
web view (:class:`~logbot.archive.web.routes.ArchiveIndex`) and ``logbot search`` take
either, and need not know which; a bad query is the same
:class:`~logbot.archive.index.search.SearchError`, so they handle both alike.

What differs underneath: the lines are events several bots fed, deduplicated; a
day's lines are ordered by (time_ms, id) and numbered when read (:mod:`.merged`); a
bot's gap lines are shown only for what no other bot saw (:mod:`.gaps`).  Channels
are given and compared by their key (a name in any case is folded first), as in the
index; private logs (a nick for a channel) are listed as the index lists them, and
the web view's publishing rules keep them out of its pages.

A lost connection is a :class:`ConnectionLost` (a :class:`StoreUnavailable`), its
message naming the server without the DSN's password.  An archive made with
:meth:`PgArchive.connect` opens a new connection at the next call after a loss (the
web view outlives a database restart); one given a connection leaves that to its
owner.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg

from logbot.archive.index.reads import ChannelInfo
from logbot.archive.index.records import fold
from logbot.archive.index.search import SEARCH_SECONDS
from logbot.archive.model import ArchiveUnavailable, Hit, Line, Query
from logbot.archive.postgres import pgsearch
from logbot.archive.postgres.connect import Database, DatabaseError
from logbot.archive.postgres.merged import page
from logbot.archive.postgres.schema import require_current

__all__ = ["ChannelInfo", "ConnectionLost", "PgArchive", "StoreUnavailable"]


class StoreUnavailable(DatabaseError, ArchiveUnavailable):
    """The archive's database cannot be reached or used (the message says which
    server, never its password)."""


class ConnectionLost(StoreUnavailable):
    """The connection to the archive's database failed or was lost."""


def _describe(conn: psycopg.Connection[Any]) -> str:
    info = conn.info
    return f"{info.user}@{info.host}:{info.port}/{info.dbname}"


def _open(dsn: str) -> psycopg.Connection[Any]:
    try:
        conn = Database(dsn).connect(autocommit=True)
    except DatabaseError as e:
        raise ConnectionLost(f"cannot connect to the archive database {e}") from None
    conn.read_only = True
    return conn


class PgArchive:
    """The archive in the PostgreSQL database of ``conn`` (autocommit; only read).

    ``search_rows`` and ``search_seconds``: the bounds of one search (:mod:`.pgsearch`).

    :raises SchemaError: the database is not at this logbot's schema version.
    """

    def __init__(
        self,
        conn: psycopg.Connection[Any],
        *,
        search_rows: int = pgsearch.SEARCH_ROWS,
        search_seconds: float | None = SEARCH_SECONDS,
        _dsn: str | None = None,
    ) -> None:
        if not conn.autocommit:
            raise ValueError("PgArchive needs a connection in autocommit mode")
        self._conn = conn
        self._dsn = _dsn
        self._where = _describe(conn)
        self.search_rows = search_rows
        self.search_seconds = search_seconds
        with self._reading():
            require_current(conn)

    @classmethod
    def connect(cls, dsn: str, **kw: Any) -> PgArchive:
        """An archive on a connection of its own to ``dsn`` (closed by :meth:`close`).

        :raises ConnectionLost: the server cannot be reached."""
        conn = _open(dsn)
        try:
            return cls(conn, _dsn=dsn, **kw)
        except BaseException:
            conn.close()
            raise

    def close(self) -> None:
        """Close the connection if it is the archive's own (:meth:`connect`); one given
        to the constructor is its owner's to close."""
        if self._dsn is not None:
            self._conn.close()

    def __enter__(self) -> PgArchive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _reading(self) -> Iterator[psycopg.Connection[Any]]:
        conn = self._conn
        if conn.broken and self._dsn is not None:
            conn.close()
            conn = self._conn = _open(self._dsn)
        try:
            yield conn
        except (psycopg.OperationalError, psycopg.InterfaceError) as e:
            where = self._where
            raise ConnectionLost(f"the archive database {where} is unavailable: {e}") from None

    # -- the read API of the SQLite index --------------------------------------------

    def networks(self) -> list[str]:
        with self._reading() as conn:
            rows = conn.execute("SELECT DISTINCT network FROM days ORDER BY network").fetchall()
        return [row[0] for row in rows]

    def channels(self, network: str) -> list[ChannelInfo]:
        with self._reading() as conn:
            rows = conn.execute(
                "SELECT d.channel, coalesce(max(c.name), d.channel), min(d.day), max(d.day),"
                " sum(d.count) FROM days d LEFT JOIN channels c"
                " ON c.network = d.network AND c.channel = d.channel"
                " WHERE d.network = %s GROUP BY d.channel ORDER BY d.channel",
                (network,),
            ).fetchall()
        return [
            ChannelInfo(network, key, name, first, last, int(n))
            for key, name, first, last, n in rows
        ]

    def days(self, network: str, channel: str) -> list[tuple[str, int]]:
        """The days with lines, oldest first, with their line counts (hidden gap lines
        included: :mod:`.merged`)."""
        with self._reading() as conn:
            rows = conn.execute(
                "SELECT day, count FROM days WHERE network = %s AND channel = %s ORDER BY day",
                (network, fold(channel)),
            ).fetchall()
        return [(day, int(n)) for day, n in rows]

    def day_lines(
        self, network: str, channel: str, day: str, after: int = 0, limit: int | None = None
    ) -> list[Line]:
        """A day's lines by seq; only those after seq ``after``; at most ``limit``."""
        with self._reading() as conn:
            return page(conn, network, fold(channel), day, after, limit)

    def neighbours(self, network: str, channel: str, day: str) -> tuple[str | None, str | None]:
        """The days with lines before and after ``day`` (None at either end)."""
        with self._reading() as conn:
            row = conn.execute(
                "SELECT (SELECT max(day) FROM days WHERE network = %s AND channel = %s"
                " AND day < %s), (SELECT min(day) FROM days WHERE network = %s"
                " AND channel = %s AND day > %s)",
                (network, fold(channel), day) * 2,
            ).fetchone()
        return (None, None) if row is None else (row[0], row[1])

    def line(self, network: str, channel: str, day: str, seq: int) -> Line | None:
        """The line ``seq`` of a day (None: no such line, or a gap line left out)."""
        if seq < 1:
            return None
        with self._reading() as conn:
            found = page(conn, network, fold(channel), day, seq - 1, 1)
        return found[0] if found and found[0].seq == seq else None

    def search(self, query: Query, context: int = 0) -> list[Hit]:
        """Lines matching ``query``, newest first (:func:`.pgsearch.search`).

        :raises SearchError: a bad regular expression, too many words, too long."""
        with self._reading() as conn:
            return pgsearch.search(conn, query, context, self.search_rows, self.search_seconds)

    def count(self, query: Query) -> int:
        """Lines matching ``query``, at most :data:`~.search.COUNT_CAP`."""
        with self._reading() as conn:
            return pgsearch.count(conn, query, self.search_rows, self.search_seconds)
