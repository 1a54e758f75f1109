"""Bringing the index up to date with the files: which files, from where, in what order.

Why each rule:

*Transactions*: every batch of a file is read inside a write transaction taken with
``BEGIN IMMEDIATE`` (the write lock first), in which the file's row is read again: its
offset is the truth, not what this process remembers.  So two processes following the
same root into one index never insert a line twice: the second reads the offset the
first committed.  Batches of several small files share a transaction (up to
:data:`TRANSACTION_LINES` lines): FTS5 writes its new entries at each commit, and a
commit per file of a catch-up (a day of a quiet channel) cost more than the lines.

*Files are known by their path as found* (``.gz`` kept) and recognised when they move:

- a rename keeps the inode (size rotation: ``D.jsonl`` -> ``D.001.jsonl``; the
  compressor making room: ``D.jsonl`` -> ``D.002.jsonl``): a new name whose inode is
  that of a row whose file is gone, and whose first bytes are that row's ``head``,
  takes the row over, offset and all;
- compression makes a new file ``X.gz`` of ``X``'s content, then deletes ``X``: a new
  ``X.gz`` whose decompressed first bytes are ``X``'s row's ``head`` is a copy: skipped
  while ``X`` exists (``X`` is the one followed, and may have more), then it takes
  ``X``'s row over and goes on at its offset in the decompressed stream, so no line is
  read twice.  The same holds the other way (``X`` decompressed from an indexed
  ``X.gz``);
- a ``.gz`` and a plain file of one name that do *not* start alike (a day's ``.gz``,
  and lines written to that day after a restart, before the compressor renamed them to
  a part) are two files, both indexed;
- a file whose inode changed, or that is shorter than its offset, is the same file
  only if it starts with its ``head`` and still reaches its offset; else it was
  truncated or replaced: its lines leave the index and it is read again;
- a new file that starts with the ``head`` of a row whose file is gone from the same
  folder takes that row over (renamed, then compressed, before the index looked);
- a file gone from a folder that was listed (retention deleted it) takes its lines out
  of the index: the files are the record.  Not when the log root lists empty (an
  unmounted disk): then nothing is removed.

*Order*: a channel's lines are numbered (``seq``) in the order indexed, so files are
taken by the time of their first line, then by folder and name.  Within a folder that
is the order they were written in: for the default names, the name order (days, and
the size rotation's parts ``D.001.jsonl``... before the live ``D.jsonl``), and the first
line's time also puts a part made of a day's late lines (numbered after an existing
``.gz``) after that ``.gz``.  Across folders the order does not matter to ``seq``; time
order keeps a catch-up's inserts in one stretch of the index, whose pages stay in the
cache.  A rebuild takes the files in the same order, so it gives every line the same
``seq`` as following did.  (A line is numbered after those of its day already indexed:
a file truncated or replaced in the middle of a day's files gets numbers after the
later files' until a rebuild.)
"""

from __future__ import annotations

import logging
import os
import sqlite3
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from logbot.archive.index import sources
from logbot.archive.index.identity import CACHED, FileRow, Identity, Rows, identity, row_of
from logbot.archive.index.records import Inserted, insert_lines
from logbot.archive.index.scan import HOT_SECONDS, Scanner
from logbot.archive.index.schema import HEAD_BYTES

__all__ = ["GZ_READERS", "TRANSACTION_LINES", "Ingest", "Sink"]

log = logging.getLogger("logbot.archive.index")

#: Lines read per transaction at most, whatever ``max_lines`` allows: bounds the memory
#: of a batch and how long the write lock is held (readers never wait: WAL).
TRANSACTION_LINES = 10000

#: Decompressing ``.gz`` streams kept open between batches (a ``.gz`` cannot be read
#: from the middle: without them each batch would decompress from the start again).
GZ_READERS = 2

_LAST = 1 << 62  # sorts a file whose first line has no time after the others


@dataclass
class _Outcome:
    lines: int = 0
    bad: int = 0
    consumed: int = 0
    more: bool = False


class Sink:
    """Where a batch's lines go: the index's own tables (this class), or elsewhere (the
    PostgreSQL feed keeps only the ``files`` rows here and sends the lines on).

    ``insert`` takes a batch inside the open transaction; ``commit`` is called just
    before the transaction commits (the lines must be safe elsewhere before the offsets
    that say they were read are); ``discard`` when it rolls back."""

    def insert(self, conn: sqlite3.Connection, file_id: int, raws: Sequence[bytes]) -> Inserted:
        return insert_lines(conn, file_id, raws)

    def commit(self) -> None:
        pass

    def discard(self) -> None:
        pass


