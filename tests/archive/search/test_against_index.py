"""The scan and the real index give the same answers: the same hits, newest first, with
the same day, seq and context lines, over the same files (gzip, size-rotated parts, a
bad line, two networks).  And ``logbot search`` and ``!grep``'s log view use the real
index when its file is there."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from logbot.archive.index import open_index
from logbot.archive.model import Hit, Query
from logbot.archive.search.scan import scan
from logbot.config.settings import LogOptions
from logbot.plugins.logview import LogView

from .conftest import record, write_jsonl


@pytest.fixture
def archive(logs: Path) -> Path:
    chan = logs / "net/#chan"
    write_jsonl(chan / "2026-12-05.jsonl", [record("2026-12-05T10:00:00", "Café olé"),
                record("2026-12-05T11:00:00", "don't stop", nick="Bob[m]")], gz=True)  # fmt: skip
    write_jsonl(chan / "2026-12-06.001.jsonl", [record("2026-12-06T09:00:00", "early thinking")])
    day = write_jsonl(chan / "2026-12-06.jsonl", [record("2026-12-06T10:00:00", "cafe time"),
                      record("2026-12-06T10:00:01", "after", type="action")])  # fmt: skip
    with day.open("ab") as f:
        f.write(b"not a record\n")
    write_jsonl(chan / "2026-12-07.jsonl", [record("2026-12-07T10:00:00", "a new day")])
    elsewhere = record("2026-12-06T10:30:00", "cafés", network="other", channel="#X")
    write_jsonl(logs / "other/#X/2026-12-06.jsonl", [elsewhere])
    return logs


def shown(hits: list[Hit]) -> list[tuple[Any, ...]]:
    return [(h.network, h.channel, h.day, h.seq, h.record["text"],
             [(line.seq, line.record["text"]) for line in h.context]) for h in hits]  # fmt: skip


@pytest.mark.parametrize(
    "query",
    [
        Query(),
        Query(words="cafe"),
        Query(words="caf*"),
        Query(words='"cafe time"'),
        Query(words="don't"),
        Query(nick="bob{M}"),
        Query(channel="#x"),
        Query(types=("action",)),
        Query(regex="É"),
        Query(limit=2, offset=1),
    ],
    ids=lambda q: repr(q)[6:60],
)
def test_the_scan_answers_as_the_index_does(
    archive: Path, config: Any, tmp_path: Path, query: Query
) -> None:
    index = open_index(tmp_path / "index.sqlite3", archive)
    try:
        for context in (0, 1):
            assert shown(scan(config, query, context=context)[0]) == shown(
                index.search(query, context)
            )
    finally:
        index.close()


def test_search_and_grep_use_the_real_index(archive: Path, config: Any, tmp_path: Path) -> None:
    path = tmp_path / "data" / "index.sqlite3"
    open_index(path, archive).close()
    done = subprocess.run(
        [sys.executable, "-m", "logbot", "search", "-c", str(tmp_path / "config.yaml"), "cafe"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
    )
    assert (done.returncode, done.stderr) == (0, "")  # no "no index": it was used
    assert done.stdout.splitlines() == [  # "cafés" is another word
        "net #chan 2026-12-06 10:00:00 <alice> cafe time",
        "net #chan 2026-12-05 10:00:00 <alice> Café olé",
    ]
    now = datetime(2026, 12, 7, 12, tzinfo=UTC).timestamp()
    options = LogOptions(formats=("jsonl",))
    files = LogView(archive, "net", wall=lambda: now)
    assert [x.text for x in files.recent("#chan", options, words=["ink"])] == ["early thinking"]
    view = LogView(archive, "net", wall=lambda: now, index_path=path)  # the real opener
    assert [x.text for x in view.recent("#chan", options, words=["CAFE"])] == [
        "cafe time",
        "Café olé",
    ]
    assert view.recent("#chan", options, words=["ink"]) == []  # whole words: not "thinking"


def test_grep_never_fills_an_index_on_the_reactor(archive: Path, tmp_path: Path) -> None:
    """A damaged index file: moved aside by the index, but not rebuilt by ``!grep`` (it
    would read every file before answering); the files answer meanwhile."""
    path = tmp_path / "data" / "index.sqlite3"
    path.parent.mkdir()
    path.write_bytes(b"this is not an SQLite database" * 100)
    now = datetime(2026, 12, 7, 12, tzinfo=UTC).timestamp()
    view = LogView(archive, "net", wall=lambda: now, index_path=path)
    options = LogOptions(formats=("jsonl",))
    assert [x.text for x in view.recent("#chan", options, words=["ink"])] == ["early thinking"]
    index = open_index(path, tmp_path / "empty")  # what the new file holds: nothing
    try:
        assert index.count(Query()) == 0
    finally:
        index.close()
