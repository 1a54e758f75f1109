"""Rows of the PostgreSQL archive written directly, for the read side's tests (the
feed, :mod:`logbot.archive.postgres.feed`, is tested on its own): one event with every
NOT NULL column filled, and ``days``, ``channels`` and ``instances`` kept right."""

from __future__ import annotations

import datetime
import json
from typing import Any

from logbot.archive.model import channel_key, day_of
from logbot.logs.record import MARKERS
from tests.archive.records import record_at


def record(
    when: str = "2026-01-02T10:00:00",
    text: str | None = "hello",
    *,
    type: str = "message",
    nick: str | None = "alice",
    network: str = "net",
    channel: str = "#chan",
    **extra: Any,
) -> dict[str, Any]:
    """A jsonl record at ``when`` (ISO 8601; UTC unless it has an offset)."""
    moment = datetime.datetime.fromisoformat(when)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return record_at(
        moment, kind=type, text=text, nick=nick, channel=channel, network=network, **extra
    )


def ms(when: str) -> int:
    """``when`` (ISO 8601, UTC unless it has an offset) in Unix milliseconds."""
    moment = datetime.datetime.fromisoformat(when)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return int(moment.timestamp() * 1000)


def add_event(
    conn: Any,
    rec: dict[str, Any] | None = None,
    *,
    instance: str = "bot1",
    gap_from_ms: int | None = None,
    match_key: int = 0,
    **fields: Any,
) -> int:
    """Insert one event from ``rec`` (``fields`` override its keys; a gap's start is
    its ``target`` unless ``gap_from_ms`` is given); its id."""
    rec = {**(rec or record()), **fields}
    kind = rec["type"]
    if kind == "gap" and gap_from_ms is None and isinstance(rec.get("target"), str):
        gap_from_ms = ms(rec["target"])
    name = rec["channel"]
    key = channel_key(name)
    day = day_of(rec)
    assert day is not None, rec
    nick = rec.get("nick")
    (event_id,) = conn.execute("SELECT nextval('events_id_seq')").fetchone()
    conn.execute(
        "INSERT INTO events (id, network, channel, name, day, time_ms, type, nick, nick_key,"
        " text, msgid, match_key, instance, marker, gap_from_ms, record)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
        (
            event_id,
            rec["network"],
            key,
            name,
            day,
            rec["time_ms"],
            kind,
            nick,
            None if nick is None else channel_key(nick),
            rec.get("text"),
            rec.get("msgid"),
            match_key,
            instance,
            kind in MARKERS,
            gap_from_ms,
            json.dumps(rec, ensure_ascii=False),
        ),
    )
    conn.execute(
        "INSERT INTO days (network, channel, day, count) VALUES (%s, %s, %s, 1)"
        " ON CONFLICT (network, channel, day) DO UPDATE SET count = days.count + 1",
        (rec["network"], key, day),
    )
    conn.execute(
        "INSERT INTO channels (network, channel, name, last_ms) VALUES (%s, %s, %s, %s)"
        " ON CONFLICT (network, channel) DO UPDATE SET name = excluded.name,"
        " last_ms = excluded.last_ms WHERE excluded.last_ms >= channels.last_ms",
        (rec["network"], key, name, rec["time_ms"]),
    )
    conn.execute(
        "INSERT INTO instances (instance, first_ms, last_ms, lines) VALUES (%s, %s, %s, 1)"
        " ON CONFLICT (instance) DO UPDATE SET first_ms = least(instances.first_ms,"
        " excluded.first_ms), last_ms = greatest(instances.last_ms, excluded.last_ms),"
        " lines = instances.lines + 1",
        (instance, rec["time_ms"], rec["time_ms"]),
    )
    return int(event_id)


def set_last_ms(conn: Any, instance: str, last_ms: int) -> None:
    """Say ``instance``'s last line was at ``last_ms`` (its presence ends there)."""
    conn.execute("UPDATE instances SET last_ms = %s WHERE instance = %s", (last_ms, instance))
