"""The PostgreSQL archive's schema: made once, versioned, refused when newer."""

from __future__ import annotations

import pytest

from logbot.archive.postgres.connect import Database
from logbot.archive.postgres.schema import (
    SCHEMA_VERSION,
    SchemaError,
    current_version,
    migrate,
    require_current,
)

pytest.importorskip("psycopg", reason="the postgres extra (psycopg) is not installed")


def test_an_empty_database_is_made_then_left_alone(pg_dsn: str) -> None:
    conn = Database(pg_dsn).connect()
    try:
        with pytest.raises(SchemaError, match="no tables yet"):
            require_current(conn)
        assert migrate(conn) == list(range(1, SCHEMA_VERSION + 1))
        assert migrate(conn) == []
        assert current_version(conn) == SCHEMA_VERSION
        conn.rollback()
        require_current(conn)
        # the words: accents removed, split at punctuation as SQLite splits
        row = conn.execute(
            "SELECT to_tsvector('logbot_words', translate('Café at example.com', '.', ' '))"
        ).fetchone()
        assert row[0] == "'at':2 'cafe':1 'com':4 'example':3"
    finally:
        conn.close()


def test_a_newer_database_is_refused(pg_dsn: str) -> None:
    conn = Database(pg_dsn).connect()
    try:
        migrate(conn)
        with conn.transaction():
            conn.execute("INSERT INTO logbot_schema (version) VALUES (%s)", (SCHEMA_VERSION + 1,))
        with pytest.raises(SchemaError, match="newer than this logbot's"):
            require_current(conn)
        with pytest.raises(SchemaError, match="upgrade logbot"):
            migrate(conn)
    finally:
        conn.close()
