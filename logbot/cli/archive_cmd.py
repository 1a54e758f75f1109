"""``logbot archive``: the PostgreSQL archive: ``migrate``, ``feed``, ``status``, ``export``.

Why a group of its own: these act on the shared database (``archive.store:
postgres``), not on this machine's files; ``logbot index`` stays the SQLite index's.
``feed --follow`` is what ``logbot run`` starts as a child when the store is
PostgreSQL (as it starts ``logbot index --follow`` for SQLite): the bot never talks to
the database itself, so a database that is slow or down can never hold a line up.

Exit statuses: 0 done (``feed --follow``: stopped by SIGTERM/SIGINT), 2 a bad config
(or a store that is not ``postgres``), 1 the database cannot be reached or migrated, or
psycopg is not installed (one line on stderr, the DSN's password never in it).
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from logbot.cli.options import config_option, load_or_exit
from logbot.cli.parent_watch import die_with_parent

if TYPE_CHECKING:
    from logbot.archive.postgres.connect import Database
    from logbot.config.settings import Config

__all__ = ["FEED_NICENESS", "archive_group"]

#: How much ``feed --follow`` lowers its priority when run by hand (``os.nice``); under
#: ``logbot run`` it runs as ``SCHED_IDLE`` besides.
FEED_NICENESS = 10

log = logging.getLogger("logbot.archive.postgres")


@click.group("archive")
def archive_group() -> None:
    """The archive's database (archive.store: postgres): its schema, the feed, its state;
    and export, from either store."""


def _fail(message: str) -> NoReturn:
    click.echo(f"logbot: {message}", err=True)
    sys.exit(1)


def _database(config: Config) -> Database:
    from logbot.archive.postgres.connect import Database

    options = config.archive
    if options.store != "postgres" or options.dsn is None:
        click.echo(
            "logbot: archive.store is not postgres in the config: no archive database",
            err=True,
        )
        sys.exit(2)
    return Database(options.dsn.reveal())


def _open(config: Config) -> tuple[Database, Any]:
    from logbot.archive.postgres.connect import DatabaseError, PostgresMissing

    database = _database(config)
    try:
        return database, database.connect()
    except (DatabaseError, PostgresMissing) as e:
        _fail(str(e))


@archive_group.command("migrate")
@config_option
def migrate_command(config_path: str) -> None:
    """Create the archive's tables, or bring them to this logbot's schema version.

    Safe to run at any time, by several bots at once (one migrates, the others wait
    and find nothing to do)."""
    from logbot.archive.postgres.schema import SCHEMA_VERSION, SchemaError, migrate

    config = load_or_exit(config_path)
    database, conn = _open(config)
    try:
        applied = migrate(conn)
    except SchemaError as e:
        _fail(str(e))
    except Exception as e:
        _fail(str(database.error(e)))
    finally:
        conn.close()
    if applied:
        done = ", ".join(str(v) for v in applied)
        click.echo(f"{database.where}: migrated to schema version {SCHEMA_VERSION} ({done})")
    else:
        click.echo(f"{database.where}: schema version {SCHEMA_VERSION}, nothing to do")


def state_paths(config: Config) -> tuple[Path, Path]:
    """The feed's local state file and status file (under ``plugins.data_dir``)."""
    from logbot.archive.postgres.feeder import STATE_NAME, STATUS_NAME

    data = Path(config.plugins.data_dir)
    return data / STATE_NAME, data / STATUS_NAME


def _ready(database: Database) -> None:
    """The schema is current: made on an empty database, else checked (an older one
    is left for ``logbot archive migrate``: a shared database changes on purpose)."""
    from logbot.archive.postgres.schema import current_version, migrate, require_current

    conn = database.connect()
    try:
        if current_version(conn) == 0:
            conn.rollback()
            migrate(conn)
        else:
            require_current(conn)
    finally:
        conn.close()


@archive_group.command("feed")
@config_option
@click.option(
    "--follow",
    is_flag=True,
    help="Then keep following the log files (until SIGTERM or SIGINT).",
)
def feed_command(config_path: str, follow: bool) -> None:
    """Send the jsonl logs under logging.root to the archive database.

    Lines already sent (by this bot) are skipped, events another bot sent are matched,
    not stored twice.  On an empty database the tables are made first.  With --follow
    a database that is down is retried every archive.interval seconds."""
    from logbot.archive.postgres.connect import DatabaseError, PostgresMissing, instance_name
    from logbot.archive.postgres.feeder import PgFeed
    from logbot.archive.postgres.schema import SchemaError

    config = load_or_exit(config_path)
    database = _database(config)
    options = config.archive
    state, status = state_paths(config)
    root = Path(config.log.root)
    if follow:
        os.nice(FEED_NICENESS)
        die_with_parent()
    try:
        _ready(database)
    except (DatabaseError, PostgresMissing, SchemaError) as e:
        if not follow or isinstance(e, PostgresMissing | SchemaError):
            _fail(str(e))
        log.warning("archive: %s (retrying every %g s)", e, options.interval)
    try:
        feed = PgFeed(
            state,
            database,
            instance_name(options),
            int(options.dedupe_window * 1000),
            status_path=status,
        )
    except OSError as e:
        _fail(f"cannot write the feed state at {state}: {e.strerror or e}")
    try:
        if follow:
            _follow(feed, root, options.interval, options.batch_lines)
        else:
            try:
                feed.update(root)
            except DatabaseError as e:
                _fail(str(e))
            c = feed.sink.counts
            click.echo(
                f"{database.where}: {c.new} new events, {c.matched} lines matched to"
                f" events already stored, {c.known} lines sent before",
                err=True,
            )
    finally:
        feed.close()


def _follow(feed: Any, root: Path, interval: float, batch_lines: int) -> None:
    from logbot.archive.index import Follower
    from logbot.reactor.loop import Reactor

    reactor = Reactor()
    follower = Follower(
        reactor, feed, root, interval, batch_lines, label="archive feed", done="fed"
    )
    reactor.callWhenRunning(follower.start)
    log.info("archive: feeding %s into %s", root, feed.sink.database.where)
    reactor.run()
    follower.stop()
    c = feed.sink.counts
    log.info(
        "archive: stopped (%d new events, %d matched, %d sent before, %d bad lines)",
        c.new,
        c.matched,
        c.known,
        follower.bad_lines,
    )


@archive_group.command("status")
@config_option
def status_command(config_path: str) -> None:
    """What the archive database holds, and how far this bot's feed is."""
    from logbot.archive.postgres.feeder import read_status
    from logbot.archive.postgres.schema import current_version

    config = load_or_exit(config_path)
    database, conn = _open(config)
    try:
        version = current_version(conn)
        click.echo(f"{database.where}: schema version {version}")
        if version:
            events = conn.execute("SELECT count(*) FROM events").fetchone()[0]
            click.echo(f"events: {events}")
            for name, first, last, lines in conn.execute(
                "SELECT instance, first_ms, last_ms, lines FROM instances ORDER BY instance"
            ):
                click.echo(f"instance {name}: {lines} lines fed, times {first}..{last} ms")
    except Exception as e:
        _fail(str(database.error(e)))
    finally:
        conn.close()
    status = read_status(state_paths(config)[1])
    if status is not None:
        up = "up" if status.get("database_up") else f"down ({status.get('error')})"
        click.echo(f"this bot's feed: database {up}, backlog {status.get('backlog_bytes')} bytes")


def _add_export() -> None:
    from logbot.cli.archive_export import export_command

    archive_group.add_command(export_command)


_add_export()
