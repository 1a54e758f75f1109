"""Which row of the ``files`` table a file found on disk is: the same file moved,
compressed, decompressed, truncated or replaced, or a new one.

Why: a file's path is not its identity.  The size rotation renames the live file, the
compressor makes ``X.gz`` from ``X`` and deletes ``X``, a restore replaces a file with a
copy; each time the lines already indexed must be neither indexed again nor lost.  The
evidence used: the inode (kept by a rename), and a row's ``head``, the first bytes of
the file it was read from (a jsonl line starts with its time to the millisecond and
its channel: two different files never start alike).  The rules are listed in
:mod:`.ingest`'s docstring.
"""

from __future__ import annotations

import os
import sqlite3
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from logbot.archive.index import sources
from logbot.archive.index.records import remove_file_lines

__all__ = ["CACHED", "FileRow", "Identity", "Rows", "identity", "row_of", "sibling"]

Identity = tuple[int, int, int, int]  # device, inode, size, mtime (ns)


@dataclass
class FileRow:
    id: int
    path: str
    dev: int
    ino: int
    size: int
    mtime_ns: int
    offset: int
    head: bytes
    first_ms: int | None
    bad: int


_ROW = "SELECT id, path, dev, ino, size, mtime_ns, offset, head, first_ms, bad FROM files"
#: The rows a process keeps in memory: without the heads (256 bytes a file), which are
#: read from the database when a decision needs them.
CACHED = "SELECT id, path, dev, ino, size, mtime_ns, offset, x'', first_ms, bad FROM files"


def identity(st: os.stat_result) -> Identity:
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def sibling(rel: str) -> str:
    """``X`` for ``X.gz``, ``X.gz`` for ``X``."""
    return rel[:-3] if rel.endswith(".gz") else rel + ".gz"


def _starts(head: bytes, known: bytes) -> bool:
    """Whether a file beginning with ``head`` is the one whose row has ``known``."""
    return bool(known) and head.startswith(known)


def _in_folder(parent: str) -> tuple[str, tuple[str, ...]]:
    """The query of the rows of the files directly in the folder ``parent``."""
    if not parent:
        return _ROW + " WHERE instr(path, '/') = 0", ()
    # "/" + 1 is "0": the range holds every path below the folder; deeper ones are cut
    return (
        _ROW + " WHERE path > ? AND path < ? AND instr(substr(path, ?), '/') = 0",
        (parent + "/", parent + "0", str(len(parent) + 2)),
    )


def row_of(values: tuple[object, ...]) -> FileRow:
    return FileRow(*values)  # type: ignore[arg-type]


