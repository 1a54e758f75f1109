"""PgArchive's reads: networks, channels, days, a day's lines, neighbours, one line."""

from __future__ import annotations

from typing import Any

import pytest

from logbot.archive.index.reads import ChannelInfo
from logbot.archive.postgres.reads import ConnectionLost, PgArchive, StoreUnavailable
from tests.archive.postgres.rows import add_event, record


@pytest.fixture
def filled(pg: Any) -> Any:
    for day, count in (("2026-01-01", 3), ("2026-01-02", 5), ("2026-01-05", 2)):
        for i in range(count):
            add_event(pg, record(f"{day}T10:00:{i:02d}", f"line {i} of {day}", nick=f"n{i}"))
    add_event(pg, record("2026-01-02T11:00:00", "other", channel="#Other"))
    add_event(pg, record("2026-01-02T11:00:00", "private", channel="bob"))
    add_event(pg, record("2026-01-03T11:00:00", "elsewhere", network="abc", channel="#chan"))
    return pg


def test_networks_and_channels(filled: Any, archive: PgArchive) -> None:
    assert archive.networks() == ["abc", "net"]
    assert archive.channels("net") == [
        ChannelInfo("net", "#chan", "#chan", "2026-01-01", "2026-01-05", 10),
        ChannelInfo("net", "#other", "#Other", "2026-01-02", "2026-01-02", 1),
        ChannelInfo("net", "bob", "bob", "2026-01-02", "2026-01-02", 1),
    ]
    assert archive.channels("nope") == []


def test_days_and_neighbours(filled: Any, archive: PgArchive) -> None:
    assert archive.days("net", "#CHAN") == [("2026-01-01", 3), ("2026-01-02", 5), ("2026-01-05", 2)]
    assert archive.neighbours("net", "#chan", "2026-01-02") == ("2026-01-01", "2026-01-05")
    assert archive.neighbours("net", "#chan", "2026-01-01") == (None, "2026-01-02")
    assert archive.neighbours("net", "#chan", "2026-01-03") == ("2026-01-02", "2026-01-05")
    assert archive.neighbours("net", "#nope", "2026-01-03") == (None, None)


def test_day_lines_are_numbered_by_time(filled: Any, archive: PgArchive) -> None:
    lines = archive.day_lines("net", "#Chan", "2026-01-02")
    assert [(line.seq, line.record["text"]) for line in lines] == [
        (i + 1, f"line {i} of 2026-01-02") for i in range(5)
    ]
    rest = archive.day_lines("net", "#chan", "2026-01-02", after=2)
    assert [line.seq for line in rest] == [3, 4, 5]
    part = archive.day_lines("net", "#chan", "2026-01-02", after=1, limit=2)
    assert [line.seq for line in part] == [2, 3]
    assert archive.day_lines("net", "#chan", "2026-01-02", after=5) == []
    assert archive.day_lines("net", "#chan", "2026-01-02", limit=0) == []
    assert archive.day_lines("net", "#chan", "2026-01-09") == []


def test_a_line_fed_late_takes_its_place_by_time(filled: Any, archive: PgArchive) -> None:
    add_event(filled, record("2026-01-02T10:00:01.500", "late"), instance="bot2")
    texts = [line.record["text"] for line in archive.day_lines("net", "#chan", "2026-01-02")]
    assert texts[2] == "late" and len(texts) == 6
    # the same millisecond: the id decides
    add_event(filled, record("2026-01-02T10:00:01.500", "later"), instance="bot2")
    texts = [line.record["text"] for line in archive.day_lines("net", "#chan", "2026-01-02")]
    assert texts[2:4] == ["late", "later"]


def test_line(filled: Any, archive: PgArchive) -> None:
    found = archive.line("net", "#CHAN", "2026-01-02", 4)
    assert found is not None and found.seq == 4 and found.record["text"] == "line 3 of 2026-01-02"
    assert found.record["nick"] == "n3"
    assert archive.line("net", "#chan", "2026-01-02", 6) is None
    assert archive.line("net", "#chan", "2026-01-02", 0) is None
    assert archive.line("net", "#chan", "2026-01-09", 1) is None


def test_connect_and_close(filled: Any, pg_dsn: str) -> None:
    with PgArchive.connect(pg_dsn) as archive:
        assert archive.networks() == ["abc", "net"]
    with pytest.raises(ConnectionLost):
        archive.networks()


def test_a_server_that_is_not_there(pg_dsn: str) -> None:
    dsn = "host=127.0.0.1 port=1 user=postgres password=hunter2 dbname=x connect_timeout=2"
    with pytest.raises(StoreUnavailable) as caught:
        PgArchive.connect(dsn)
    assert "hunter2" not in str(caught.value) and "127.0.0.1:1/x" in str(caught.value)


def test_a_lost_connection_is_clear_and_reconnects(filled: Any, pg_dsn: str) -> None:
    with PgArchive.connect(pg_dsn) as archive:
        pid = archive._conn.info.backend_pid
        filled.execute("SELECT pg_terminate_backend(%s)", (pid,))
        with pytest.raises(ConnectionLost) as caught:
            archive.days("net", "#chan")
        assert "unavailable" in str(caught.value)
        assert archive.networks() == ["abc", "net"]  # a new connection


def test_a_connection_not_in_autocommit_is_refused(pg: Any, pg_dsn: str) -> None:
    import psycopg

    with psycopg.connect(pg_dsn) as conn, pytest.raises(ValueError):
        PgArchive(conn)


def test_a_database_not_migrated_is_refused(pg_server: Any) -> None:
    from logbot.archive.postgres.schema import SchemaError

    dsn = pg_server.create_database("not_migrated")
    with pytest.raises(SchemaError):
        PgArchive.connect(dsn)
