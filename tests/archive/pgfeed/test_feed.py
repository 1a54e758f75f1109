"""The feed into a real PostgreSQL: each event once, whichever bots log it, whatever
crashes, and a database outage caught up."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from logbot.archive.postgres.connect import Database, DatabaseError
from logbot.archive.postgres.feeder import PgFeed, read_status
from logbot.archive.postgres.schema import migrate
from tests.archive.pgfeed.lines import record, write_day
from tests.pg.server import PgServer

psycopg = pytest.importorskip("psycopg", reason="the postgres extra (psycopg) is not installed")


@pytest.fixture
def db(pg_dsn: str) -> Database:
    database = Database(pg_dsn)
    conn = database.connect()
    migrate(conn)
    conn.close()
    return database


def feed(tmp: Path, database: Database, instance: str, window_ms: int = 3000) -> PgFeed:
    return PgFeed(
        tmp / f"{instance}-state.sqlite3",
        database,
        instance,
        window_ms,
        status_path=tmp / f"{instance}-status.json",
    )


def scalar(database: Database, sql: str) -> Any:
    conn = database.connect()
    try:
        return conn.execute(sql).fetchone()[0]
    finally:
        conn.close()


def texts(database: Database) -> list[str]:
    conn = database.connect()
    try:
        return [
            t
            for (t,) in conn.execute(
                "SELECT text FROM events WHERE NOT marker ORDER BY time_ms, id"
            )
        ]
    finally:
        conn.close()


def test_two_bots_with_server_time_and_msgid_store_each_event_once(
    db: Database, tmp_path: Path
) -> None:
    records = [record(i * 10, f"line {i}", msgid=f"id{i}") for i in range(500)]
    for name in ("a", "b"):
        root = tmp_path / name / "logs"
        write_day(root, records)
        f = feed(tmp_path, db, name)
        assert f.update(root) == 500
        f.close()
    assert scalar(db, "SELECT count(*) FROM events") == 500
    assert scalar(db, "SELECT count(*) FROM sightings") == 1000
    assert scalar(db, "SELECT count FROM days") == 500


def test_two_bots_without_server_time_match_within_the_window(db: Database, tmp_path: Path) -> None:
    """Bot b's clock is 1.5 s behind; lines repeat ("lol" many times): still one each."""
    says = ["lol", "lol", "hi", "lol", "bye", "lol"] * 20
    a = [record(i * 700, text) for i, text in enumerate(says)]
    b = [record(i * 700 - 1500, text) for i, text in enumerate(says)]
    for name, records in (("a", a), ("b", b)):
        root = tmp_path / name / "logs"
        write_day(root, records)
        f = feed(tmp_path, db, name)
        f.update(root)
        f.close()
    assert texts(db) == says
    assert scalar(db, "SELECT count(*) FROM sightings") == 2 * len(says)


def test_a_line_fed_again_is_skipped(db: Database, tmp_path: Path) -> None:
    """kill -9 between the database's commit and the local state's, or a lost state
    file: every line read again, none stored twice."""
    root = tmp_path / "logs"
    write_day(root, [record(i, f"x{i}") for i in range(300)])
    f = feed(tmp_path, db, "a")
    f.update(root)
    f.close()
    (tmp_path / "a-state.sqlite3").unlink()
    f = feed(tmp_path, db, "a")
    assert f.update(root) == 300
    assert (f.sink.counts.new, f.sink.counts.known) == (0, 300)
    f.close()
    assert scalar(db, "SELECT count(*) FROM events") == 300


def test_one_bot_down_halfway_the_other_fills_the_archive(db: Database, tmp_path: Path) -> None:
    """a logs 0-199, is killed, misses 200-399, comes back with a gap line, logs
    400-599; b logs everything.  The archive: 600 lines, each once, and both bots'
    markers (the read side decides that a's gap was covered)."""
    every = [record(i * 100, f"m{i}") for i in range(600)]
    gap = record(
        400 * 100 - 50,
        "events between ... were not seen",
        kind="gap",
        nick="a",
        target="2026-12-06T10:00:19.900+00:00",
    )
    roots = {"a": tmp_path / "a" / "logs", "b": tmp_path / "b" / "logs"}
    write_day(roots["a"], every[:200])
    fa = feed(tmp_path, db, "a")
    fa.update(roots["a"])
    write_day(roots["b"], every)
    fb = feed(tmp_path, db, "b")
    fb.update(roots["b"])
    write_day(roots["a"], [gap, *every[400:]])
    fa.update(roots["a"])
    assert texts(db) == [r["text"] for r in every]
    assert scalar(db, "SELECT count(*) FROM events WHERE marker") == 1
    assert (
        scalar(db, "SELECT gap_from_ms FROM events WHERE type = 'gap'")
        == (record(199 * 100)["time_ms"])
    )
    fa.close()
    fb.close()


