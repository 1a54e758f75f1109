"""Searching the PostgreSQL archive: a :class:`~logbot.archive.model.Query` made into
SQL, bounded, with gap lines merged as a day page shows them (:mod:`.merged`).

Why the rows pass through Python: a regular expression is Python's (the same syntax
and the same answers as the SQLite index and the file scan, never PostgreSQL's
dialect), and a gap line is shown or left out by :mod:`.gaps`, not by SQL.  So the
rows that the other fields select come newest first, in batches (keyset: each batch
starts below the last row of the one before, by ``(time_ms, id)``), with only the
columns needed to decide; the records and the seqs of the page's hits are read last,
for those hits alone.  Without a regular expression the first batch is the page
itself (``offset + limit`` rows): one batch unless gap lines were left out.

Why bounded, as the SQLite index's search is (:mod:`logbot.archive.index.search`): a
search comes from a web page or a terminal, and must end with an error, not hold the
process.  Three limits, each a :class:`~logbot.archive.index.search.SearchError`
naming it:

- :data:`SEARCH_ROWS`: rows one search may pass through Python;
- ``seconds`` (:data:`SEARCH_SECONDS`): each statement runs with a
  ``statement_timeout`` of the time left (the search runs in one transaction: one
  snapshot for all its statements, and ``SET LOCAL`` ends with it);
- the same seconds for the regular expression's matching, enforced with ``SIGALRM``
  when the search runs in the main thread and no other alarm is in use (Python's
  ``re`` checks for signals while it backtracks); the alarm is armed only while a
  batch is matched, never while the database is waited for.
"""

from __future__ import annotations

import json
import re
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

import psycopg.errors

from logbot.archive.index.records import MAX_TIME_MS, MIN_TIME_MS, fold
from logbot.archive.index.search import (
    COUNT_CAP,
    MAX_CONTEXT,
    MAX_LIMIT,
    MAX_QUERY_CHARS,
    MAX_TYPES,
    REGEX_CACHE,
    SEARCH_SECONDS,
    SearchError,
)
from logbot.archive.model import Hit, Line, Query
from logbot.archive.postgres.merged import COLUMNS, EventRow, Merger, page
from logbot.archive.postgres.tsquery import tsquery_sql

__all__ = [
    "FIRST_BATCH",
    "MAX_BATCH",
    "SEARCH_ROWS",
    "SEARCH_SECONDS",
    "count",
    "search",
]

#: Rows one search may pass through Python (a regular expression costs about 1 µs a
#: row, the rows' transfer about as much): some 2 to 5 seconds of work.
SEARCH_ROWS = 2_000_000
#: The first batch's rows at least when rows are filtered in Python (a regular
#: expression): a round trip per few hundred rows would cost more than the rows.
FIRST_BATCH = 1000
#: Rows of one batch at most (each batch is 4 times the one before up to this).
MAX_BATCH = 20_000


class _Expired(Exception):
    pass


class _Budget:
    """What is left of one search's rows and seconds."""

    def __init__(self, rows: int, seconds: float | None) -> None:
        self.rows = rows
        self.seconds = seconds
        self.left = rows
        self.deadline = None if not seconds else time.monotonic() + seconds

    def too_long(self, by_rows: bool = False) -> SearchError:
        limit = f"{self.rows:,} rows" if by_rows or self.seconds is None else f"{self.seconds:g} s"
        return SearchError(
            f"the search took too long (over {limit}): narrow it with words, a channel,"
            " a nick or a time range"
        )

    def remaining(self) -> float | None:
        if self.deadline is None:
            return None
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise self.too_long()
        return left

    def limit_statements(self, conn: Any) -> None:
        """The next statements end at the search's deadline (``statement_timeout``)."""
        left = self.remaining()
        if left is not None:
            ms = max(1, int(left * 1000))
            conn.execute("SELECT set_config('statement_timeout', %s, true)", (str(ms),))

    def take(self, rows: int) -> None:
        self.left -= rows
        if self.left < 0:
            raise self.too_long(by_rows=True)

    def _alarm(self, signum: int, frame: Any) -> None:
        raise _Expired

    @contextmanager
    def alarm(self) -> Iterator[None]:
        """Python work that ends at the deadline (where ``SIGALRM`` can be used)."""
        left = self.remaining()
        usable = (
            left is not None
            and threading.current_thread() is threading.main_thread()
            and signal.getsignal(signal.SIGALRM) in (signal.SIG_DFL, None)
            and signal.getitimer(signal.ITIMER_REAL)[0] == 0
        )
        if not usable or left is None:
            yield
            return
        old = signal.signal(signal.SIGALRM, self._alarm)
        try:
            signal.setitimer(signal.ITIMER_REAL, left)
            try:
                yield
            except _Expired:
                raise self.too_long() from None
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, old)


