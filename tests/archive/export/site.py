"""A small log tree and its config for the export's tests, the command run as a child
process, and a check that every link of an exported tree leads to a file of it."""

from __future__ import annotations

import subprocess
import sys
import urllib.parse
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import yaml

from tests.archive.web.helpers import record, write_log

HOSTILE = "<script>window.pwned=1</script>"
# A channel whose name holds what a file system or a URL minds: "/", "?", "%", "."
# and a letter outside ASCII.
ODD = "#Wïld/..?%41."
DAYS = ("2026-03-01", "2026-03-02", "2026-04-15")
RUN_TIMEOUT = 60  # seconds one export may take at most (a safety bound)


def make_logs(root: Path) -> None:
    """#demo on three days (a hostile line on the first), the odd channel, the
    unpublished #other, and a private log with bob."""
    first = [record(f"{DAYS[0]}T10:{m:02d}:00", f"line {m}") for m in range(5)]
    first[2] = record(f"{DAYS[0]}T10:02:00", f"needle {HOSTILE}", nick="<b>evil</b>")
    write_log(root, first)
    write_log(root, [record(f"{DAYS[1]}T09:00:00", "second day", type="action")])
    write_log(root, [record(f"{DAYS[2]}T23:59:59", "third day")])
    write_log(root, [record(f"{DAYS[1]}T08:00:00", "odd one", channel=ODD)])
    write_log(root, [record(f"{DAYS[1]}T08:00:00", "not published", channel="#other")])
    write_log(root, [record(f"{DAYS[1]}T08:00:00", "private words", channel="bob")])


def write_config(folder: Path, web: dict[str, Any] | None) -> Path:
    """The config of the logs under ``folder/logs`` (index in ``folder``); ``web``: its
    web section, or none."""
    data: dict[str, Any] = {
        "logging": {"root": str(folder / "logs")},
        "networks": [{"name": "demo", "servers": ["127.0.0.1"], "nick": "logbot"}],
        "index": {"path": str(folder / "index.sqlite3")},
    }
    if web is not None:
        data["web"] = web
    config = folder / "config.yaml"
    config.write_text(yaml.safe_dump(data))
    return config


def make_site(folder: Path, web: dict[str, Any] | None = None) -> Path:
    """Logs and a config publishing #demo and the odd channel (unless ``web``); the
    config's path."""
    make_logs(folder / "logs")
    if web is None:
        web = {"publish": {"demo": ["#demo", ODD]}, "title": "Our <logs>"}
    return write_config(folder, web)


def export(config: Path, out: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``logbot export-html OUT -c CONFIG ARGS`` as a child process."""
    return subprocess.run(
        [sys.executable, "-m", "logbot", "export-html", str(out), "-c", str(config), *args],
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        cwd=config.parent,
    )


class Page(HTMLParser):
    """The links (``href``, ``src``), ids and text of one HTML file."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.ids: set[str] = set()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        self.tags.append((tag, found))
        for name in ("href", "src", "action"):
            value = found.get(name)
            if value is not None:
                self.links.append(value)
        if found.get("id"):
            self.ids.add(str(found["id"]))


def parse(path: Path) -> Page:
    page = Page()
    page.feed(path.read_text(encoding="utf-8"))
    page.close()
    return page


def check_links(out: Path) -> int:
    """Assert that every link of every page under ``out`` is relative and leads to a
    file under ``out`` (and its ``#fragment`` to an id there), or is a line's own
    ``http(s)://`` link; the number of links checked."""
    checked = 0
    top = out.resolve()
    for path in sorted(out.rglob("*.html")):
        for link in parse(path).links:
            parts = urllib.parse.urlsplit(link)
            if parts.scheme in ("http", "https"):
                continue
            assert not parts.scheme and not parts.netloc and not parts.query, (path, link)
            assert not parts.path.startswith("/"), (path, link)
            target = path
            if parts.path:
                target = (path.parent / urllib.parse.unquote(parts.path)).resolve()
                assert target.is_relative_to(top), (path, link)
                assert target.is_file(), (path, link, target)
            if parts.fragment and target.suffix == ".html":
                assert parts.fragment in parse(target).ids, (path, link)
            checked += 1
    return checked
