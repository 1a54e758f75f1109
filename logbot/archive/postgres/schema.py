"""The PostgreSQL archive's tables, their version, and the migrations between versions.

Why versioned migrations here and not "rebuild when in doubt" as for the SQLite index:
the SQLite index is a cache of one machine's files, but a PostgreSQL archive is the
team's record, fed by several bots whose files may be long gone; it is changed in
place, step by step, never dropped.  Each step of :data:`MIGRATIONS` runs in its own
transaction under an advisory lock (two bots starting at once migrate once), and the
version reached is kept in ``logbot_schema``.  A database of a *newer* version than
this logbot knows is refused (an older bot must not write into a layout it does not
understand); upgrade every bot first.

The tables (version 1):

- ``events``: one row per event, whichever bots saw it.  ``channel`` is the channel's
  key (RFC 1459 folding, as in the SQLite index), ``name`` its spelling, ``day`` the
  date of ``time`` as written, ``record`` the jsonl line of the first bot that stored
  it.  ``match_key`` is a 64-bit hash of what two bots agree on (network, channel key,
  type, folded nick, text, target): the key of the deduplication within the time window
  (:mod:`.matching`).  ``msgid`` is the server's; (network, msgid) is unique.
  ``marker`` is true for a bot's own lines (connect, disconnect, gap, recovered,
  opted_out), which are never merged; ``gap_from_ms`` is a gap's start.  ``words`` is
  the text's ``tsvector`` (the ``logbot_words`` configuration: the ``simple``
  dictionary, accents removed by ``unaccent`` where the extension can be created).
- ``sightings``: (instance, line hash) -> event: which bot fed which of its jsonl lines
  as which event.  It makes feeding idempotent (a line fed again after a crash, a
  rebuilt feed state or a rotation is recognised by its hash and skipped) and says
  which events a bot has already matched (one of its lines matches at most one event).
- ``instances``: each bot's first and last line time, and ``alive_ms``, when its feed
  last looked at its files (the feed dies with its bot: :mod:`logbot.cli.parent_watch`);
  the later of the two bounds its presence when its last marker says it is still there.
- ``days`` and ``channels``: line counts per day and the latest spelling per channel,
  kept up to date by the feed, so that a calendar is not a count over every row.
"""

from __future__ import annotations

import logging
from typing import Any

__all__ = [
    "LOCK_MIGRATE",
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "SchemaError",
    "current_version",
    "migrate",
    "require_current",
]

log = logging.getLogger("logbot.archive.postgres")

#: The advisory lock key of migrations (any 64-bit number no other program uses).
LOCK_MIGRATE = 0x6C6F67626F740001

_UNACCENT = (
    "CREATE EXTENSION IF NOT EXISTS unaccent",
    "CREATE TEXT SEARCH CONFIGURATION logbot_words (COPY = simple)",
    "ALTER TEXT SEARCH CONFIGURATION logbot_words"
    " ALTER MAPPING FOR asciiword, asciihword, hword_asciipart, word, hword, hword_part"
    " WITH unaccent, simple",
)
_PLAIN = ("CREATE TEXT SEARCH CONFIGURATION logbot_words (COPY = simple)",)

#: ASCII punctuation, which the stored words are split at before PostgreSQL's parser
#: sees the text: SQLite's unicode61 tokenizer splits there, but PostgreSQL's keeps a
#: host name (``example.com``), a path or an e-mail address as one word, so ``com``
#: would not find ``example.com``.  Split alike, both indexes find the same lines.
ASCII_PUNCTUATION = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
_WORDS_TEXT = "translate(coalesce(text, ''), {}, {})".format(
    "'" + ASCII_PUNCTUATION.replace("'", "''") + "'", "'" + " " * len(ASCII_PUNCTUATION) + "'"
)

