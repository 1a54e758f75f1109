"""Searching the index: a :class:`~logbot.archive.model.Query` made into SQL, bounded.

Why bounded: a search comes from a web page or a terminal, and a query that walks the
whole archive (a regular expression that matches nothing, a large ``offset``) or one
regular expression that backtracks for ever on one line must end with an error, not
hold the process for minutes.  Two limits:

- :data:`SEARCH_STEPS`: SQLite virtual machine steps one search may take (checked by
  ``set_progress_handler`` every :data:`PROGRESS_EVERY` steps);
- :data:`SEARCH_SECONDS`: wall-clock seconds, enforced with ``SIGALRM`` when the search
  runs in the main thread and no other alarm is in use: Python's ``re`` checks for
  signals while it backtracks, so even a single catastrophic match is cut short.
  Elsewhere only the step limit holds.

Newest first is ``ORDER BY id DESC``: a line's id is its ``time_ms`` shifted left with
a counter below (:mod:`.schema`), so this is ``time_ms DESC, id DESC``, and FTS5 walks a
word's matches in that order and stops at the limit.
"""

from __future__ import annotations

import json
import re
import signal
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

from logbot.archive.index.records import MAX_TIME_MS, MIN_TIME_MS, fold
from logbot.archive.index.schema import ID_SHIFT
from logbot.archive.index.words import fts_query
from logbot.archive.model import Hit, Line, Query

__all__ = [
    "COUNT_CAP",
    "MAX_CONTEXT",
    "MAX_LIMIT",
    "MAX_QUERY_CHARS",
    "MAX_TYPES",
    "PROGRESS_EVERY",
    "REGEX_CACHE",
    "SEARCH_SECONDS",
    "SEARCH_STEPS",
    "SearchError",
    "count",
    "install_functions",
    "search",
]

#: SQLite VM steps a search may take: a regular expression costs about 4 steps per line
#: looked at (some 3.5 million steps a second: the Python function is the cost), so this
#: is a scan of 5 million lines; word searches run at some 50 million steps a second.
SEARCH_STEPS = 20_000_000
#: How often (in VM steps) the progress handler counts.
PROGRESS_EVERY = 1000
#: Wall-clock seconds a search may take, where an alarm can be used (main thread).
SEARCH_SECONDS = 10.0
#: Results per search at most, whatever the query's limit.
MAX_LIMIT = 1000
#: Characters of a query's words, or of its regular expression, at most.
MAX_QUERY_CHARS = 1000
#: Line types one query may name (there are 20).
MAX_TYPES = 32
#: Lines of context before and after a hit at most.
MAX_CONTEXT = 50
#: :func:`count` stops counting here: the exact number of matches of a common word in a
#: big archive costs a walk of all of them; a pager shows "10000+".
COUNT_CAP = 10000


class SearchError(ValueError):
    """A query that cannot be run: a bad regular expression, too many words, or a
    search that took more than its limit.  The message says which, for a user."""


class _Expired(Exception):
    pass


#: Regular expressions kept compiled.
REGEX_CACHE = 64


@lru_cache(maxsize=REGEX_CACHE)
def _compiled(pattern: str, case: bool) -> re.Pattern[str]:
    return re.compile(pattern, 0 if case else re.IGNORECASE)


def _regexp(pattern: str, case: int, text: str | None) -> int:
    if text is None:
        return 0
    return 1 if _compiled(pattern, bool(case)).search(text) else 0


def install_functions(conn: sqlite3.Connection) -> None:
    """Register ``logbot_regexp(pattern, case, text)`` on ``conn``."""
    conn.create_function("logbot_regexp", 3, _regexp, deterministic=True)


class _Bounds:
    def __init__(self, steps: int, seconds: float | None) -> None:
        self.max_calls = max(1, steps // PROGRESS_EVERY)
        self.seconds = seconds
        self.calls = 0
        self.expired = False
        self.armed = False

    def progress(self) -> int:
        self.calls += 1
        return 1 if self.calls > self.max_calls else 0

    def _alarm(self, signum: int, frame: Any) -> None:
        if self.armed:
            self.expired = True
            raise _Expired

    def arm(self) -> Any:
        if not self.seconds or threading.current_thread() is not threading.main_thread():
            return None
        if signal.getsignal(signal.SIGALRM) not in (signal.SIG_DFL, None):
            return None  # someone else's alarm
        if signal.getitimer(signal.ITIMER_REAL)[0] > 0:
            return None
        old = signal.signal(signal.SIGALRM, self._alarm)
        self.armed = True
        signal.setitimer(signal.ITIMER_REAL, self.seconds)
        return old

    def disarm(self, old: Any) -> None:
        self.armed = False
        if old is not None:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, old)


@contextmanager
def bounded(conn: sqlite3.Connection, steps: int, seconds: float | None) -> Iterator[None]:
    """Run the block within ``steps`` VM steps and ``seconds``, else SearchError."""
    bounds = _Bounds(steps, seconds)
    conn.set_progress_handler(bounds.progress, PROGRESS_EVERY)
    old = None
    try:
        old = bounds.arm()
        yield
    except (sqlite3.OperationalError, _Expired) as e:
        if bounds.expired or bounds.calls > bounds.max_calls:
            limit = f"{seconds:g} s" if bounds.expired else f"{steps:,} steps"
            raise SearchError(
                f"the search took too long (over {limit}): narrow it with words, a channel,"
                " a nick or a time range"
            ) from None
        if isinstance(e, _Expired):
            raise SearchError("the search was interrupted") from None
        raise
    finally:
        bounds.disarm(old)
        conn.set_progress_handler(None, 0)


