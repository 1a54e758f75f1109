"""Turning a batch of jsonl lines into index rows: parse, check, number, insert.

Why apart from the file handling (:mod:`.ingest`): this is the hot path (every line
of every file passes here once), kept to one ``json.loads`` per line and a few
``executemany`` per batch.

A line is indexed when it is a JSON object with a ``time`` whose date can be read
(:func:`~logbot.archive.model.day_of`), an integer ``time_ms`` within the jsonl
schema's range, and non-empty string ``network``, ``channel`` and ``type``; any other
line is counted as bad and skipped.

*seq*: the next line of a (network, channel key, day) gets ``days.last_seq + 1``, so a
day's lines are numbered in the order they are indexed, which is the order of the
channel's files (see :mod:`.ingest`) and of the lines in each.

*id*: ``time_ms << ID_SHIFT`` plus a counter: the lines of one millisecond in a batch
count up from 0, and a line whose id another line already has (the same millisecond
in another channel) gets the next after the highest of its millisecond.  So
``ORDER BY id`` is the time order (ties: the order indexed).  More than
``2**ID_SHIFT`` lines of one millisecond (never from IRC) get ids after every line
indexed so far: still unique, only their place in a newest-first list is wrong.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from logbot.archive.index.schema import ID_SHIFT
from logbot.archive.model import channel_key, day_of

__all__ = [
    "FOLD_CACHE",
    "MAX_TIME_MS",
    "MIN_TIME_MS",
    "Inserted",
    "clean",
    "essentials",
    "fold",
    "insert_lines",
    "remove_file_lines",
]

#: ``time_ms`` bounds of the jsonl schema (years 1 to 9999): ids stay within 64 bits.
MIN_TIME_MS = -62135596800000
MAX_TIME_MS = 253402300799999

_SLOT = 1 << ID_SHIFT

#: Lines whose words are removed at a time when a file's lines go (memory stays bounded).
_REMOVE_CHUNK = 5000

_INSERT_LINE = (
    "INSERT INTO lines (id, file_id, network, channel, name, day, seq, time_ms, type, nick,"
    " nick_key, text, record, replayed) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
# the first try: a taken id skips the row (found and inserted again with another id)
_TRY_LINE = _INSERT_LINE.replace("INSERT", "INSERT OR IGNORE", 1)
_INSERT_DAY = (
    "INSERT INTO days (network, channel, day, count, last_seq) VALUES (?, ?, ?, ?, ?)"
    " ON CONFLICT (network, channel, day) DO UPDATE"
    " SET count = count + excluded.count, last_seq = excluded.last_seq"
)
_INSERT_CHANNEL = (
    "INSERT INTO channels (network, channel, name, last_ms) VALUES (?, ?, ?, ?)"
    " ON CONFLICT (network, channel) DO UPDATE SET name = excluded.name,"
    " last_ms = excluded.last_ms WHERE excluded.last_ms >= channels.last_ms"
)


@dataclass
class Inserted:
    """What one batch did: lines indexed, lines skipped as bad, the first good line's
    ``time_ms`` (None if none)."""

    lines: int = 0
    bad: int = 0
    first_ms: int | None = None


#: Channel names and nicks whose folded form is remembered (most lines repeat a few).
FOLD_CACHE = 65536

fold = lru_cache(maxsize=FOLD_CACHE)(channel_key)


def essentials(record: Any) -> tuple[int, str, str, str, str] | None:
    """``(time_ms, network, channel, type, day)`` of a parsed jsonl line the archive
    takes (the module's docstring says which), or None for a bad one.  The PostgreSQL
    feed takes the same lines (:mod:`logbot.archive.postgres.events`)."""
    if type(record) is not dict:
        return None
    ms = record.get("time_ms")
    network = record.get("network")
    name = record.get("channel")
    kind = record.get("type")
    if (
        type(ms) is not int
        or not MIN_TIME_MS <= ms <= MAX_TIME_MS
        or type(network) is not str
        or type(name) is not str
        or type(kind) is not str
        or not network
        or not name
        or not kind
    ):
        return None
    day = day_of(record)
    return None if day is None else (ms, network, name, kind, day)


def clean(value: str) -> str:
    """``value`` without lone surrogates (a JSON ``\\ud800`` escape): SQLite stores
    UTF-8, which cannot hold them."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return value.encode("utf-8", "replace").decode("utf-8")
    return value


def _free_id(conn: sqlite3.Connection, ms: int) -> int | None:
    """An id no line has, for a line of ``ms`` whose first choice was taken: the next
    after the highest of its millisecond; None if that one is full."""
    base = ms << ID_SHIFT
    last = conn.execute(
        "SELECT max(id) FROM lines WHERE id >= ? AND id < ?", (base, base + _SLOT)
    ).fetchone()[0]
    if last is None:
        return base
    return last + 1 if last + 1 < base + _SLOT else None


def _insert_rows(conn: sqlite3.Connection, rows: list[list[Any]]) -> None:
    """Insert ``rows``, each with the id it was given if free, else another (the
    row's id is updated).  Ids are first given by the batch alone, so one statement
    inserts them all unless another line already has one of them (lines of the same
    millisecond in another channel: rare); only then is each row looked up.  A row
    without an id (its millisecond is full) gets one after every line (SQLite's
    ``max(rowid) + 1``)."""
    given = [row for row in rows if row[0] is not None]
    cur = conn.executemany(_TRY_LINE, given)
    late = [row for row in rows if row[0] is None]
    if cur.rowcount != len(given):
        for row in given:
            mine = conn.execute(
                "SELECT 1 FROM lines WHERE id = ? AND file_id = ? AND network = ?"
                " AND channel = ? AND day = ? AND seq = ?",
                (row[0], row[1], row[2], row[3], row[5], row[6]),
            ).fetchone()
            if mine is None:
                row[0] = _free_id(conn, row[7])
                if row[0] is None:
                    late.append(row)
                else:
                    conn.execute(_INSERT_LINE, row)
    for row in late:
        row[0] = conn.execute(_INSERT_LINE, row).lastrowid


def insert_lines(conn: sqlite3.Connection, file_id: int, raws: Sequence[bytes]) -> Inserted:
    """Parse ``raws`` (one jsonl line each, without ``\\n``) and insert the good ones,
    inside the caller's transaction."""
    result = Inserted()
    rows: list[list[Any]] = []
    seqs: dict[tuple[str, str, str], int] = {}
    counts: dict[tuple[str, str, str], int] = {}
    names: dict[tuple[str, str], tuple[int, str]] = {}
    used: dict[int, int] = {}  # id base -> the last id given in this batch
    for raw in raws:
        try:
            line = raw.decode("utf-8")
            record = json.loads(line)
        except (ValueError, RecursionError):
            result.bad += 1
            continue
        fields = essentials(record)
        if fields is None:
            result.bad += 1
            continue
        ms, network, name, kind, day = fields
        nick = record.get("nick")
        text = record.get("text")
        if type(nick) is not str:
            nick = None
        if type(text) is not str:
            text = None
        if "\\u" in line:  # an escape may have made a lone surrogate
            network, name, kind = clean(network), clean(name), clean(kind)
            nick = None if nick is None else clean(nick)
            text = None if text is None else clean(text)
        key = fold(name)
        day_key = (network, key, day)
        seq = seqs.get(day_key)
        if seq is None:
            got = conn.execute(
                "SELECT last_seq FROM days WHERE network = ? AND channel = ? AND day = ?",
                day_key,
            ).fetchone()
            seq = 0 if got is None else got[0]
        seq += 1
        seqs[day_key] = seq
        counts[day_key] = counts.get(day_key, 0) + 1
        base = ms << ID_SHIFT
        counter = used[base] = used.get(base, base - 1) + 1
        line_id = counter if counter < base + _SLOT else None  # None: after every line
        seen = names.get((network, key))
        if seen is None or ms >= seen[0]:
            names[(network, key)] = (ms, name)
        rows.append(
            [
                line_id,
                file_id,
                network,
                key,
                name,
                day,
                seq,
                ms,
                kind,
                nick,
                None if nick is None else fold(nick),
                text,
                line,
                1 if record.get("replayed") is True else 0,
            ]
        )
        if result.first_ms is None:
            result.first_ms = ms
    if rows:
        _insert_rows(conn, rows)
        conn.executemany(
            "INSERT INTO words (rowid, text) VALUES (?, ?)", [(r[0], r[11]) for r in rows if r[11]]
        )
        conn.executemany(_INSERT_DAY, [(*k, counts[k], seqs[k]) for k in counts])
        conn.executemany(
            _INSERT_CHANNEL, [(net, key, name, ms) for (net, key), (ms, name) in names.items()]
        )
    result.lines = len(rows)
    return result


def remove_file_lines(conn: sqlite3.Connection, file_id: int) -> int:
    """Remove every line read from the file ``file_id`` (it was truncated, replaced or
    deleted), and recount the days it had lines in; the number removed."""
    keys = conn.execute(
        "SELECT DISTINCT network, channel, day FROM lines WHERE file_id = ?", (file_id,)
    ).fetchall()
    texts = conn.execute("SELECT id, text FROM lines WHERE file_id = ? AND text <> ''", (file_id,))
    while chunk := texts.fetchmany(_REMOVE_CHUNK):
        conn.executemany("INSERT INTO words (words, rowid, text) VALUES ('delete', ?, ?)", chunk)
    removed = conn.execute("DELETE FROM lines WHERE file_id = ?", (file_id,)).rowcount
    for network, channel, day in keys:
        count, last = conn.execute(
            "SELECT count(*), max(seq) FROM lines WHERE network = ? AND channel = ? AND day = ?",
            (network, channel, day),
        ).fetchone()
        if count:
            conn.execute(
                "UPDATE days SET count = ?, last_seq = ?"
                " WHERE network = ? AND channel = ? AND day = ?",
                (count, last, network, channel, day),
            )
        else:
            conn.execute(
                "DELETE FROM days WHERE network = ? AND channel = ? AND day = ?",
                (network, channel, day),
            )
    conn.execute(
        "DELETE FROM channels WHERE NOT EXISTS (SELECT 1 FROM days"
        " WHERE days.network = channels.network AND days.channel = channels.channel)"
    )
    return removed
