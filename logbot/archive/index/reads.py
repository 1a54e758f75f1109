"""What the web view and the terminal read from the index: networks, channels, days,
a day's lines, one line.

Why these shapes: a day page is a channel's day read by ``seq`` (the permalink
``#L<seq>``), a calendar is the days with their counts, and a live page asks only for
the lines after the last one it has (``after``).  Channels are given and compared by
their key (:func:`~logbot.archive.model.channel_key`; a name in any case is folded
first); days are ``YYYY-MM-DD``.  Every read is one indexed query.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass

from logbot.archive.index.records import fold
from logbot.archive.model import Line

__all__ = [
    "ChannelInfo",
    "channels",
    "day_lines",
    "days",
    "line",
    "neighbours",
    "networks",
]


@dataclass(frozen=True)
class ChannelInfo:
    """A channel of a network as the index knows it: its key, its ``name`` as last
    written (the latest line's spelling), its first and last day with lines, and how
    many lines it has."""

    network: str
    key: str
    name: str
    first_day: str
    last_day: str
    lines: int


def networks(conn: sqlite3.Connection) -> list[str]:
    return [row[0] for row in conn.execute("SELECT DISTINCT network FROM days ORDER BY network")]


def channels(conn: sqlite3.Connection, network: str) -> list[ChannelInfo]:
    rows = conn.execute(
        "SELECT d.channel, coalesce(c.name, d.channel), min(d.day), max(d.day), sum(d.count)"
        " FROM days d LEFT JOIN channels c ON c.network = d.network AND c.channel = d.channel"
        " WHERE d.network = ? GROUP BY d.channel ORDER BY d.channel",
        (network,),
    )
    return [ChannelInfo(network, key, name, first, last, n) for key, name, first, last, n in rows]


def days(conn: sqlite3.Connection, network: str, channel: str) -> list[tuple[str, int]]:
    """The days with lines, oldest first, with their line counts."""
    return [
        (day, n)
        for day, n in conn.execute(
            "SELECT day, count FROM days WHERE network = ? AND channel = ? ORDER BY day",
            (network, fold(channel)),
        )
    ]


def day_lines(
    conn: sqlite3.Connection,
    network: str,
    channel: str,
    day: str,
    after: int = 0,
    limit: int | None = None,
) -> list[Line]:
    """A day's lines by seq; only those after seq ``after``; at most ``limit``."""
    rows = conn.execute(
        "SELECT seq, record FROM lines WHERE network = ? AND channel = ? AND day = ?"
        " AND seq > ? ORDER BY seq LIMIT ?",
        (network, fold(channel), day, after, -1 if limit is None else max(limit, 0)),
    )
    return [Line(seq, json.loads(record)) for seq, record in rows]


def neighbours(
    conn: sqlite3.Connection, network: str, channel: str, day: str
) -> tuple[str | None, str | None]:
    """The days with lines before and after ``day`` (None at either end)."""
    key = fold(channel)
    before = conn.execute(
        "SELECT max(day) FROM days WHERE network = ? AND channel = ? AND day < ?",
        (network, key, day),
    ).fetchone()[0]
    after = conn.execute(
        "SELECT min(day) FROM days WHERE network = ? AND channel = ? AND day > ?",
        (network, key, day),
    ).fetchone()[0]
    return before, after


def line(conn: sqlite3.Connection, network: str, channel: str, day: str, seq: int) -> Line | None:
    row = conn.execute(
        "SELECT seq, record FROM lines WHERE network = ? AND channel = ? AND day = ? AND seq = ?",
        (network, fold(channel), day, seq),
    ).fetchone()
    return None if row is None else Line(row[0], json.loads(row[1]))
