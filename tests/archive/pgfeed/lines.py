"""jsonl lines as logbot writes them, for the feed's tests (no bot needed)."""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

from tests.archive.records import record_at

BASE_MS = 1796551200000  # 2026-12-06T10:00:00Z


def record(
    t_ms: int,
    text: str | None = "hello",
    *,
    nick: str | None = "alice",
    kind: str = "message",
    channel: str = "#chan",
    network: str = "net",
    msgid: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    when = datetime.datetime.fromtimestamp((BASE_MS + t_ms) / 1000, datetime.UTC)
    return record_at(
        when,
        kind=kind,
        text=text,
        nick=nick,
        channel=channel,
        network=network,
        time_source="server" if msgid else "local",
        msgid=msgid,
        **extra,
    )


def line(*args: Any, **kw: Any) -> bytes:
    return json.dumps(record(*args, **kw), separators=(",", ":")).encode()


def write_day(root: Path, records: list[dict[str, Any]], day: str = "2026-12-06") -> Path:
    """``records`` as one channel's day file under ``root`` (appended)."""
    first = records[0]
    folder = root / first["network"] / first["channel"].lower()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{day}.jsonl"
    with open(path, "ab") as f:
        for r in records:
            f.write(json.dumps(r, separators=(",", ":")).encode() + b"\n")
    return path
