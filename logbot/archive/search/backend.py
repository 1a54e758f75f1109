"""Where a search's answers come from: the index when there is one, else the files.

Why a module of its own: ``logbot search`` and ``!grep`` (and the bot, which tells
``!grep`` where the index is) make the same choice: the index
(:mod:`logbot.archive.index`) when its file exists, else the files.  The index is
imported when it is used, so that a search or a bot that never uses it never loads
SQLite.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

from logbot.archive.model import Hit, Query
from logbot.config.settings import Config

__all__ = [
    "Found",
    "IndexNotReady",
    "NoIndex",
    "find",
    "first_from_index",
    "index_file",
    "index_words",
    "open_without_filling",
]

#: Opens an index: (its file, the log root) -> an object with ``search(query,
#: context)``, ``count(query)`` and ``close()`` (``logbot.archive.index.open_index``).
Opener = Callable[[Path, Path], Any]
T = TypeVar("T")

log = logging.getLogger("logbot.archive.search")


def index_file(config: Config) -> Path:
    """Where the index of ``config`` lives (``index.path``, else
    ``<plugins.data_dir>/index.sqlite3``)."""
    from logbot.archive.index import index_path

    return index_path(config)


def index_words(words: Sequence[str]) -> str | None:
    """A query's ``words`` from words typed on IRC, each meant literally and as one
    term: quoted (``"don't"``, a phrase of its words) so that nothing typed is read as
    query syntax, or, ending in ``*``, a bare prefix with no quote in it (``foo*``).
    None when no word holds a letter or digit."""
    terms = []
    for word in words:
        if not any(c.isalnum() for c in word):
            continue
        if word.endswith("*"):
            terms.append(word.replace('"', "-"))
        else:
            terms.append('"' + word.replace('"', " ") + '"')
    return " ".join(terms) or None


def _open_for_search(path: Path, root: Path) -> Any:
    """The index at ``path`` for one search: as it is, without SQLite's whole-file
    ``quick_check`` (a second per GB, at every search: the follower and ``logbot
    index`` check it); a new or damaged one is filled from the files first."""
    from logbot.archive.index import Index, open_index

    index = Index(path, verify=False)
    if not index.fresh:
        return index
    index.close()
    return open_index(path, root)


class IndexNotReady(Exception):
    """The index file is new or was damaged (and moved aside): it holds nothing yet."""


def open_without_filling(path: Path, root: Path) -> Any:
    """The index at ``path`` as it is, for reading on the bot's reactor.

    :func:`logbot.archive.index.open_index` fills a new or damaged index from every log
    file before it returns, which there would stop the bot (no PING answered, nothing
    logged) for as long as that takes: the index's own follower process does it.

    :raises IndexNotReady: the index is empty (new, or moved aside as damaged).
    """
    from logbot.archive.index import Index

    # verify=False: SQLite's quick_check reads the whole file (about a second per GB),
    # which here would stall the bot at every !grep; the follower process checks it at
    # its start, and damage met later still raises (the files are read instead).
    index = Index(path, verify=False)
    if index.fresh:
        index.close()
        raise IndexNotReady(f"{path} is new or was rebuilt: not filled yet")
    return index


class NoIndex(Exception):
    """The index file asked for by name is not there."""


@dataclass
class Found:
    """A search's answer: its hits (newest first), where they came from (``index`` or
    ``files``), what to tell the user on stderr before them (one line each: why the
    files were scanned) and after them (what the scan could not read)."""

    hits: list[Hit]
    source: str
    notes: list[str] = field(default_factory=list)
    unread: str | None = None


def find(
    config: Config,
    query: Query,
    *,
    context: int = 0,
    use_index: bool = True,
    index: Path | None = None,
    opener: Opener | None = None,
    progress: Callable[[int, int, int, int], None] | None = None,
) -> Found:
    """The hits of ``query``: from the index when its file exists (``index``, else the
    config's) and ``use_index``, else by scanning the files (``progress`` is told how
    far).  An index that fails is left for the scan, with a note saying why.

    :raises NoIndex: when ``index`` is given and is not there.
    :raises ValueError: for a query that does not compile.
    """
    from logbot.archive.search.scan import scan

    notes: list[str] = []
    root = Path(config.log.root)
    if use_index and index is None and opener is None and config.archive.store == "postgres":
        found = _from_database(config, query, context, notes)
        if found is not None:
            return found
    if use_index:
        path = index if index is not None else index_file(config)
        if not path.exists():
            if index is not None:
                raise NoIndex(f"no index at {path}")
            notes.append(f"no index at {path}: scanning the files (logbot index builds one)")
        else:
            if opener is None:
                opener = _open_for_search
            try:
                opened = opener(path, root)
                try:
                    hits = list(opened.search(query, context))
                finally:
                    opened.close()
                return Found(hits, "index", notes)
            except Exception as e:  # sqlite3.Error, OSError...: the files are still there
                notes.append(f"the index at {path} failed ({e}): scanning the files")
    hits, report = scan(config, query, root=root, context=context, progress=progress)
    return Found(hits, "files", notes, report.summary())


def _from_database(config: Config, query: Query, context: int, notes: list[str]) -> Found | None:
    """The hits from the shared PostgreSQL archive (every bot's lines, each once); None
    with a note when it cannot answer (the files, this bot's own, are scanned then)."""
    from logbot.archive.stores import StoreError, open_archive

    try:
        archive = open_archive(config)
    except StoreError as e:
        notes.append(f"{e}: scanning the files")
        return None
    try:
        return Found(list(archive.search(query, context)), "database", notes)
    except ValueError:  # a bad query (SearchError): the same from the files
        raise
    except Exception as e:  # the database went away
        notes.append(f"the archive database failed ({e}): scanning the files")
        return None
    finally:
        archive.close()


def first_from_index(
    opener: Opener | None,
    path: Path,
    root: Path,
    query: Query,
    keep: Callable[[Any], T | None],
    want: int,
    pages: int,
) -> list[T] | None:
    """The first ``want`` hits of ``query`` (newest first) that ``keep`` turns into
    something (it is given each :class:`Hit`; None leaves a hit out), asking the index
    for up to ``pages`` pages of ``query.limit`` hits.  None when there is no
    index file at ``path``, no index in this install (and no ``opener``), or the index
    fails: the caller then reads the files.  For ``!grep``, on the bot's reactor: a few
    bounded SQLite queries, never a scan.
    """
    if not path.exists():
        return None
    if opener is None:
        opener = open_without_filling
    page = query.limit
    found: list[T] = []
    try:
        index = opener(path, root)
        try:
            for number in range(pages):
                hits = index.search(replace(query, offset=query.offset + number * page))
                for hit in hits:
                    kept = keep(hit)
                    if kept is not None:
                        found.append(kept)
                        if len(found) >= want:
                            return found
                if len(hits) < page:
                    break
        finally:
            index.close()
    except IndexNotReady as e:
        log.debug("%s; reading the files", e)
        return None
    except Exception as e:  # sqlite3.Error, OSError...: the files are still there
        log.warning("the index %s failed (%s); reading the files", path, e)
        return None
    return found
