"""Jsonl records as the writer makes them, and files of them, for the index tests."""

from __future__ import annotations

import datetime
import gzip
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from logbot.archive.index import Index
from tests.archive.records import record_at


def day_file(
    root: Path, day: str = "2026-01-02", channel: str = "#chan", network: str = "net"
) -> Path:
    return root / network / channel / f"{day}.jsonl"


def record(
    n: int = 0,
    *,
    text: str | None = "hello",
    nick: str | None = "alice",
    channel: str = "#chan",
    network: str = "net",
    kind: str = "message",
    day: str = "2026-01-02",
    offset: str = "+00:00",
    **extra: Any,
) -> dict[str, Any]:
    """The ``n``-th line of a day: ``n`` seconds after 10:00 (local), with the schema's
    keys in order."""
    local = datetime.datetime.fromisoformat(f"{day}T10:00:00{offset}")
    when = local + datetime.timedelta(seconds=n)
    return record_at(when, kind=kind, text=text, nick=nick, channel=channel, network=network,
                     **extra)  # fmt: skip


def lines(records: Iterable[dict[str, Any]]) -> bytes:
    return b"".join(json.dumps(r, ensure_ascii=False).encode() + b"\n" for r in records)


def append(path: Path, data: bytes | Iterable[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "ab") as f:
        f.write(data if isinstance(data, bytes) else lines(data))


def gzip_file(path: Path) -> Path:
    """What the rotation does: ``path`` compressed to ``path.gz``, the original removed."""
    packed = path.with_name(path.name + ".gz")
    packed.write_bytes(gzip.compress(path.read_bytes()))
    path.unlink()
    return packed


def texts(
    index: Index, network: str = "net", channel: str = "#chan", day: str = "2026-01-02"
) -> list[tuple[int, str | None]]:
    """A day's (seq, text) pairs, by seq."""
    return [(line.seq, line.record["text"]) for line in index.day_lines(network, channel, day)]
