"""The archive a config names, opened for reading: :func:`open_archive`.

Why one function: the commands that read the archive (``logbot archive export``, and
any other that should not care which store it is) must find the same one from the same
config: ``archive.store: sqlite`` (the default) is the SQLite index of this machine's
log files (:func:`~logbot.archive.index.open_index`, brought up to date with the log
root first, as ``logbot export-html`` does); ``archive.store: postgres`` is the shared
PostgreSQL archive (:class:`logbot.archive.postgres.reads.PgArchive`), imported only
then (psycopg is an extra).  Either answers the same reads and has ``close()``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Protocol

from logbot.archive.handover.export import ArchiveStore
from logbot.archive.model import Hit, Query
from logbot.config.settings import Config

__all__ = ["OpenArchive", "StoreError", "open_archive"]


class OpenArchive(ArchiveStore, Protocol):
    """An archive opened by :func:`open_archive`: its reads, search, and ``close()``."""

    def search(self, query: Query, context: int = 0) -> list[Hit]: ...

    def close(self) -> None: ...


class StoreError(Exception):
    """The archive cannot be opened (the message says why, never a password)."""


def open_archive(config: Config, index_file: str | os.PathLike[str] | None = None) -> OpenArchive:
    """The archive ``config`` names (see the module docstring); ``index_file``: the
    SQLite index's file instead of the config's (``--index``).

    :raises StoreError: it cannot be opened (or, for the index, updated)."""
    if config.archive.store == "postgres":
        return _postgres(config)
    from logbot.archive.index import index_path, open_index

    path = Path(index_file) if index_file else index_path(config)
    root = Path(config.log.root)
    try:
        index = open_index(path, root)
    except Exception as e:  # sqlite3.Error, OSError
        raise StoreError(f"cannot open the index {path}: {e}") from None
    try:
        index.update(root)
    except Exception as e:
        index.close()
        raise StoreError(f"cannot update the index {path}: {e}") from None
    return index


def _postgres(config: Config) -> OpenArchive:
    dsn = config.archive.dsn
    if dsn is None:
        raise StoreError("archive.store is postgres but archive.dsn is not set")
    try:
        from logbot.archive.postgres.reads import PgArchive, StoreUnavailable
        from logbot.archive.postgres.schema import SchemaError
    except ImportError as e:  # psycopg, the "postgres" extra, is not installed
        raise StoreError(
            f"the PostgreSQL archive needs psycopg (the postgres extra): {e}"
        ) from None
    try:
        return PgArchive.connect(dsn.reveal())
    except (StoreUnavailable, SchemaError) as e:
        raise StoreError(str(e)) from None
