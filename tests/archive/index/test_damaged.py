"""A lost, damaged or foreign index is never trusted: moved aside (one warning line)
and rebuilt from the files."""

from __future__ import annotations

import logging
import os
import random
import sqlite3
from pathlib import Path

import pytest

from logbot.archive.index import Index, IndexCorrupt, index_path, open_index
from logbot.archive.index.schema import SCHEMA_VERSION
from logbot.config.loader import parse_config
from tests.archive.index.files import append, day_file, record, texts

WANTED = [(i + 1, f"line {i}") for i in range(5)]


@pytest.fixture
def logs(root: Path) -> Path:
    append(day_file(root), [record(i, text=f"line {i}") for i in range(5)])
    return root


def warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


def test_a_new_index_is_filled_and_an_existing_one_kept(logs: Path, tmp_path: Path) -> None:
    path = tmp_path / "new" / "folder" / "index.sqlite3"
    with open_index(path, logs) as index:
        assert texts(index) == WANTED
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() == (
        str(SCHEMA_VERSION),
    )
    conn.close()
    append(day_file(logs), [record(9, text="later")])
    with open_index(path, logs) as index:
        assert texts(index) == WANTED  # not updated: that is the follower's work
        assert not index.fresh


def _check_rebuilt(path: Path, logs: Path, caplog: pytest.LogCaptureFixture, why: str) -> None:
    with caplog.at_level(logging.WARNING, "logbot.archive.index"), open_index(path, logs) as index:
        assert texts(index) == WANTED
    (warning,) = warnings(caplog)
    assert str(path) in warning and why in warning and "rebuilding" in warning
    assert path.with_name(path.name + ".damaged").exists()


def test_random_bytes_are_moved_aside(
    logs: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "index.sqlite3"
    path.write_bytes(random.Random(1).randbytes(50000))
    _check_rebuilt(path, logs, caplog, "not an SQLite database")


def test_sqlite_garbage_after_a_valid_header_is_moved_aside(
    logs: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "index.sqlite3"
    path.write_bytes(b"SQLite format 3\x00" + random.Random(2).randbytes(50000))
    _check_rebuilt(path, logs, caplog, "unreadable")


def test_another_schema_version_is_rebuilt(
    logs: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "index.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    conn.execute("INSERT INTO meta VALUES ('schema_version', '0')")
    conn.commit()
    conn.close()
    _check_rebuilt(path, logs, caplog, f"schema version 0, this logbot uses {SCHEMA_VERSION}")


def test_someone_elses_database_is_rebuilt(
    logs: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "index.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE notes (x)")
    conn.commit()
    conn.close()
    _check_rebuilt(path, logs, caplog, "no meta table")


def test_damaged_pages_are_found_by_the_check(
    logs: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "index.sqlite3"
    append(day_file(logs, channel="#big"), [record(i, channel="#big") for i in range(2000)])
    with open_index(path, logs):
        pass
    _spoil(path, 3)
    with caplog.at_level(logging.WARNING, "logbot.archive.index"), open_index(path, logs) as index:
        assert texts(index) == WANTED
        assert len(index.day_lines("net", "#big", "2026-01-02")) == 2000
    (warning,) = warnings(caplog)
    assert "cannot be used" in warning


def test_an_index_replaced_under_a_running_process_is_not_trusted(
    logs: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "index.sqlite3"
    with open_index(path, logs) as index:
        garbage = tmp_path / "garbage"
        garbage.write_bytes(random.Random(4).randbytes(10000))
        os.replace(garbage, path)
        with caplog.at_level(logging.WARNING, "logbot.archive.index"):
            assert index.update(logs) == 5  # opened again, moved aside, rebuilt
        assert texts(index) == WANTED
        assert len(warnings(caplog)) == 1


def test_a_deleted_index_is_rebuilt_at_the_next_update(logs: Path, tmp_path: Path) -> None:
    path = tmp_path / "index.sqlite3"
    with open_index(path, logs) as index:
        for name in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            name.unlink(missing_ok=True)
        assert index.update(logs) == 5
        assert path.exists() and texts(index) == WANTED


def _spoil(path: Path, seed: int) -> None:
    """Every page of ``path`` after the first eight overwritten with random bytes."""
    conn = sqlite3.connect(path)  # the WAL into the file first, so that the damage is seen
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    size = path.stat().st_size
    with open(path, "r+b") as f:
        f.seek(8 * 4096)
        f.write(random.Random(seed).randbytes(size - 8 * 4096))


def test_reads_of_an_index_damaged_while_open_raise(logs: Path, tmp_path: Path) -> None:
    path = tmp_path / "index.sqlite3"
    append(day_file(logs, channel="#big"), [record(i, channel="#big") for i in range(2000)])
    with open_index(path, logs):
        pass
    with Index(path) as reader:  # checked and found good
        _spoil(path, 5)
        with pytest.raises(IndexCorrupt, match="damaged"):
            reader.day_lines("net", "#big", "2026-01-02")
    with Index(path, verify=False) as quick:  # a short-lived reader does not check
        assert not quick.fresh
        with pytest.raises(IndexCorrupt):
            quick.day_lines("net", "#big", "2026-01-02")
    with Index(path) as checked:  # a checking one moves it aside
        assert checked.fresh and path.with_name(path.name + ".damaged").exists()


def test_where_the_index_lives(tmp_path: Path) -> None:
    base = "networks:\n  - name: n\n    nick: x\n    servers: [h]\n"
    config = parse_config(base + "plugins:\n  data_dir: /srv/data\n")
    assert index_path(config) == Path("/srv/data/index.sqlite3")
    from dataclasses import replace

    from logbot.config.settings import IndexOptions

    other = replace(config, index=IndexOptions(path=str(tmp_path / "i.db")))
    assert index_path(other) == tmp_path / "i.db"
