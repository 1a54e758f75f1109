"""A jsonl record as logbot's writer makes it (the schema's keys in order), at a given
moment: the one builder the archive's test helpers share (index/files.py,
postgres/rows.py, pgfeed/lines.py)."""

from __future__ import annotations

import datetime
from typing import Any


def record_at(
    moment: datetime.datetime,
    *,
    kind: str = "message",
    text: str | None = "hello",
    nick: str | None = "alice",
    channel: str = "#chan",
    network: str = "net",
    time_source: str = "server",
    msgid: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """The record of an event at ``moment`` (an aware datetime: its offset is the one
    written); ``extra`` keys are added after the schema's."""
    out: dict[str, Any] = {
        "time": moment.isoformat(timespec="milliseconds"),
        "time_ms": int(moment.timestamp() * 1000),
        "time_source": time_source,
        "type": kind,
        "network": network,
        "channel": channel,
        "nick": nick,
        "user": None,
        "host": None,
        "account": None,
        "text": text,
        "msgid": msgid,
        "tags": {},
    }
    out.update(extra)
    return out