class Ingest:
    """The state of following one log root into one index connection."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        root: Path,
        now: Callable[[], float],
        sink: Sink | None = None,
    ) -> None:
        self.conn = conn
        self.sink = Sink() if sink is None else sink
        self.root = root
        self._now = now
        self.scanner = Scanner(root, now)
        self.files = Rows(conn, root, self._forget)
        self.rows: dict[str, FileRow] | None = None  # a cache: the database is the truth
        self._pending: set[str] = set()  # files with lines left (or an error) last time
        self._hot: dict[str, float] = {}  # plain file -> its mtime, while recent
        self._peeked: dict[str, int | None] = {}  # files not indexed yet -> first line's time
        self._readers: OrderedDict[str, tuple[Identity, sources.Reader]] = OrderedDict()
        self._warned: set[tuple[str, str]] = set()
        self._warned_empty = False
        self.more = False  # the last update stopped at its limit with lines left
        self._txn_lines = self._txn_indexed = self._txn_bad = 0  # in the open transaction
        self.lines = 0
        self.bad = 0

    def watched(self) -> set[str]:
        """The files looked at every time: plain files written to recently, and those
        with lines left (or an error) at the last look."""
        return set(self._hot) | self._pending

    def close(self) -> None:
        for _, reader in self._readers.values():
            reader.close()
        self._readers.clear()

    # -- one look ------------------------------------------------------------------

    def update(self, max_lines: int | None = None, full: bool = False) -> int:
        """Index what was added since the last look; the number of lines indexed."""
        if self.rows is None:
            self.rows = {r.path: r for r in map(row_of, self.conn.execute(CACHED))}
            full = True
        rows = self.rows
        look = self.scanner.look(list(self._hot) + list(self._pending), full=full)
        if look.full:  # first times of files gone before they were indexed
            self._peeked = {r: ms for r, ms in self._peeked.items() if r in look.stats}
        copies = self.files.copies
        for rel in [r for r in copies if r.rpartition("/")[0] in look.listed]:
            del copies[rel]
        now = self._now()
        work = []
        for rel, st in look.stats.items():
            if not rel.endswith(".gz"):
                if now - st.st_mtime < HOT_SECONDS:
                    self._hot[rel] = st.st_mtime
                else:
                    self._hot.pop(rel, None)
            if rel in self._pending or self._needs_work(rows.get(rel), rel, st):
                work.append((self._order(rel), rel, st))
        for rel in [r for r, mtime in self._hot.items() if now - mtime >= HOT_SECONDS]:
            del self._hot[rel]
        budget = max_lines
        total = 0
        self.more = False
        try:
            work.sort(key=lambda w: w[0])
            for done, (_, rel, st) in enumerate(work):
                while budget is None or budget > 0:
                    limit = TRANSACTION_LINES if budget is None else min(budget, TRANSACTION_LINES)
                    out = self._guarded(rel, st, limit)
                    total += out.lines
                    if budget is not None:
                        budget -= max(out.consumed, 1)
                    if self._txn_lines >= TRANSACTION_LINES:
                        self._commit()
                    if not out.more:
                        break
                else:
                    self.more = True  # the rest is looked at first next time
                    self._pending.update(rel for _, rel, _ in work[done:])
                    break
            self._commit()
        except BaseException:
            self._rollback()
            raise
        if not self.more and (look.listed or look.gone_dirs):
            self._remove_gone(look.root_empty)
        return total

    # -- transactions: many files' batches in one ------------------------------------

    def _begin(self) -> None:
        if not self.conn.in_transaction:
            self.conn.execute("BEGIN IMMEDIATE")
            self._txn_lines = self._txn_indexed = self._txn_bad = 0

    def _commit(self) -> None:
        if self.conn.in_transaction:
            self.sink.commit()
            self.conn.execute("COMMIT")
        self.lines += self._txn_indexed
        self.bad += self._txn_bad
        self._txn_lines = self._txn_indexed = self._txn_bad = 0

    def _rollback(self) -> None:
        self.sink.discard()
        if self.conn.in_transaction:
            self.conn.execute("ROLLBACK")
        self._txn_lines = self._txn_indexed = self._txn_bad = 0
        self.rows = None  # reloaded: the cache may hold what was rolled back
        self.close()  # the .gz readers kept may have read past what was rolled back

    def _needs_work(self, row: FileRow | None, rel: str, st: os.stat_result) -> bool:
        if row is None:
            return self.files.copies.get(rel) != identity(st)
        if (row.dev, row.ino) != (st.st_dev, st.st_ino):
            return True
        if rel.endswith(".gz"):
            return (row.size, row.mtime_ns) != (st.st_size, st.st_mtime_ns)
        return st.st_size != row.size

    def _order(self, rel: str) -> tuple[int, str, str]:
        """Files by their first line's time, then folder and name (the docstring's
        *Order*)."""
        parent, _, name = rel.rpartition("/")
        row = self.rows.get(rel) if self.rows is not None else None
        if row is not None:
            ms = row.first_ms
        elif rel in self._peeked:
            ms = self._peeked[rel]
        else:  # a new file: its first line is read once (a catch-up sorts many times)
            ms = self._peeked[rel] = sources.first_ms(self.root, rel)
        return (_LAST if ms is None else ms, parent, name)

    def _guarded(self, rel: str, st: os.stat_result, limit: int) -> _Outcome:
        """:meth:`_batch` in the current transaction.  A file that cannot be read is
        warned about (once per error) and retried next time; database errors go up to
        the caller.  No savepoint is needed (they would cost FTS5 a flush per file):
        what a batch changes before its file's read fails (a row moved to where its file
        now is, a new row at offset 0, a replaced file's lines removed) is true anyway."""
        self._begin()
        try:
            out = self._batch(rel, st, limit)
        except (OSError, EOFError) as e:
            self._drop_reader(rel)
            if self.rows is not None:
                self.rows.pop(rel, None)
            if isinstance(e, FileNotFoundError):
                self._pending.discard(rel)  # gone meanwhile: the next listing says where
                return _Outcome()
            self._pending.add(rel)
            why = getattr(e, "strerror", None) or str(e)
            if (rel, why) not in self._warned:
                self._warned.add((rel, why))
                log.warning("index: cannot read %s: %s (will retry)", self.root / rel, why)
            return _Outcome()
        self._txn_lines += out.consumed
        self._txn_indexed += out.lines
        self._txn_bad += out.bad
        if out.more:
            self._pending.add(rel)
        else:
            self._pending.discard(rel)
        return out

    # -- one batch of one file --------------------------------------------------------

    def _batch(self, rel: str, st: os.stat_result, limit: int) -> _Outcome:
        """Read up to ``limit`` lines of ``rel`` from the offset its row has *now* (read
        again inside the transaction) and insert them; the row follows."""
        files = self.files
        row = files.get(rel)
        if row is not None and files.moved_away(row, st, self.scanner.names(os.path.dirname(rel))):
            row = None
        if row is None:
            row = files.adopt(rel, st)
            if row is None:
                return _Outcome()
        reader, ident = self._open(rel, row)
        try:
            lines, skipped = reader.take(limit)
            inserted = self.sink.insert(self.conn, row.id, lines)
        except BaseException:
            reader.close()
            raise
        bad = inserted.bad + skipped
        if bad and not row.bad:
            log.warning(
                "index: %s: skipping lines that are not jsonl records (first near byte %d)",
                self.root / rel,
                row.offset,
            )
        if reader.error is not None:
            log.warning(
                "index: %s is damaged: read up to byte %d (%s)", rel, reader.pos, reader.error
            )
        row.offset = reader.pos
        row.dev, row.ino, row.size, row.mtime_ns = ident
        row.bad += bad
        if row.first_ms is None:
            row.first_ms = inserted.first_ms
        if len(row.head) < HEAD_BYTES and row.offset > len(row.head):
            row.head = sources.read_head(self.root, rel, min(row.offset, HEAD_BYTES))
        files.save(row)
        self._keep_reader(rel, ident, reader)
        self._peeked.pop(rel, None)
        if self.rows is not None:
            self.rows[rel] = replace(row, head=b"")
        consumed = len(lines) + skipped
        return _Outcome(inserted.lines, bad, consumed, consumed >= limit)

    def _open(self, rel: str, row: FileRow) -> tuple[sources.Reader, Identity]:
        """A reader of ``rel`` at ``row.offset``; a file that is no longer what the row
        says loses its lines and is read from the start (``row`` is reset)."""
        kept = self._readers.pop(rel, None)
        reader = sources.open_reader(self.root, rel)
        ident = identity(os.fstat(reader.fd))
        if kept is not None:
            if kept[0] == ident and kept[1].pos <= row.offset:
                reader.close()
                reader = kept[1]
            else:
                kept[1].close()
        if row.offset == 0:
            return reader, ident
        if self.files.same_file(rel, row, ident) and reader.skip_to(row.offset):
            return reader, ident
        reader.close()
        removed = self.files.reset(row)
        log.warning(
            "index: %s was truncated or replaced: its %d lines read again", self.root / rel, removed
        )
        return sources.open_reader(self.root, rel), ident

    def _forget(self, rel: str) -> None:
        """A row left the path ``rel``: what is kept of it goes."""
        self._peeked.pop(rel, None)
        if self.rows is not None:
            self.rows.pop(rel, None)
        self._drop_reader(rel)

    def _keep_reader(self, rel: str, ident: Identity, reader: sources.Reader) -> None:
        if not rel.endswith(".gz") or reader.error is not None:
            reader.close()
            return
        self._readers[rel] = (ident, reader)
        while len(self._readers) > GZ_READERS:
            _, (_, old) = self._readers.popitem(last=False)
            old.close()

    def _drop_reader(self, rel: str) -> None:
        kept = self._readers.pop(rel, None)
        if kept is not None:
            kept[1].close()

    # -- files gone ---------------------------------------------------------------

    def _remove_gone(self, root_empty: bool) -> None:
        """Take out the lines of files no longer in their (listed) folder."""
        assert self.rows is not None
        gone = [rel for rel in self.rows if not self.scanner.has_file(rel)]
        if not gone:
            return
        if root_empty:
            if not self._warned_empty:
                self._warned_empty = True
                log.warning("index: the log root %s is empty: keeping the index", self.root)
            return
        for rel in gone:
            self._remove_one(rel)

    def _remove_one(self, rel: str) -> None:
        conn = self.conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            removed = self.files.drop_if_gone(rel)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        if removed is not None:
            log.info("index: %s is gone: %d lines removed", self.root / rel, removed)
        self._forget(rel)