_V1 = (
    f"""CREATE TABLE events (
        id bigint PRIMARY KEY,
        network text NOT NULL,
        channel text NOT NULL,
        name text NOT NULL,
        day text NOT NULL,
        time_ms bigint NOT NULL,
        type text NOT NULL,
        nick text,
        nick_key text,
        text text,
        msgid text,
        match_key bigint NOT NULL,
        instance text NOT NULL,
        marker boolean NOT NULL,
        gap_from_ms bigint,
        record text NOT NULL,
        words tsvector GENERATED ALWAYS AS
            (to_tsvector('logbot_words'::regconfig, {_WORDS_TEXT})) STORED
    )""",
    "CREATE SEQUENCE events_id_seq OWNED BY events.id",
    "CREATE UNIQUE INDEX events_msgid ON events (network, msgid) WHERE msgid IS NOT NULL",
    "CREATE INDEX events_match ON events (match_key, time_ms)",
    "CREATE INDEX events_day ON events (network, channel, day, time_ms, id)",
    "CREATE INDEX events_time ON events (time_ms, id)",
    "CREATE INDEX events_nick ON events (nick_key, time_ms)",
    "CREATE INDEX events_markers ON events (network, channel, time_ms) WHERE marker",
    "CREATE INDEX events_words ON events USING gin (words)",
    """CREATE TABLE sightings (
        instance text NOT NULL,
        line_hash bytea NOT NULL,
        event_id bigint NOT NULL REFERENCES events (id) ON DELETE CASCADE,
        PRIMARY KEY (instance, line_hash)
    )""",
    "CREATE INDEX sightings_event ON sightings (event_id, instance)",
    """CREATE TABLE instances (
        instance text PRIMARY KEY,
        first_ms bigint NOT NULL,
        last_ms bigint NOT NULL,
        lines bigint NOT NULL,
        alive_ms bigint
    )""",
    """CREATE TABLE days (
        network text NOT NULL,
        channel text NOT NULL,
        day text NOT NULL,
        count bigint NOT NULL,
        PRIMARY KEY (network, channel, day)
    )""",
    """CREATE TABLE channels (
        network text NOT NULL,
        channel text NOT NULL,
        name text NOT NULL,
        last_ms bigint NOT NULL,
        PRIMARY KEY (network, channel)
    )""",
)

#: The steps, in order: ``MIGRATIONS[n - 1]`` takes a database from version ``n - 1``
#: to ``n``.  A step is a list of SQL statements; never edit a released one, add one.
MIGRATIONS: tuple[tuple[str, ...], ...] = (_V1,)

#: The version this logbot reads and writes.
SCHEMA_VERSION = len(MIGRATIONS)


class SchemaError(Exception):
    """The database is not at this logbot's version (the message says what to do)."""


def current_version(conn: Any) -> int:
    """The database's schema version; 0 for a database logbot never migrated."""
    found = conn.execute("SELECT to_regclass('logbot_schema') IS NOT NULL").fetchone()[0]
    if not found:
        return 0
    row = conn.execute("SELECT max(version) FROM logbot_schema").fetchone()
    return int(row[0] or 0)


def require_current(conn: Any) -> None:
    """Raise :class:`SchemaError` unless the database is at :data:`SCHEMA_VERSION`."""
    version = current_version(conn)
    conn.rollback()
    if version == SCHEMA_VERSION:
        return
    if version > SCHEMA_VERSION:
        raise SchemaError(
            f"the archive database is at schema version {version}, newer than this logbot's"
            f" {SCHEMA_VERSION}: upgrade logbot"
        )
    if version == 0:
        raise SchemaError(
            "the archive database has no tables yet: a bot's feed makes them at its first"
            " look, or run 'logbot archive migrate'"
        )
    raise SchemaError(
        f"the archive database is at schema version {version}, this logbot needs"
        f" {SCHEMA_VERSION}: run 'logbot archive migrate'"
    )


def _words_config(conn: Any) -> None:
    """``logbot_words``, with ``unaccent`` when the extension can be created (it needs
    the contrib files, and a role allowed to create a trusted extension)."""
    try:
        with conn.transaction():
            for statement in _UNACCENT:
                conn.execute(statement)
    except Exception as e:  # psycopg.Error, not importable here without the extra
        log.warning("archive: no unaccent extension (%s): searches are accent-sensitive", e)
        for statement in _PLAIN:
            conn.execute(statement)


def migrate(conn: Any) -> list[int]:
    """Bring the database to :data:`SCHEMA_VERSION`; the versions applied (none when
    it was current).  ``conn`` is a psycopg connection, not in autocommit mode."""
    applied: list[int] = []
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_MIGRATE,))
        conn.execute(
            "CREATE TABLE IF NOT EXISTS logbot_schema (version integer PRIMARY KEY,"
            " migrated_at timestamptz NOT NULL DEFAULT now())"
        )
        version = current_version(conn)
        if version > SCHEMA_VERSION:
            raise SchemaError(
                f"the archive database is at schema version {version}, newer than this"
                f" logbot's {SCHEMA_VERSION}: upgrade logbot"
            )
        for number in range(version + 1, SCHEMA_VERSION + 1):
            if number == 1:
                _words_config(conn)
            for statement in MIGRATIONS[number - 1]:
                conn.execute(statement)
            conn.execute("INSERT INTO logbot_schema (version) VALUES (%s)", (number,))
            applied.append(number)
            log.info("archive: database migrated to schema version %d", number)
    return applied
