"""Storing a batch of one bot's lines in the PostgreSQL archive, each event once.

Why one transaction per batch, under one advisory lock: the rule of
:mod:`.matching` reads what is stored, then writes; two bots feeding the same events at
the same moment must not both find nothing and both insert.  The lock
(:data:`LOCK_FEED`, held to the batch's commit) makes the batches of all bots one after
the other; a batch of thousands of lines takes tens of milliseconds, so a second bot
waits that long, never more than a batch.

The lines reach here only after the files have them (:class:`PgSink` is the sink of
the SQLite index's file follower, whose ``files`` table, kept in a small local file,
says how far each log file was fed).  The database's commit comes first, then the
local offsets': a crash between the two feeds a batch again, which the sightings make
harmless (:mod:`.events`).
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from logbot.archive.index.ingest import Sink
from logbot.archive.index.records import Inserted
from logbot.archive.postgres.connect import Database
from logbot.archive.postgres.copytext import copy_rows
from logbot.archive.postgres.events import Event, parse_event
from logbot.archive.postgres.matching import Candidate, decide

__all__ = ["LOCK_FEED", "FeedCounts", "PgSink", "store_batch"]

log = logging.getLogger("logbot.archive.postgres")

#: The advisory lock key of the feed (see the module's docstring).
LOCK_FEED = 0x6C6F67626F740002

_EVENT_COLUMNS = (
    "id, network, channel, name, day, time_ms, type, nick, nick_key, text, msgid,"
    " match_key, instance, marker, gap_from_ms, record"
)


@dataclass
class FeedCounts:
    """What storing batches did: ``new`` events, lines ``matched`` to another bot's
    events, lines ``known`` (fed before: skipped)."""

    new: int = 0
    matched: int = 0
    known: int = 0

    def add(self, other: FeedCounts) -> None:
        self.new += other.new
        self.matched += other.matched
        self.known += other.known


def _unseen(conn: Any, instance: str, events: list[Event]) -> list[Event]:
    """``events`` without those this bot fed before (rule 1), and without repeats of a
    line within the batch."""
    hashes = list({e.line_hash: None for e in events})
    known = {
        bytes(h)
        for (h,) in conn.execute(
            "SELECT line_hash FROM sightings WHERE instance = %s AND line_hash = ANY(%s)",
            (instance, hashes),
            prepare=False,
        )
    }
    fresh: list[Event] = []
    for e in events:
        if e.line_hash not in known:
            known.add(e.line_hash)
            fresh.append(e)
    return fresh


def _stored_msgids(conn: Any, events: list[Event]) -> dict[tuple[str, str], int]:
    """(network, msgid) -> id of the stored events with the batch's msgids: one query
    per network, so that ``events_msgid (network, msgid)`` is probed id by id (without
    the network, a cached generic plan scanned the whole table for each batch: 17-25 s
    a batch at 200,000 rows, bench/bench_pg_feed.py)."""
    by_network: dict[str, set[str]] = {}
    for e in events:
        if e.msgid is not None:
            by_network.setdefault(e.network, set()).add(e.msgid)
    found: dict[tuple[str, str], int] = {}
    for network, ids in by_network.items():
        rows = conn.execute(
            "SELECT msgid, id FROM events WHERE network = %s AND msgid = ANY(%s)"
            " AND msgid IS NOT NULL",
            (network, list(ids)),
            prepare=False,
        )
        found.update(((network, msgid), ident) for msgid, ident in rows)
    return found


def _candidates(conn: Any, instance: str, events: list[Event], window_ms: int) -> list[Candidate]:
    plain = [e for e in events if not e.marker]
    if not plain:
        return []
    keys = list({e.match_key for e in plain})
    lo = min(e.time_ms for e in plain) - window_ms
    hi = max(e.time_ms for e in plain) + window_ms
    rows = conn.execute(
        "SELECT e.id, e.match_key, e.time_ms, e.msgid IS NOT NULL FROM events e"
        " WHERE e.match_key = ANY(%s) AND e.time_ms BETWEEN %s AND %s AND NOT e.marker"
        " AND NOT EXISTS (SELECT 1 FROM sightings s"
        " WHERE s.event_id = e.id AND s.instance = %s)",
        (keys, lo, hi, instance),
        prepare=False,  # a plan for these very keys and times, not a generic one
    )
    return [Candidate(*row) for row in rows]


def _insert_new(conn: Any, instance: str, new: list[Event]) -> list[int]:
    ids = [
        i
        for (i,) in conn.execute(
            "SELECT nextval('events_id_seq') FROM generate_series(1, %s)", (len(new),)
        )
    ]
    rows = [
        (
            ident,
            e.network,
            e.channel,
            e.name,
            e.day,
            e.time_ms,
            e.type,
            e.nick,
            e.nick_key,
            e.text,
            e.msgid,
            e.match_key,
            instance,
            e.marker,
            e.gap_from_ms,
            e.record,
        )
        for ident, e in zip(ids, new, strict=True)
    ]
    with conn.cursor().copy(f"COPY events ({_EVENT_COLUMNS}) FROM STDIN") as copy:
        copy.write(copy_rows(rows))
    return ids


def _summaries(conn: Any, instance: str, fed: list[Event], new: list[Event]) -> None:
    """``days``, ``channels`` and ``instances`` after a batch."""
    days: dict[tuple[str, str, str], int] = {}
    names: dict[tuple[str, str], tuple[int, str]] = {}
    for e in new:
        key = (e.network, e.channel, e.day)
        days[key] = days.get(key, 0) + 1
        seen = names.get((e.network, e.channel))
        if seen is None or e.time_ms >= seen[0]:
            names[(e.network, e.channel)] = (e.time_ms, e.name)
    cur = conn.cursor()
    if days:
        cur.executemany(
            "INSERT INTO days (network, channel, day, count) VALUES (%s, %s, %s, %s)"
            " ON CONFLICT (network, channel, day)"
            " DO UPDATE SET count = days.count + excluded.count",
            [(*k, n) for k, n in days.items()],
        )
    if names:
        cur.executemany(
            "INSERT INTO channels (network, channel, name, last_ms) VALUES (%s, %s, %s, %s)"
            " ON CONFLICT (network, channel) DO UPDATE SET name = excluded.name,"
            " last_ms = excluded.last_ms WHERE excluded.last_ms >= channels.last_ms",
            [(net, key, name, ms) for (net, key), (ms, name) in names.items()],
        )
    if fed:
        times = [e.time_ms for e in fed]
        conn.execute(
            "INSERT INTO instances (instance, first_ms, last_ms, lines) VALUES (%s, %s, %s, %s)"
            " ON CONFLICT (instance) DO UPDATE SET"
            " first_ms = least(instances.first_ms, excluded.first_ms),"
            " last_ms = greatest(instances.last_ms, excluded.last_ms),"
            " lines = instances.lines + excluded.lines",
            (instance, min(times), max(times), len(fed)),
        )


def _refused(error: BaseException) -> bool:
    """Whether the database refused the data itself (SQLSTATE class 22, "data
    exception": a value it cannot store), rather than being down or busy."""
    state = getattr(error, "sqlstate", None)
    return isinstance(state, str) and state.startswith("22")


def store_batch(conn: Any, instance: str, events: Sequence[Event], window_ms: int) -> FeedCounts:
    """Store ``events`` (one bot's lines, in file order) in one transaction on ``conn``
    (a psycopg connection, not in autocommit mode)."""
    counts = FeedCounts()
    if not events:
        return counts
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_FEED,))
        fresh = _unseen(conn, instance, list(events))
        counts.known = len(events) - len(fresh)
        if not fresh:
            return counts
        decision = decide(
            fresh,
            _stored_msgids(conn, fresh),
            _candidates(conn, instance, fresh, window_ms),
            window_ms,
        )
        sightings = [(e.line_hash, ident) for e, ident in decision.matched]
        if decision.new:
            ids = _insert_new(conn, instance, decision.new)
            sightings += [(e.line_hash, i) for e, i in zip(decision.new, ids, strict=True)]
        with conn.cursor().copy(
            "COPY sightings (instance, line_hash, event_id) FROM STDIN"
        ) as copy:
            copy.write(copy_rows((instance, line_hash, ident) for line_hash, ident in sightings))
        _summaries(conn, instance, fresh, decision.new)
    counts.new = len(decision.new)
    counts.matched = len(decision.matched)
    return counts


