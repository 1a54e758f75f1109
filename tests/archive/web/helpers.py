"""Records, log files and requests for the web view's tests."""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

from logbot.archive.model import channel_key
from logbot.archive.web.routes import WebApp
from logbot.config.settings import Secret, WebOptions
from logbot.health.http import Request, Response
from logbot.logs.paths import render_path, with_format
from tests.archive.web.fake_index import FakeIndex

TEMPLATE = "{network}/{channel}/{date:%Y-%m-%d}.log"


def record(
    time: str,
    text: str | None = "hello",
    *,
    type: str = "message",
    nick: str | None = "alice",
    network: str = "demo",
    channel: str = "#demo",
    **extra: Any,
) -> dict[str, Any]:
    """A jsonl record as the writer makes it; ``time`` like ``2026-03-01T10:00:00``
    (UTC unless it has an offset)."""
    if len(time) == 19:
        time += ".000+00:00"
    moment = datetime.datetime.fromisoformat(time)
    data: dict[str, Any] = {
        "time": time,
        "time_ms": int(moment.timestamp() * 1000),
        "time_source": "server",
        "type": type,
        "network": network,
        "channel": channel,
        "nick": nick,
        "user": "u",
        "host": "h.example",
        "account": None,
        "text": text,
    }
    data.update(extra)
    data.setdefault("msgid", None)
    data.setdefault("tags", {})
    return data


def write_log(root: Path, records: list[dict[str, Any]]) -> None:
    """Append ``records`` to their channel's day file under ``root``, as the bot would."""
    for rec in records:
        day = datetime.date.fromisoformat(rec["time"][:10])
        relative = render_path(TEMPLATE, rec["network"], channel_key(rec["channel"]), day)
        path = with_format(root / relative, "jsonl")
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as f:
            f.write(json.dumps(rec, ensure_ascii=False) + "\n")


def options(**kw: Any) -> WebOptions:
    kw.setdefault("publish", {"demo": None})
    for key in ("password", "token"):
        if isinstance(kw.get(key), str):
            kw[key] = Secret(kw[key])
    return WebOptions(**kw)


def app(index: FakeIndex, now: str = "2030-01-01T00:00:00+00:00", **kw: Any) -> WebApp:
    moment = datetime.datetime.fromisoformat(now).timestamp()
    return WebApp(options(**kw), index, lambda: moment)


def get(
    web: WebApp, target: str, *, method: str = "GET", headers: tuple[tuple[str, str], ...] = ()
) -> Response:
    return web.handle(Request(method, target, "HTTP/1.1", (("host", "x"), *headers)))


def text(response: Response) -> str:
    return response.body.decode("utf-8")


def header(response: Response, name: str) -> str | None:
    for key, value in response.headers:
        if key.lower() == name.lower():
            return value
    return None
