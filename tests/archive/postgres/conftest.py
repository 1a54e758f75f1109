"""Fixtures of the PostgreSQL archive's read tests: a migrated database per test, its
connection (autocommit) and a :class:`PgArchive` on it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

psycopg = pytest.importorskip("psycopg", reason="the postgres extra (psycopg) is not installed")

from logbot.archive.postgres.reads import PgArchive  # noqa: E402
from logbot.archive.postgres.schema import migrate  # noqa: E402


@pytest.fixture
def pg(pg_dsn: str) -> Iterator[Any]:
    conn = psycopg.connect(pg_dsn)
    migrate(conn)
    conn.autocommit = True
    yield conn
    conn.close()


@pytest.fixture
def archive(pg: Any) -> Iterator[PgArchive]:
    with PgArchive(pg) as archive:
        yield archive