class Rows:
    """The ``files`` table of one connection, for the files under one root.

    Every method runs inside the caller's transaction.  ``moved(old_path)`` is called
    when a row takes another path (the caller forgets what it kept of the old one)."""

    def __init__(self, conn: sqlite3.Connection, root: Path, moved: Callable[[str], None]) -> None:
        self.conn = conn
        self.root = root
        self._moved = moved
        self.copies: dict[str, Identity] = {}  # files skipped as a copy of a followed one

    def get(self, rel: str) -> FileRow | None:
        got = self.conn.execute(_ROW + " WHERE path = ?", (rel,)).fetchone()
        return None if got is None else row_of(got)

    def exists(self, rel: str, ino: int | None = None) -> bool:
        """Whether ``rel`` is a regular file (with inode ``ino``), no link followed."""
        try:
            st = os.lstat(self.root / rel)
        except OSError:
            return False
        return stat.S_ISREG(st.st_mode) and (ino is None or st.st_ino == ino)

    def starts_with(self, rel: str, head: bytes) -> bool:
        return bool(head) and sources.read_head(self.root, rel, len(head)) == head

    def move(self, row: FileRow, rel: str) -> FileRow:
        self.conn.execute("UPDATE files SET path = ? WHERE id = ?", (rel, row.id))
        self._moved(row.path)
        row.path = rel
        return row

    def adopt(self, rel: str, st: os.stat_result) -> FileRow | None:
        """The row for a path not in the table: a moved, compressed or decompressed
        file's, or a new one; None for a copy of a file that is followed instead."""
        head = sources.read_head(self.root, rel)
        query = _ROW + " WHERE ino = ? AND dev = ?"
        for got in self.conn.execute(query, (st.st_ino, st.st_dev)).fetchall():
            moved = row_of(got)
            if not self.exists(moved.path, moved.ino) and _starts(head, moved.head):
                return self.move(moved, rel)
        other = sibling(rel)
        if self.exists(other):
            row = self.get(other)
            if row is not None:
                copy = _starts(head, row.head)
            else:  # neither indexed yet: the plain one is, the .gz is its copy
                theirs = sources.read_head(self.root, other)
                n = min(len(theirs), len(head))
                copy = rel.endswith(".gz") and n > 0 and theirs[:n] == head[:n]
            if copy:
                self.copies[rel] = identity(st)
                return None
        for got in self.conn.execute(*_in_folder(rel.rpartition("/")[0])).fetchall():
            gone = row_of(got)
            if _starts(head, gone.head) and not self.exists(gone.path):
                return self.move(gone, rel)  # renamed and compressed, or decompressed
        cur = self.conn.execute(
            "INSERT INTO files (path, dev, ino, size, mtime_ns, offset, head)"
            " VALUES (?, ?, ?, -1, 0, 0, x'')",
            (rel, st.st_dev, st.st_ino),
        )
        assert cur.lastrowid is not None
        return FileRow(cur.lastrowid, rel, st.st_dev, st.st_ino, -1, 0, 0, b"", None, 0)

    def moved_away(self, row: FileRow, st: os.stat_result, names: list[str]) -> bool:
        """Whether ``row``'s file (its inode) now has another of the ``names`` of its
        folder (a rename the order of the work did not meet first): the row moves."""
        if (row.dev, row.ino) == (st.st_dev, st.st_ino):
            return False
        parent = row.path.rpartition("/")[0]
        for name in names:
            rel = f"{parent}/{name}" if parent else name
            if rel == row.path or not self.exists(rel, row.ino):
                continue
            if self.get(rel) is None and self.starts_with(rel, row.head):
                self.move(row, rel)
                return True
        return False

    def same_file(self, rel: str, row: FileRow, now: Identity) -> bool:
        """Whether the file ``rel`` (identity ``now``) still holds what ``row`` read:
        unchanged, or grown; or with another inode, starting with the row's head and
        long enough (a ``.gz``'s length is checked by reading to the offset)."""
        gz = rel.endswith(".gz")
        same = (row.dev, row.ino) == now[:2] and (not gz or (row.size, row.mtime_ns) == now[2:])
        if same and (gz or now[2] >= row.offset):
            return True
        return self.starts_with(rel, row.head) and (gz or now[2] >= row.offset)

    def save(self, row: FileRow) -> None:
        self.conn.execute(
            "UPDATE files SET dev = ?, ino = ?, size = ?, mtime_ns = ?, offset = ?, head = ?,"
            " first_ms = ?, bad = ? WHERE id = ?",
            (
                row.dev,
                row.ino,
                row.size,
                row.mtime_ns,
                row.offset,
                row.head,
                row.first_ms,
                row.bad,
                row.id,
            ),
        )

    def reset(self, row: FileRow) -> int:
        """The file is not what was read (truncated, replaced): its lines go, and it
        will be read from the start; the number of lines removed."""
        removed = remove_file_lines(self.conn, row.id)
        row.offset, row.head, row.first_ms, row.bad = 0, b"", None, 0
        return removed

    def drop_if_gone(self, rel: str) -> int | None:
        """Remove the row of ``rel`` and its lines if the file is gone and no sibling
        is about to take it over; the lines removed, or None if it was kept."""
        row = self.get(rel)
        other = sibling(rel)
        heir = self.exists(other) and self.get(other) is None
        if row is None or self.exists(rel) or heir:
            return None
        removed = remove_file_lines(self.conn, row.id)
        self.conn.execute("DELETE FROM files WHERE id = ?", (row.id,))
        return removed