def test_bad_lines_are_counted_and_skipped(db: Database, tmp_path: Path) -> None:
    root = tmp_path / "logs"
    path = write_day(root, [record(0, "good")])
    with open(path, "ab") as f:
        f.write(b'not json\n{"time": 1}\n[1,2]\n')
    write_day(root, [record(10, "also good")])
    fa = feed(tmp_path, db, "a")
    assert fa.update(root) == 2
    assert fa.bad_lines == 3
    fa.close()
    assert texts(db) == ["good", "also good"]


@pytest.fixture
def own_server() -> Iterator[PgServer]:
    server = PgServer.start()
    yield server
    server.stop()


def test_a_database_outage_is_caught_up_and_reported(own_server: PgServer, tmp_path: Path) -> None:
    dsn = own_server.create_database("logs") + " password=hunter2-secret"
    database = Database(dsn)
    conn = database.connect()
    migrate(conn)
    conn.close()
    root = tmp_path / "logs"
    write_day(root, [record(i, f"before {i}") for i in range(100)])
    f = feed(tmp_path, database, "a")
    f.update(root)
    own_server.pause()
    write_day(root, [record(1000 + i, f"during {i}") for i in range(100)])
    with pytest.raises(DatabaseError) as caught:
        f.update(root)
    assert "hunter2" not in str(caught.value)
    assert "127.0.0.1" in str(caught.value)
    status = read_status(tmp_path / "a-status.json")
    assert status is not None and status["database_up"] is False
    during = (root / "net" / "#chan" / "2026-12-06.jsonl").read_bytes().split(b"during 0")[1]
    assert 100 * 200 < status["backlog_bytes"] <= len(during) + 300  # those 100 lines
    assert "hunter2" not in json.dumps(status)
    own_server.resume()
    assert f.update(root) == 100
    status = read_status(tmp_path / "a-status.json")
    assert status is not None and status["database_up"] is True and status["backlog_bytes"] == 0
    f.close()
    assert len(texts(database)) == 200


def test_nul_and_lone_surrogates_are_stored_replaced(db: Database, tmp_path: Path) -> None:
    """JSON escapes PostgreSQL text cannot hold: stored replaced, never a stuck feed."""
    root = tmp_path / "logs"
    path = write_day(root, [record(0, "before")])
    with open(path, "ab") as f:
        f.write(json.dumps(record(1, "a\u0000b\ud800c", nick="n\u0000ck")).encode() + b"\n")
    write_day(root, [record(2, "after")])
    fa = feed(tmp_path, db, "a")
    assert fa.update(root) == 3
    fa.close()
    assert texts(db) == ["before", "a\ufffdb?c", "after"]  # as the SQLite index cleans


def test_a_line_the_database_refuses_is_skipped_not_retried_for_ever(
    db: Database, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Should a value get past the cleaning that the database cannot store (here a NUL
    put straight into an event), the batch is stored line by line: that one line is
    skipped and said, the others go in, and the feed goes on."""
    from logbot.archive.postgres.events import parse_event

    sink = feed(tmp_path, db, "a").sink
    good = [parse_event(json.dumps(record(i, f"ok {i}")).encode()) for i in range(3)]
    assert all(e is not None for e in good)
    bad = parse_event(json.dumps(record(5, "x")).encode())
    assert bad is not None
    bad.text = "nul\0here"
    sink._events = [good[0], bad, good[1], good[2]]  # type: ignore[list-item]
    sink.commit()
    sink.close()
    assert texts(db) == ["ok 0", "ok 1", "ok 2"]
    assert sink.refused == 1 and sink.counts.new == 3
    assert "refused 1 line(s)" in caplog.text


def test_copy_text_escapes() -> None:
    from logbot.archive.postgres.copytext import copy_rows

    assert copy_rows([(1, None, True, False, b"\x00\xff", "a\tb\nc\\d\re")]) == (
        b"1\t\\N\tt\tf\t\\\\x00ff\ta\\tb\\nc\\\\d\\re\n"
    )
    with pytest.raises(TypeError):
        copy_rows([(1.5,)])
