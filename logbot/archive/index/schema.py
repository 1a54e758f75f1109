"""The index's SQLite file: its tables, its version, and what is done with a bad one.

Why so wary: the index is a cache of the log files, never the record.  A file that is
not SQLite, one of another schema version, or one that fails ``PRAGMA quick_check`` is
moved aside (to ``<name>.damaged``, replacing an older one) and a new, empty index is
made in its place, with one warning line; the caller then fills it from the files.
Nothing in a damaged index is read.

The tables (``SCHEMA_VERSION`` names this layout; any change to it bumps the version,
and an index of another version is rebuilt rather than migrated):

- ``meta``: ``schema_version``.
- ``files``: one row per log file read, by its path below the log root *as found*
  (``.gz`` kept: a day's ``.gz`` and a new plain file of the same day may live side by
  side, see :mod:`.ingest`), with its identity (device, inode, size, mtime) when last
  read, ``offset`` (bytes of *uncompressed* content consumed, always at a line
  boundary), ``head`` (its first bytes, up to :data:`HEAD_BYTES`: the fingerprint that
  says a renamed or compressed file is the same content), ``first_ms`` (its first
  line's time: the order of a channel's files) and ``bad`` (lines skipped).
- ``lines``: one row per record.  ``id`` is ``time_ms << ID_SHIFT`` plus a counter for
  lines of the same millisecond, so that the rowid order *is* the time order: FTS5 then
  walks a word's matches newest first and stops at the limit, instead of sorting every
  match of a common word.  ``channel`` is the key (RFC 1459 folding), ``name`` the
  spelling written; ``nick_key`` the folded nick; ``record`` the whole JSON text.
- ``days``: (network, channel, day) -> ``count`` lines and ``last_seq``, the highest
  seq given (the next line of the day gets ``last_seq + 1``).
- ``channels``: (network, channel) -> the latest spelling seen and its time.
- ``words``: FTS5 over ``lines.text`` (external content: the text is stored once, in
  ``lines``), ``unicode61 remove_diacritics 2`` (case- and accent-blind),
  ``columnsize=0`` (no ranking is done, so no per-row sizes are kept).  The nick is
  not in it: a query's nick is compared exactly (folded) through ``lines_nick``.
"""

from __future__ import annotations

import errno
import logging
import os
import sqlite3
from pathlib import Path

__all__ = [
    "BUSY_TIMEOUT",
    "CACHE_KIB",
    "HEAD_BYTES",
    "ID_SHIFT",
    "SCHEMA_VERSION",
    "IndexCorrupt",
    "connect",
    "is_damage",
    "move_aside",
    "open_database",
    "reset",
]

log = logging.getLogger("logbot.archive.index")

#: The layout below; an index of any other version is rebuilt from the files.
SCHEMA_VERSION = 1

#: Bits of a line id below its ``time_ms``: up to 2**14 = 16384 lines of one
#: millisecond keep the time order (more spill to ids after every other line, see
#: :mod:`.ingest`).  14 bits keep every ``time_ms`` the jsonl schema allows
#: (year 1 to 9999) inside a signed 64-bit rowid.
ID_SHIFT = 14

#: Bytes of a file's beginning kept as its fingerprint (256: a jsonl line's time to the
#: millisecond, network, channel and nick are in its first hundred bytes).
HEAD_BYTES = 256

#: Seconds a statement waits for another process's write lock before failing with
#: "database is locked" (the follower then retries at its next interval).
BUSY_TIMEOUT = 5.0

#: SQLite's page cache per connection, in KiB (64 MiB): enough for the B-tree pages a
#: batch touches; memory stays bounded whatever the index's size.
CACHE_KIB = 65536

_MAGIC = b"SQLite format 3\x00"