def _check(query: Query) -> None:
    """A query's sizes and its regular expression, checked before any work."""
    for what, value in (("the words", query.words), ("the regular expression", query.regex)):
        if value and len(value) > MAX_QUERY_CHARS:
            raise SearchError(
                f"{what}: too long ({len(value)} characters; at most {MAX_QUERY_CHARS})"
            )
    if query.regex:
        try:
            _compiled(query.regex, query.case)
        except (re.error, RecursionError, OverflowError) as e:
            raise SearchError(f"bad regular expression: {e}") from None


def _ms_bound(ms: int) -> int:
    return min(max(ms, MIN_TIME_MS), MAX_TIME_MS + 1) << ID_SHIFT


def _plan(query: Query) -> tuple[str, list[Any], str] | None:
    """``(FROM ... WHERE ..., parameters, ORDER BY ...)`` for ``query``; None when it
    can match nothing (words with no word in them)."""
    where: list[str] = []
    params: list[Any] = []
    if query.words:
        try:
            match = fts_query(query.words)
        except ValueError as e:
            raise SearchError(str(e)) from None
        if match is None:
            return None
        source = "words JOIN lines ON lines.id = words.rowid"
        where.append("words MATCH ?")
        params.append(match)
        idcol = "words.rowid"
        order = "words.rowid DESC"
    else:
        source = "lines"
        idcol = "lines.id"
        order = "lines.id DESC"
        if query.channel and not query.nick:
            # the (network, channel, time_ms) index gives this order without a sort
            order = "lines.time_ms DESC, lines.id DESC"
    if query.since_ms is not None:
        where.append(f"{idcol} >= ?")
        params.append(_ms_bound(query.since_ms))
    if query.until_ms is not None:
        where.append(f"{idcol} < ?")
        params.append(_ms_bound(query.until_ms))
    if query.network:
        where.append("lines.network = ?")
        params.append(query.network)
    if query.channel:
        where.append("lines.channel = ?")
        params.append(fold(query.channel))
        if not query.network:
            # the networks that have it: the (network, channel, time_ms) index is used
            where.append("lines.network IN (SELECT network FROM channels WHERE channel = ?)")
            params.append(fold(query.channel))
    if query.nick:
        where.append("lines.nick_key = ?")
        params.append(fold(query.nick))
    if query.types:
        if len(query.types) > MAX_TYPES:
            raise SearchError(f"too many types ({len(query.types)}; at most {MAX_TYPES})")
        where.append(f"lines.type IN ({', '.join('?' * len(query.types))})")
        params.extend(query.types)
    if query.regex:
        where.append("logbot_regexp(?, ?, lines.text)")
        params.extend([query.regex, 1 if query.case else 0])
    sql = source + (" WHERE " + " AND ".join(where) if where else "")
    return sql, params, order


def search(
    conn: sqlite3.Connection,
    query: Query,
    context: int = 0,
    steps: int = SEARCH_STEPS,
    seconds: float | None = SEARCH_SECONDS,
) -> list[Hit]:
    """The lines matching ``query``, newest first; ``context`` lines around each."""
    _check(query)
    plan = _plan(query)
    limit = min(max(query.limit, 0), MAX_LIMIT)
    if plan is None or limit == 0:
        return []
    sql, params, order = plan
    statement = (
        f"SELECT lines.network, lines.channel, lines.day, lines.seq, lines.record FROM {sql}"
        f" ORDER BY {order} LIMIT ? OFFSET ?"
    )
    with bounded(conn, steps, seconds):
        rows = conn.execute(statement, [*params, limit, max(query.offset, 0)]).fetchall()
    context = min(max(context, 0), MAX_CONTEXT)
    hits = []
    for network, channel, day, seq, record in rows:
        around: tuple[Line, ...] = ()
        if context:
            around = tuple(
                Line(s, json.loads(r))
                for s, r in conn.execute(
                    "SELECT seq, record FROM lines WHERE network = ? AND channel = ? AND day = ?"
                    " AND seq BETWEEN ? AND ? ORDER BY seq",
                    (network, channel, day, seq - context, seq + context),
                )
            )
        hits.append(Hit(network, channel, day, seq, json.loads(record), around))
    return hits


def count(
    conn: sqlite3.Connection,
    query: Query,
    steps: int = SEARCH_STEPS,
    seconds: float | None = SEARCH_SECONDS,
) -> int:
    """How many lines match ``query`` (its limit and offset aside), at most
    :data:`COUNT_CAP`."""
    _check(query)
    plan = _plan(query)
    if plan is None:
        return 0
    sql, params, _ = plan
    with bounded(conn, steps, seconds):
        row = conn.execute(
            f"SELECT count(*) FROM (SELECT 1 FROM {sql} LIMIT ?)", [*params, COUNT_CAP]
        ).fetchone()
    return int(row[0])