class PgSink(Sink):
    """The file follower's sink for the PostgreSQL archive: the lines of a transaction
    are parsed and kept, then stored at :meth:`commit` (before the local offsets are);
    the local ``lines`` tables stay empty.  One connection to ``database`` is kept
    open, and made again after an error; errors go up as
    :class:`~.connect.DatabaseError` (the follower logs them and tries again)."""

    def __init__(self, database: Database, instance: str, window_ms: int) -> None:
        self.database = database
        self._conn: Any = None
        self.instance = instance
        self.window_ms = window_ms
        self._events: list[Event] = []
        self.counts = FeedCounts()
        self.refused = 0  # lines the database would not take as data (skipped)
        self.last_ms: int | None = None  # the newest line's time stored so far

    def insert(self, conn: sqlite3.Connection, file_id: int, raws: Sequence[bytes]) -> Inserted:
        result = Inserted()
        for raw in raws:
            event = parse_event(raw)
            if event is None:
                result.bad += 1
                continue
            if result.first_ms is None:
                result.first_ms = event.time_ms
            self._events.append(event)
            result.lines += 1
        return result

    def _connection(self) -> Any:
        """The kept connection, made again when there is none or it broke."""
        if self._conn is None or self._conn.closed or self._conn.broken:
            self.close()
            self._conn = self.database.connect()
        return self._conn

    def commit(self) -> None:
        events, self._events = self._events, []
        if not events:
            return
        conn = self._connection()
        try:
            counts = store_batch(conn, self.instance, events, self.window_ms)
        except Exception as e:
            self.close()
            if not _refused(e):
                raise self.database.error(e) from None
            counts = self._one_by_one(events)
        except BaseException:
            self.close()
            raise
        self.counts.add(counts)
        newest = max(e.time_ms for e in events)
        self.last_ms = newest if self.last_ms is None else max(self.last_ms, newest)

    def _one_by_one(self, events: list[Event]) -> FeedCounts:
        """A batch the database refused as data (not for being down): each line alone,
        so that the one it cannot take is skipped (counted in ``refused``, said once
        per batch) and the others are stored, instead of the feed trying the same
        batch for ever."""
        counts = FeedCounts()
        refused: list[str] = []
        for event in events:
            conn = self._connection()
            try:
                counts.add(store_batch(conn, self.instance, [event], self.window_ms))
            except Exception as e:
                self.close()
                if not _refused(e):
                    raise self.database.error(e) from None
                refused.append(str(self.database.error(e)))
        if refused:
            self.refused += len(refused)
            log.warning(
                "archive: the database refused %d line(s) of a batch, skipped: %s",
                len(refused),
                refused[0],
            )
        return counts

    def discard(self) -> None:
        self._events = []

    def heartbeat(self, now_ms: int) -> None:
        """Say in ``instances.alive_ms`` that this bot is alive at ``now_ms`` (its
        presence in a quiet channel lasts as long as that; :mod:`.gaps`).  Nothing
        for a bot that has stored no line yet (it has no presence to extend)."""
        conn = self._connection()
        try:
            with conn.transaction():
                conn.execute(
                    "UPDATE instances SET alive_ms = greatest(alive_ms, %s) WHERE instance = %s",
                    (now_ms, self.instance),
                )
        except Exception as e:
            self.close()
            raise self.database.error(e) from None

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except Exception:  # a broken connection may fail to close: it is gone anyway
                pass
            self._conn = None
