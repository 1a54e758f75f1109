"""``logbot check --connect`` with ``archive.store: postgres``: can the bot's feed reach
its database, and is the schema one it can write?

Why in ``check --connect``: the feed runs in a child of ``logbot run`` and retries a
database it cannot reach every second, which is right for an outage but hides a wrong
DSN or password in a log nobody reads on the first day.  This says it at once, in the
same form as the server checks: the database named without its password, OK or FAILED,
the time it took, and what the schema is.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import click

from logbot.cli.connect_check import step_line
from logbot.config.settings import Config

__all__ = ["check_archive_database"]


def check_archive_database(config: Config, echo: Callable[[str], Any] = click.echo) -> bool:
    """True when ``config`` has no database (the SQLite store) or its database answers
    with a schema this logbot can write (or none yet: the feed makes it)."""
    if config.archive.store != "postgres" or config.archive.dsn is None:
        return True
    from logbot.archive.postgres.connect import Database, DatabaseError, PostgresMissing
    from logbot.archive.postgres.schema import SCHEMA_VERSION, current_version

    database = Database(config.archive.dsn.reveal())
    echo(f"archive: {database.where}")
    started = time.monotonic()
    try:
        conn = database.connect()
    except (DatabaseError, PostgresMissing) as e:
        echo(step_line("connection", False, time.monotonic() - started, str(e)))
        return False
    try:
        version = current_version(conn)
    except Exception as e:
        echo(step_line("schema", False, None, str(database.error(e))))
        return False
    finally:
        conn.close()
    echo(step_line("connection", True, time.monotonic() - started, "PostgreSQL answered"))
    if version == SCHEMA_VERSION:
        detail, ok = f"version {version}", True
    elif version == 0:
        detail, ok = "no tables yet: the feed makes them (or logbot archive migrate)", True
    elif version < SCHEMA_VERSION:
        detail, ok = f"version {version}, older: run logbot archive migrate", False
    else:
        detail, ok = f"version {version}, newer than this logbot's {SCHEMA_VERSION}", False
    echo(step_line("schema", ok, None, detail))
    return ok
