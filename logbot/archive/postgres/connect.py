"""Opening the PostgreSQL archive: psycopg when installed, the DSN, what to call it.

Why apart: psycopg is an optional extra (``pip install 'logbot[postgres]'``); logbot
without it runs, and only a config with ``archive.store: postgres`` needs it, so it is
imported here, when a connection is made, and its absence is one clear sentence.  The
DSN may hold a password: messages name the database by :func:`describe` (host, port,
database, user), never by the DSN.
"""

from __future__ import annotations

import socket
from typing import Any

from logbot.config.settings import ArchiveOptions

__all__ = [
    "CONNECT_TIMEOUT",
    "EXTRA",
    "Database",
    "DatabaseError",
    "PostgresMissing",
    "connect",
    "describe",
    "instance_name",
]

#: The pip extra that brings psycopg.
EXTRA = "logbot[postgres]"
#: Seconds to wait for the server when connecting (when the DSN does not say).
CONNECT_TIMEOUT = 10


class PostgresMissing(RuntimeError):
    """psycopg is not installed."""


def _psycopg() -> Any:
    try:
        import psycopg
    except ImportError:
        raise PostgresMissing(
            f"archive.store is postgres, which needs psycopg: pip install '{EXTRA}'"
        ) from None
    return psycopg


def describe(dsn: str) -> str:
    """The database ``dsn`` names, for messages: ``user@host:port/dbname``, no password."""
    try:
        from psycopg.conninfo import conninfo_to_dict

        parts = conninfo_to_dict(dsn)
    except Exception:  # no psycopg, or a DSN it cannot read: say nothing of it
        return "the archive database"
    host = str(parts.get("host") or "localhost")
    port = str(parts.get("port") or "5432")
    where = f"{host}:{port}/{parts.get('dbname') or parts.get('user') or ''}"
    user = parts.get("user")
    return f"{user}@{where}" if user else where


def connect(dsn: str, *, autocommit: bool = False) -> Any:
    """A psycopg connection to ``dsn``, with :data:`CONNECT_TIMEOUT` unless the DSN has
    its own, and the application name ``logbot``."""
    psycopg = _psycopg()
    from psycopg.conninfo import conninfo_to_dict

    extra: dict[str, Any] = {}
    parts = conninfo_to_dict(dsn)
    if "connect_timeout" not in parts:
        extra["connect_timeout"] = CONNECT_TIMEOUT
    if "application_name" not in parts:
        extra["application_name"] = "logbot"
    return psycopg.connect(dsn, autocommit=autocommit, **extra)


def instance_name(options: ArchiveOptions) -> str:
    """This bot's name in a shared database: ``archive.instance``, else the host name."""
    return options.instance or socket.gethostname() or "logbot"


class DatabaseError(Exception):
    """The archive database failed (down, refused, out of space...); the message names
    it by :func:`describe` and never holds the DSN's password."""


class Database:
    """The archive database a DSN names: connections, and errors fit to print."""

    def __init__(self, dsn: str) -> None:
        self._dsn = dsn
        self.where = describe(dsn)

    def __repr__(self) -> str:
        return f"Database({self.where!r})"

    def connect(self, *, autocommit: bool = False) -> Any:
        """A new connection; :class:`DatabaseError` when it cannot be made."""
        try:
            return connect(self._dsn, autocommit=autocommit)
        except PostgresMissing:
            raise
        except Exception as e:
            raise self.error(e) from None

    def error(self, e: BaseException) -> DatabaseError:
        """``e`` as a :class:`DatabaseError`: one line, the password masked."""
        text = " ".join(str(e).split()) or type(e).__name__
        for secret in _secrets(self._dsn):
            text = text.replace(secret, "***")
        return DatabaseError(f"{self.where}: {text}")


def _secrets(dsn: str) -> list[str]:
    """The DSN's password (and the DSN itself), to mask in messages."""
    found = [dsn]
    try:
        from psycopg.conninfo import conninfo_to_dict

        password = conninfo_to_dict(dsn).get("password")
    except Exception:
        password = None
    if password:
        found.append(str(password))
    return sorted(found, key=len, reverse=True)
