"""``logbot archive migrate|feed|status`` as a user runs them: processes, a real
PostgreSQL, a config file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.archive.pgfeed.lines import record, write_day
from tests.ircd.servers import free_ports

REPO = Path(__file__).resolve().parents[2]

pytest.importorskip("psycopg", reason="the postgres extra (psycopg) is not installed")


def run(
    tmp_path: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "logbot", *args, "-c", str(tmp_path / "config.yaml")],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(REPO), **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


def config(tmp_path: Path, archive: dict[str, object]) -> None:
    data = {
        "logging": {"root": str(tmp_path / "logs")},
        "plugins": {"data_dir": str(tmp_path / "data")},
        "networks": [
            {"name": "net", "servers": ["127.0.0.1:6667"], "nick": "b", "channels": ["#chan"]}
        ],
        "archive": archive,
    }
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(data))


def test_migrate_feed_status(pg_dsn: str, tmp_path: Path) -> None:
    config(tmp_path, {"store": "postgres", "dsn": "${PGDSN}", "instance": "bot-a"})
    env = {"PGDSN": pg_dsn}
    first = run(tmp_path, "archive", "migrate", env=env)
    assert first.returncode == 0, first.stderr
    assert "migrated to schema version 1 (1)" in first.stdout
    again = run(tmp_path, "archive", "migrate", env=env)
    assert again.returncode == 0 and "nothing to do" in again.stdout
    write_day(tmp_path / "logs", [record(i, f"line {i}") for i in range(40)])
    fed = run(tmp_path, "archive", "feed", env=env)
    assert fed.returncode == 0, fed.stderr
    assert "40 new events, 0 lines matched to events already stored, 0 lines sent before" in (
        fed.stderr
    )
    status = run(tmp_path, "archive", "status", env=env)
    assert status.returncode == 0, status.stderr
    assert "events: 40" in status.stdout and "instance bot-a: 40 lines fed" in status.stdout
    assert "this bot's feed: database up, backlog 0 bytes" in status.stdout


def test_feed_makes_the_tables_of_an_empty_database(pg_dsn: str, tmp_path: Path) -> None:
    config(tmp_path, {"store": "postgres", "dsn": pg_dsn})
    write_day(tmp_path / "logs", [record(0, "first")])
    fed = run(tmp_path, "archive", "feed")
    assert fed.returncode == 0, fed.stderr
    assert "1 new events" in fed.stderr


def test_a_database_that_is_not_there_is_one_line_without_the_password(tmp_path: Path) -> None:
    (port,) = free_ports(1)
    dsn = f"host=127.0.0.1 port={port} user=logbot password=sekrit-pw dbname=logs"
    config(tmp_path, {"store": "postgres", "dsn": dsn})
    for command in ("migrate", "feed", "status"):
        result = run(tmp_path, "archive", command)
        assert result.returncode == 1, result
        assert "sekrit" not in result.stderr + result.stdout
        assert "Traceback" not in result.stderr
        assert f"logbot@127.0.0.1:{port}/logs" in result.stderr
        assert len(result.stderr.strip().splitlines()) <= 2, result.stderr


def test_an_sqlite_store_has_no_archive_database(tmp_path: Path) -> None:
    config(tmp_path, {"store": "sqlite"})
    result = run(tmp_path, "archive", "migrate")
    assert result.returncode == 2
    assert "archive.store is not postgres" in result.stderr


def test_check_connect_tries_the_archive_database(
    pg_dsn: str, ngircd: object, tmp_path: Path
) -> None:
    config(tmp_path, {"store": "postgres", "dsn": pg_dsn})
    data = yaml.safe_load((tmp_path / "config.yaml").read_text())
    data["networks"][0]["servers"] = [f"127.0.0.1:{ngircd.port}"]  # type: ignore[attr-defined]
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(data))
    good = run(tmp_path, "check", "--connect")
    assert good.returncode == 0, good.stdout + good.stderr
    assert "archive: postgres@127.0.0.1:" in good.stdout
    assert "schema       OK" in good.stdout and "no tables yet" in good.stdout
    (port,) = free_ports(1)
    data["archive"]["dsn"] = f"host=127.0.0.1 port={port} user=u password=pw-sekrit dbname=d"
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(data))
    bad = run(tmp_path, "check", "--connect")
    assert bad.returncode == 1
    assert "connection   FAILED" in bad.stdout and "pw-sekrit" not in bad.stdout + bad.stderr


def test_search_reads_the_database_and_the_files_when_it_is_down(
    pg_dsn: str, tmp_path: Path
) -> None:
    config(tmp_path, {"store": "postgres", "dsn": pg_dsn})
    write_day(tmp_path / "logs", [record(i, f"needle {i}") for i in range(3)])
    assert run(tmp_path, "archive", "feed").returncode == 0
    found = run(tmp_path, "search", "--json", "needle", "1")
    assert found.returncode == 0, found.stderr
    assert [json.loads(x)["text"] for x in found.stdout.splitlines()] == ["needle 1"]
    assert found.stderr == ""  # from the database: nothing to say
    (port,) = free_ports(1)
    config(tmp_path, {"store": "postgres", "dsn": f"host=127.0.0.1 port={port} password=pw-x"})
    scanned = run(tmp_path, "search", "--json", "needle", "1")
    assert scanned.returncode == 0, scanned.stderr
    assert [json.loads(x)["text"] for x in scanned.stdout.splitlines()] == ["needle 1"]
    assert "scanning the files" in scanned.stderr and "pw-x" not in scanned.stderr