_TABLES = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE files (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL UNIQUE,
    dev INTEGER NOT NULL,
    ino INTEGER NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    offset INTEGER NOT NULL,
    head BLOB NOT NULL,
    first_ms INTEGER,
    bad INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX files_ino ON files (ino);
CREATE TABLE lines (
    id INTEGER PRIMARY KEY,
    file_id INTEGER NOT NULL,
    network TEXT NOT NULL,
    channel TEXT NOT NULL,
    name TEXT NOT NULL,
    day TEXT NOT NULL,
    seq INTEGER NOT NULL,
    time_ms INTEGER NOT NULL,
    type TEXT NOT NULL,
    nick TEXT,
    nick_key TEXT,
    text TEXT,
    record TEXT NOT NULL,
    replayed INTEGER NOT NULL
);
CREATE UNIQUE INDEX lines_day ON lines (network, channel, day, seq);
CREATE INDEX lines_time ON lines (network, channel, time_ms);
CREATE INDEX lines_nick ON lines (nick_key);
CREATE INDEX lines_file ON lines (file_id);
CREATE TABLE days (
    network TEXT NOT NULL,
    channel TEXT NOT NULL,
    day TEXT NOT NULL,
    count INTEGER NOT NULL,
    last_seq INTEGER NOT NULL,
    PRIMARY KEY (network, channel, day)
) WITHOUT ROWID;
CREATE TABLE channels (
    network TEXT NOT NULL,
    channel TEXT NOT NULL,
    name TEXT NOT NULL,
    last_ms INTEGER NOT NULL,
    PRIMARY KEY (network, channel)
) WITHOUT ROWID;
CREATE VIRTUAL TABLE words USING fts5 (
    text,
    content = 'lines',
    content_rowid = 'id',
    columnsize = 0,
    tokenize = 'unicode61 remove_diacritics 2'
);
"""

_EXPECTED = frozenset({"meta", "files", "lines", "days", "channels", "words"})


class IndexCorrupt(Exception):
    """The index file cannot be trusted (not SQLite, another version, damaged)."""


def connect(path: Path, busy_timeout: float = BUSY_TIMEOUT) -> sqlite3.Connection:
    """A connection with the index's settings: WAL (readers never wait for the
    writer), ``synchronous=NORMAL`` (a power cut may lose the last batches, never the
    file's consistency: their offsets roll back with them and the lines are read
    again), transactions opened explicitly (``isolation_level=None``)."""
    conn = sqlite3.connect(os.fspath(path), timeout=busy_timeout, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
        conn.execute("PRAGMA temp_store=MEMORY")
    except BaseException:
        conn.close()
        raise
    return conn


def is_damage(error: sqlite3.Error) -> bool:
    """Whether an SQLite error says the file is damaged or not a database (as opposed
    to one that cannot be opened or written: a permission, a full disk, a lock)."""
    name = getattr(error, "sqlite_errorname", "") or ""
    return name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB"))


def _problem(conn: sqlite3.Connection, verify: bool) -> str | None:
    """Why the index behind ``conn`` cannot be used, or None if it can; ``verify``:
    also run ``PRAGMA quick_check`` (about a second per GB)."""
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    if not tables:
        return None  # a new, empty file
    if "meta" not in tables:
        return "not a logbot index (no meta table)"
    row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    if row is None or row[0] != str(SCHEMA_VERSION):
        found = "none" if row is None else row[0]
        return f"schema version {found}, this logbot uses {SCHEMA_VERSION}"
    if _EXPECTED - tables:
        return f"tables missing: {', '.join(sorted(_EXPECTED - tables))}"
    check = conn.execute("PRAGMA quick_check").fetchall() if verify else [("ok",)]
    if check != [("ok",)]:
        return f"quick_check failed: {check[0][0]}"
    return None


def _create(conn: sqlite3.Connection) -> None:
    conn.execute("BEGIN IMMEDIATE")
    try:
        if conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] == 0:
            for statement in _TABLES.split(";"):
                if statement.strip():
                    conn.execute(statement)
            conn.execute(
                "INSERT INTO meta (key, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),)
            )
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def reset(conn: sqlite3.Connection) -> None:
    """Empty the index (drop every table and make them again), in one transaction."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        for name in ("words", "lines", "files", "days", "channels", "meta"):
            conn.execute(f"DROP TABLE IF EXISTS {name}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    _create(conn)


def move_aside(path: Path, why: str) -> None:
    """Move a bad index (and its WAL files) out of the way, with one warning line.

    It goes to ``<name>.damaged`` (replacing an older one), where it can be looked at;
    the files it was made from are untouched."""
    log.warning("index %s cannot be used (%s): moved aside, rebuilding from the logs", path, why)
    aside = path.with_name(path.name + ".damaged")
    try:
        os.replace(path, aside)
    except FileNotFoundError:
        pass
    for suffix in ("-wal", "-shm"):
        try:
            os.unlink(path.with_name(path.name + suffix))
        except FileNotFoundError:
            pass


def _try_open(
    path: Path, busy_timeout: float, verify: bool
) -> tuple[sqlite3.Connection | None, str | None]:
    """``(connection, None)`` for a usable index, ``(None, why)`` for a damaged one."""
    try:
        with open(path, "rb") as f:
            magic = f.read(len(_MAGIC))
    except FileNotFoundError:
        magic = b""
    if magic and magic != _MAGIC:
        return None, "not an SQLite database"
    conn = None
    try:
        conn = connect(path, busy_timeout)
        why = _problem(conn, verify)
    except sqlite3.DatabaseError as e:
        if not is_damage(e):
            if conn is not None:
                conn.close()
            raise
        why = f"unreadable: {e}"
    if why is not None and conn is not None:
        conn.close()
        conn = None
    return conn, why


def open_database(
    path: Path, busy_timeout: float = BUSY_TIMEOUT, verify: bool = True
) -> tuple[sqlite3.Connection, bool]:
    """The index at ``path``, made if missing: ``(connection, fresh)``.

    ``fresh`` is True when the tables were just made (a new file, or a bad one moved
    aside): the caller fills it from the log files.  The folder is created if needed.
    ``verify``: check every page (``quick_check``); a short-lived reader may leave it to
    the processes that write (damage met later is an error all the same).
    :raises OSError, sqlite3.Error: the index cannot be made (a read-only folder...).
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except FileExistsError:  # a file where the folder should be
        raise NotADirectoryError(
            errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(path.parent)
        ) from None
    conn, why = _try_open(path, busy_timeout, verify)
    if conn is None:
        move_aside(path, why or "damaged")
        conn = connect(path, busy_timeout)
    try:
        fresh = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] == 0
        _create(conn)
    except BaseException:
        conn.close()
        raise
    return conn, fresh