@lru_cache(maxsize=REGEX_CACHE)
def _compiled(pattern: str, case: bool) -> re.Pattern[str]:
    return re.compile(pattern, 0 if case else re.IGNORECASE)


def _check(query: Query) -> None:
    """A query's sizes and its regular expression, checked before any work."""
    for what, value in (("the words", query.words), ("the regular expression", query.regex)):
        if value and len(value) > MAX_QUERY_CHARS:
            raise SearchError(
                f"{what}: too long ({len(value)} characters; at most {MAX_QUERY_CHARS})"
            )
    if len(query.types) > MAX_TYPES:
        raise SearchError(f"too many types ({len(query.types)}; at most {MAX_TYPES})")
    if query.regex:
        try:
            _compiled(query.regex, query.case)
        except (re.error, RecursionError, OverflowError) as e:
            raise SearchError(f"bad regular expression: {e}") from None


def _ms(ms: int) -> int:
    return min(max(ms, MIN_TIME_MS), MAX_TIME_MS + 1)


def _where(conn: Any, query: Query) -> tuple[str, list[Any]] | None:
    """``(WHERE condition on events e, parameters)``; None when ``query`` can match
    nothing (words with no word in them)."""
    where: list[str] = []
    params: list[Any] = []
    if query.words:
        try:
            built = tsquery_sql(query.words)
        except ValueError as e:
            raise SearchError(str(e)) from None
        if built is None:
            return None
        expr, values = built
        nodes, text = conn.execute(
            f"SELECT numnode(q), q::text FROM (SELECT {expr} AS q) s", values
        ).fetchone()
        if not nodes:
            return None
        where.append("e.words @@ %s::tsquery")
        params.append(text)
    if query.since_ms is not None:
        where.append("e.time_ms >= %s")
        params.append(_ms(query.since_ms))
    if query.until_ms is not None:
        where.append("e.time_ms < %s")
        params.append(_ms(query.until_ms))
    if query.network:
        where.append("e.network = %s")
        params.append(query.network)
    if query.channel:
        where.append("e.channel = %s")
        params.append(fold(query.channel))
    if query.nick:
        where.append("e.nick_key = %s")
        params.append(fold(query.nick))
    if query.types:
        where.append("e.type = ANY(%s::text[])")
        params.append(list(query.types))
    return " AND ".join(where) or "TRUE", params


def _collect(
    conn: Any,
    query: Query,
    plan: tuple[str, list[Any]],
    budget: _Budget,
    merger: Merger,
    want: int,
) -> list[EventRow]:
    """The first ``want`` rows matching ``query`` that the merged view shows, newest
    first.  Rows count against the budget as they are looked at (matched or decided),
    not as they are fetched."""
    where, params = plan
    regex = _compiled(query.regex, query.case) if query.regex else None
    columns = COLUMNS + (", e.text" if regex else "")
    batch = min(max(want, FIRST_BATCH if regex else 1), MAX_BATCH)
    after: tuple[int, int] | None = None
    found: list[EventRow] = []
    while len(found) < want:
        condition = where if after is None else f"{where} AND (e.time_ms, e.id) < (%s, %s)"
        budget.limit_statements(conn)
        rows = conn.execute(
            f"SELECT {columns} FROM events e WHERE {condition}"
            " ORDER BY e.time_ms DESC, e.id DESC LIMIT %s",
            [*params, *(after or ()), batch],
        ).fetchall()
        at = 0
        while at < len(rows) and len(found) < want:
            need = want - len(found)
            chosen: list[EventRow] = []
            start = at
            if regex is None:
                chosen = [EventRow(*row[:9]) for row in rows[at : at + need]]
                at += len(chosen)
            else:
                with budget.alarm():
                    while at < len(rows) and len(chosen) < need:
                        row = rows[at]
                        at += 1
                        if row[9] is not None and regex.search(row[9]) is not None:
                            chosen.append(EventRow(*row[:9]))
            budget.take(at - start)
            hidden = merger.decide(chosen) if any(e.is_gap for e in chosen) else set()
            found.extend(e for e in chosen if e.id not in hidden)
        if len(rows) < batch:
            break
        after = (rows[-1][1], rows[-1][0])
        batch = min(batch * 4, MAX_BATCH)
    return found


