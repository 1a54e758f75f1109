"""Index or files: the choice ``logbot search`` and ``!grep`` make, with a fake index.

The real index (logbot.archive.index) is written apart; :class:`FakeIndex` has its
API (``search(query, context)`` newest first, ``count``, ``close``) and answers from
a list of hits, recording what it was asked."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from logbot.archive.model import Hit, Query
from logbot.archive.search.backend import NoIndex, find, first_from_index, index_words
from logbot.archive.search.match import Matcher, Term, words_of
from logbot.cli.search_cmd import run_search

from .conftest import record, write_jsonl


class FakeIndex:
    """An index answering from ``hits`` (newest first) those the query matches (by the
    matcher, whose words are the index's); ``fail`` makes every search raise."""

    def __init__(self, hits: list[Hit], fail: Exception | None = None) -> None:
        self.hits = hits
        self.fail = fail
        self.queries: list[tuple[Query, int]] = []
        self.closed = 0

    def search(self, query: Query, context: int = 0) -> list[Hit]:
        self.queries.append((query, context))
        if self.fail is not None:
            raise self.fail
        matcher = Matcher(query)
        found = [h for h in self.hits if matcher(h.record)]
        return found[query.offset : query.offset + query.limit]

    def count(self, query: Query) -> int:
        return len(self.search(replace_limit(query)))

    def close(self) -> None:
        self.closed += 1


def replace_limit(query: Query) -> Query:
    from dataclasses import replace

    return replace(query, limit=1 << 30, offset=0)


def opener_of(index: FakeIndex, opened: list[tuple[Path, Path]]) -> Any:
    def open_index(path: Path, root: Path) -> FakeIndex:
        opened.append((path, root))
        return index

    return open_index


def hit(n: int, text: str = "from the index") -> Hit:
    r = record(f"2026-12-06T10:00:0{n}", f"{text} {n}")
    return Hit("net", "#chan", "2026-12-06", n, r)


@pytest.fixture
def index_file(tmp_path: Path) -> Path:
    path = tmp_path / "data" / "index.sqlite3"
    path.parent.mkdir()
    path.write_bytes(b"")  # the fake does not read it: it must only exist
    return path


def test_the_index_answers_when_its_file_exists(config: Any, logs: Path, index_file: Path) -> None:
    write_jsonl(logs / "net/#chan/2026-12-06.jsonl", [record("2026-12-06T09:00:00", "from files")])
    index = FakeIndex([hit(2), hit(1)])
    opened: list[tuple[Path, Path]] = []
    query = Query(words="index", limit=5)
    found = find(config, query, context=2, opener=opener_of(index, opened))
    assert found.source == "index" and found.notes == [] and found.unread is None
    assert [h.seq for h in found.hits] == [2, 1]
    assert opened == [(index_file, logs)] and index.queries == [(query, 2)] and index.closed == 1
    # --no-index: the files, whatever the index holds
    found = find(config, Query(), use_index=False, opener=opener_of(index, opened))
    assert found.source == "files" and [h.record["text"] for h in found.hits] == ["from files"]
    assert len(opened) == 1


def test_without_an_index_file_the_files_are_scanned_and_it_is_said(
    config: Any, logs: Path, tmp_path: Path
) -> None:
    write_jsonl(logs / "net/#chan/2026-12-06.jsonl", [record("2026-12-06T09:00:00", "x")])
    found = find(config, Query(), opener=opener_of(FakeIndex([]), []))
    assert found.source == "files" and len(found.hits) == 1
    assert found.notes == [
        f"no index at {tmp_path / 'data' / 'index.sqlite3'}: scanning the files "
        "(logbot index builds one)"
    ]
    with pytest.raises(NoIndex, match="no index at /nowhere"):
        find(config, Query(), index=Path("/nowhere"))


def test_an_index_that_fails_leaves_the_answer_to_the_files(
    config: Any, logs: Path, index_file: Path
) -> None:
    write_jsonl(logs / "net/#chan/2026-12-06.jsonl", [record("2026-12-06T09:00:00", "x")])
    index = FakeIndex([], fail=OSError("disk on fire"))
    found = find(config, Query(), opener=opener_of(index, []))
    assert found.source == "files" and len(found.hits) == 1
    assert found.notes == [f"the index at {index_file} failed (disk on fire): scanning the files"]
    assert index.closed == 1


def test_run_search_prints_the_index_hits(config: Any, index_file: Path) -> None:
    index = FakeIndex([hit(2, "word here"), hit(1, "word there")])
    out, err = io.StringIO(), io.StringIO()
    status = run_search(config, Query(words="word"), context=0, as_json=True, color=False,
                        use_index=True, index=None, out=out, err=err, err_tty=True,
                        opener=opener_of(index, []))  # fmt: skip
    assert status == 0 and err.getvalue() == ""
    assert [json.loads(line)["text"] for line in out.getvalue().splitlines()] == [
        "word here 2",
        "word there 1",
    ]
    out = io.StringIO()
    status = run_search(config, Query(words="absent"), context=0, as_json=False, color=False,
                        use_index=True, index=None, out=out, err=err, err_tty=False,
                        opener=opener_of(index, []))  # fmt: skip
    assert status == 1 and out.getvalue() == ""


def test_first_from_index_pages_past_what_keep_leaves_out(index_file: Path, logs: Path) -> None:
    index = FakeIndex([hit(n, "w") for n in range(9, 0, -1)])
    odd = first_from_index(opener_of(index, []), index_file, logs, Query(words="w", limit=2),
                           lambda h: h.seq if h.seq % 2 else None, want=3, pages=4)  # fmt: skip
    assert odd == [9, 7, 5]
    assert [q.offset for q, _ in index.queries] == [0, 2, 4]
    capped = first_from_index(opener_of(index, []), index_file, logs, Query(words="w", limit=2),
                              lambda h: None, want=3, pages=2)  # fmt: skip
    assert capped == []  # two pages asked, no more
    assert first_from_index(None, logs / "missing", logs, Query(), lambda h: h, 1, 1) is None
    broken = opener_of(FakeIndex([], fail=RuntimeError("corrupt")), [])
    assert first_from_index(broken, index_file, logs, Query(), lambda h: h, 1, 1) is None


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        (["foo", "bar*"], '"foo" bar*'),
        (["don't", 'a"b', 'x"y*'], '"don\'t" "a b" x-y*'),
        (["!!!", "ok"], '"ok"'),
        (["***", "?"], None),
        (["AND", "NEAR(a"], '"AND" "NEAR(a"'),
    ],
)
def test_index_words_from_irc(words: list[str], expected: str | None) -> None:
    """Quoted, so the index reads no syntax in them; the index and the matcher read
    them alike."""
    from logbot.archive.index.words import fts_query

    assert index_words(words) == expected
    if expected is not None:  # each word typed is one term: its words, in a row
        typed = [Term(tuple(words_of(w)), w.endswith("*")) for w in words if words_of(w)]
        assert list(Matcher(Query(words=expected)).terms) == typed
        assert fts_query(expected) is not None
