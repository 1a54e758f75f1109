"""The PostgreSQL fixtures: ``pg_server`` (one server per test session and worker) and
``pg_dsn`` (a new empty database per test).

Without the ``postgres`` extra (psycopg) these tests are skipped, saying so: logbot runs
without it, and so does the rest of the suite.  Without the server programs they fail:
``.ci/run`` installs the ``postgresql`` package, and a missing one is a broken machine,
not a reason to test less.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest

from tests.pg.server import PgServer

_numbers = itertools.count(1)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    pytest.importorskip("psycopg", reason="the postgres extra (psycopg) is not installed")
    server = PgServer.start()
    yield server
    server.stop()


@pytest.fixture
def pg_dsn(pg_server: PgServer) -> str:
    """The DSN of a new, empty database (tests never share one)."""
    return pg_server.create_database(f"t{next(_numbers)}")