_DETAILS = (
    "SELECT e.id, e.record, (SELECT count(*) FROM events x WHERE x.network = e.network"
    " AND x.channel = e.channel AND x.day = e.day AND (x.time_ms, x.id) <= (e.time_ms, e.id))"
    " FROM events e WHERE e.id = ANY(%s::bigint[])"
)


@contextmanager
def _bounded(conn: Any, budget: _Budget) -> Iterator[None]:
    """One transaction for the search; a statement cancelled at the deadline is a
    :class:`SearchError`."""
    try:
        with conn.transaction():
            yield
    except psycopg.errors.QueryCanceled:
        raise budget.too_long() from None


def search(
    conn: Any,
    query: Query,
    context: int = 0,
    rows: int = SEARCH_ROWS,
    seconds: float | None = SEARCH_SECONDS,
) -> list[Hit]:
    """The lines matching ``query``, newest first; ``context`` lines around each.

    :raises SearchError: a bad regular expression, too many words, too long."""
    _check(query)
    limit = min(max(query.limit, 0), MAX_LIMIT)
    offset = max(query.offset, 0)
    if limit == 0:
        return []
    budget = _Budget(rows, seconds)
    context = min(max(context, 0), MAX_CONTEXT)
    hits = []
    with _bounded(conn, budget):
        plan = _where(conn, query)
        if plan is None:
            return []
        merger = Merger(conn)
        chosen = _collect(conn, query, plan, budget, merger, offset + limit)[offset:]
        if not chosen:
            return []
        budget.limit_statements(conn)
        details = {
            row[0]: (row[1], int(row[2]))
            for row in conn.execute(_DETAILS, ([event.id for event in chosen],))
        }
        for event in chosen:
            text, seq = details[event.id]
            record = merger.record(event.id, json.loads(text))
            if record is None:  # decided hidden already: never yielded
                continue
            around: tuple[Line, ...] = ()
            if context:
                first = max(seq - context, 1)
                span = seq + context - first + 1
                around = tuple(page(conn, event.network, event.channel, event.day, first - 1, span))
            hits.append(Hit(event.network, event.channel, event.day, seq, record, around))
    return hits


def count(
    conn: Any,
    query: Query,
    rows: int = SEARCH_ROWS,
    seconds: float | None = SEARCH_SECONDS,
) -> int:
    """How many lines match ``query`` (its limit and offset aside), at most
    :data:`~logbot.archive.index.search.COUNT_CAP`."""
    _check(query)
    budget = _Budget(rows, seconds)
    with _bounded(conn, budget):
        plan = _where(conn, query)
        if plan is None:
            return 0
        merger = Merger(conn)
        if query.regex:
            return len(_collect(conn, query, plan, budget, merger, COUNT_CAP))
        where, params = plan
        budget.limit_statements(conn)
        gaps = [
            EventRow(*row)
            for row in conn.execute(
                f"SELECT {COLUMNS} FROM events e WHERE {where} AND e.type = 'gap' AND e.marker"
                " ORDER BY e.time_ms DESC, e.id DESC LIMIT %s",
                [*params, COUNT_CAP],
            )
        ]
        hidden = len(merger.decide(gaps)) if gaps else 0
        budget.limit_statements(conn)
        row = conn.execute(
            f"SELECT count(*) FROM (SELECT 1 FROM events e WHERE {where} LIMIT %s) s",
            [*params, COUNT_CAP + hidden],
        ).fetchone()
        return max(0, min(COUNT_CAP, int(row[0]) - hidden))
