"""PgArchive's search: the words syntax side by side with the SQLite index on the same
lines, the other fields, paging, context, count, and the bounds."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from logbot.archive.index import Index
from logbot.archive.index.search import COUNT_CAP, SearchError
from logbot.archive.model import Hit, Query
from logbot.archive.postgres import pgsearch
from logbot.archive.postgres.reads import PgArchive
from tests.archive.index.files import append
from tests.archive.postgres.rows import add_event, record

TEXTS = [
    "Café au lait, s'il vous plaît",
    "I don't know the e-mail address",
    "send me an e mail please",
    "email me later",
    "naïve approach is NAIVE",
    "visit example.com now",
    "foo_bar and baz-qux",
    "the quick brown fox",
    "quick thinking",
    "quickly done",
    "brown quick",
    "über cool stuff",
    "Uber-cool thing",
    "C++ rocks",
    "3.14 is pi",
    "dont stop",
    "don't stop me now",
    "ÉCOLE normale",
    "it's 5 o'clock",
    "x-y-z axes",
    "tab\tseparated words",
    'quotes "inside" text',
    "a&b | c ! d <-> e :* f",
    "",
]

QUERIES = [
    "cafe", "café", "CAFÉ", "plait", "plaît", "s'il", "il", "don't", "dont", "don't stop",
    '"don\'t stop"', "stop don*", "don't*", "e-mail", "mail", "e mail", '"e mail"',
    '"e-mail address"', "email", "e-ma*", "ema*", "quick", "QUICK", "quick*", "qu*",
    '"quick brown"', '"brown quick"', "brown quick", "naive", "naïve*", "uber-cool", "uber",
    "über", "cool", "foo_bar", "foo", "bar", "baz-qux", "qux", "C++", "c", "3.14", "pi",
    "ecole", "école*", "it's", "o'clock", "clock", "x-y-z", "y", "inside", '"inside"',
    "separated words", "-", '"', "*", ":*", "a&b", "c | d", "!d", "<->", "e:*", "f:*",
    "'quick'", "quick'", "\\quick", "a\\b", "nothing_here", '"unclosed phrase',
    "example.com", "com",
]  # fmt: skip

#: Queries known to find fewer lines than the SQLite index: none since the stored
#: text is split at ASCII punctuation (``com`` finds ``example.com``: schema.py).
DIFFERENT: set[str] = set()


def _both(
    tmp_path: Path, pg: Any, records: list[dict[str, Any]]
) -> Iterator[tuple[Index, PgArchive]]:
    root = tmp_path / "logs"
    for rec in records:
        append(root / rec["network"] / rec["channel"] / f"{rec['time'][:10]}.jsonl", [rec])
        add_event(pg, rec)
    with Index(tmp_path / "index.sqlite3") as index, PgArchive(pg) as archive:
        index.update(root)
        yield index, archive


@pytest.fixture
def both(tmp_path: Path, pg: Any) -> Iterator[tuple[Index, PgArchive]]:
    records = []
    for i, text in enumerate(TEXTS):
        nick = ("alice", "Bob", "carol")[i % 3]
        channel = ("#chan", "#Other")[i % 2]
        day = "2026-01-02" if i < 12 else "2026-01-03"
        records.append(record(f"{day}T10:{i:02d}:00", text, nick=nick, channel=channel))
    records.append(record("2026-01-03T11:00:00", "quick one", type="action", network="other"))
    yield from _both(tmp_path, pg, records)


def _seen(hits: list[Hit]) -> list[tuple[str, str, str, int, Any]]:
    return [(h.network, h.channel, h.day, h.seq, h.record["text"]) for h in hits]


@pytest.mark.parametrize("words", QUERIES)
def test_words_as_the_sqlite_index_finds_them(both: tuple[Index, PgArchive], words: str) -> None:
    index, archive = both
    expected = _seen(index.search(Query(words=words)))
    got = _seen(archive.search(Query(words=words)))
    if words in DIFFERENT:
        assert set(got) < set(expected)
    else:
        assert got == expected
        assert archive.count(Query(words=words)) == index.count(Query(words=words))


@pytest.mark.parametrize(
    "query",
    [
        Query(words="quick", nick="ALICE"),
        Query(words="quick*", channel="#OTHER"),
        Query(words="quick*", network="other"),
        Query(words="quick*", types=("action",)),
        Query(words="quick*", types=("message", "action")),
        Query(nick="bob"),
        Query(channel="#chan", limit=3),
        Query(channel="#chan", limit=3, offset=2),
        Query(words="quick*", limit=2, offset=1),
        Query(since_ms=record("2026-01-03T10:00:00")["time_ms"]),
        Query(until_ms=record("2026-01-02T10:03:00")["time_ms"]),
        Query(regex=r"\bqu\w+"),
        Query(regex=r"QUICK", case=True),
        Query(regex=r"quick", case=True, nick="bob"),
        Query(regex="o", limit=3, offset=4),
        Query(words="quick*", regex="ly"),
        Query(),
        Query(limit=0),
        Query(types=("nope",)),
    ],
    ids=repr,
)
def test_every_field_as_the_sqlite_index(both: tuple[Index, PgArchive], query: Query) -> None:
    index, archive = both
    assert _seen(archive.search(query)) == _seen(index.search(query))
    assert archive.count(query) == index.count(query)


def test_context(both: tuple[Index, PgArchive]) -> None:
    index, archive = both
    for query in (Query(words="quick"), Query(words="cafe"), Query(words="pi")):
        got, expected = archive.search(query, context=2), index.search(query, context=2)
        assert [[(c.seq, c.record["text"]) for c in h.context] for h in got] == [
            [(c.seq, c.record["text"]) for c in h.context] for h in expected
        ]


def test_bad_queries_are_search_errors(archive: PgArchive) -> None:
    for query in (
        Query(regex="("),
        Query(words="x" * 1001),
        Query(words=" ".join(f"w{i}" for i in range(33))),
        Query(types=tuple(f"t{i}" for i in range(33))),
    ):
        with pytest.raises(SearchError):
            archive.search(query)
        with pytest.raises(SearchError):
            archive.count(query)


def test_a_regex_is_bounded_by_rows(pg: Any) -> None:
    for i in range(30):
        add_event(pg, record(f"2026-01-02T10:00:{i:02d}", f"line {i}"))
    with PgArchive(pg, search_rows=20) as archive:
        with pytest.raises(SearchError, match="20 rows"):
            archive.search(Query(regex="nothing"))
        with pytest.raises(SearchError, match="20 rows"):
            archive.count(Query(regex="nothing"))
        assert len(archive.search(Query(regex="line", limit=5))) == 5
        assert len(archive.search(Query(words="line", limit=10))) == 10
        with pytest.raises(SearchError, match="20 rows"):  # an offset is rows looked at
            archive.search(Query(words="line", limit=10, offset=15))


def test_a_catastrophic_regex_is_cut_short(pg: Any) -> None:
    add_event(pg, record("2026-01-02T10:00:00", "a" * 60))
    with PgArchive(pg, search_seconds=0.2) as archive:
        started = time.monotonic()
        with pytest.raises(SearchError, match="0.2 s"):
            archive.search(Query(regex=r"(a+)+b"))
        assert time.monotonic() - started < 5
        assert len(archive.search(Query(regex="a{3}"))) == 1  # the alarm is gone


def test_a_slow_statement_is_bounded_by_time(pg: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    add_event(pg, record("2026-01-02T10:00:00", "hello"))
    real = pgsearch._where

    def slow(conn: Any, query: Query) -> tuple[str, list[Any]] | None:
        plan = real(conn, query)
        assert plan is not None
        return plan[0] + " AND pg_sleep(1) IS NOT NULL", plan[1]

    monkeypatch.setattr(pgsearch, "_where", slow)
    with PgArchive(pg, search_seconds=0.2) as archive:
        with pytest.raises(SearchError, match="took too long"):
            archive.search(Query(words="hello"))
        assert archive.networks() == ["net"]  # the connection is usable after it


def test_count_stops_at_its_cap(pg: Any, archive: PgArchive) -> None:
    pg.execute(
        "INSERT INTO events (id, network, channel, name, day, time_ms, type, nick, nick_key,"
        " text, match_key, instance, marker, record) SELECT nextval('events_id_seq'), 'net',"
        " '#chan', '#chan', '2026-01-02', g, 'message', 'al', 'al', 'word', 0, 'bot1', false,"
        " '{}' FROM generate_series(1, %s) g",
        (COUNT_CAP + 5,),
    )
    assert archive.count(Query(words="word")) == COUNT_CAP
    assert archive.count(Query(regex="word")) == COUNT_CAP
    assert archive.count(Query(words="word", until_ms=101)) == 100


def test_a_words_query_never_speaks_tsquery(archive: PgArchive, pg: Any) -> None:
    add_event(pg, record("2026-01-02T10:00:00", "a & b | c"))
    for words in ("&", "|", "!", "a & b", "a|b", "(a", "a:*", "a:AB", "'a", "\\'a", "a<2>b"):
        archive.search(Query(words=words))  # never a syntax error
    assert len(archive.search(Query(words="a&b"))) == 1
