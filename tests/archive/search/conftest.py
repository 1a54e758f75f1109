"""Shared makers for the search tests: jsonl records written by hand (after the
schema, logbot/logs/jsonl.schema.json), text lines in the limnoria layout, and a small
config file whose log root is the test's folder."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest


def record(
    when: str,
    text: str | None = "hello",
    *,
    nick: str | None = "alice",
    type: str = "message",
    network: str = "net",
    channel: str = "#chan",
    **extra: Any,
) -> dict[str, Any]:
    """One jsonl record at ``when`` (``2026-12-06T14:03:07``, UTC), keys in the schema's
    order."""
    moment = datetime.fromisoformat(when).replace(tzinfo=UTC)
    out: dict[str, Any] = {
        "time": moment.isoformat(timespec="milliseconds"),
        "time_ms": int(moment.timestamp() * 1000),
        "time_source": "server",
        "type": type,
        "network": network,
        "channel": channel,
        "nick": nick,
        "user": None if nick is None else "~" + nick,
        "host": None if nick is None else "host.example",
        "account": None,
        "text": text,
    }
    out.update(extra)
    out.setdefault("msgid", None)
    out.setdefault("tags", {})
    return out


def write_jsonl(path: Path, records: list[dict[str, Any]], *, gz: bool = False) -> Path:
    """``records`` one per line in ``path`` (gzip-compressed to ``path.gz`` with ``gz``)."""
    data = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode()
    return _write(path, data, gz)


def write_text(path: Path, lines: list[str], *, gz: bool = False) -> Path:
    data = "".join(line + "\n" for line in lines).encode()
    return _write(path, data, gz)


def _write(path: Path, data: bytes, gz: bool) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if gz:
        path = path.with_name(path.name + ".gz")
        path.write_bytes(gzip.compress(data))
    else:
        path.write_bytes(data)
    return path


CONFIG = """\
logging:
  root: {root}
{extra}networks:
  - name: net
    nick: bot
    servers: [127.0.0.1]
    channels: ["#chan"]
  - name: other
    nick: bot
    servers: [127.0.0.1]
plugins:
  data_dir: {data}
"""


def write_config(folder: Path, extra: str = "") -> Path:
    """A config whose log root is ``folder/logs`` and data folder ``folder/data``."""
    path = folder / "config.yaml"
    path.write_text(
        CONFIG.format(
            root=json.dumps(str(folder / "logs")),
            data=json.dumps(str(folder / "data")),
            extra=extra,
        )  # fmt: skip
    )
    return path


@pytest.fixture
def logs(tmp_path: Path) -> Path:
    """The log root (tmp_path/logs)."""
    root = tmp_path / "logs"
    root.mkdir()
    return root


@pytest.fixture
def config(tmp_path: Path, logs: Path) -> Any:
    from logbot.config.loader import load_config

    return load_config(write_config(tmp_path))
