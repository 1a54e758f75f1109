"""The ``index`` and ``web`` sections: the archive's search index and its web view.

``index`` (all optional): ``enabled`` (true, false, or null: on when there is a ``web``
section; the default), ``path`` (the SQLite file; null: ``<plugins.data_dir>/
index.sqlite3``), ``interval`` (seconds between looks at the log files, > 0; 1) and
``batch_lines`` (lines indexed per transaction, >= 1; 5000).

``archive`` (all optional): ``store`` (``sqlite``, the default: the ``index`` above on this
machine; or ``postgres``: a PostgreSQL database, which needs ``dsn`` or ``dsn_file``),
``instance`` (this bot's name in a shared database, 1..64 printable characters; null:
the host name), ``dedupe_window`` (seconds within which two bots' lines without a
``msgid`` may be one event, 0..60; 3), ``interval`` (> 0; 1) and ``batch_lines`` (>= 1;
5000) for the feed into the database.

``web`` (absent or null: no web view): ``port`` (1..65535; 8080), ``host`` (127.0.0.1),
``title`` (the pages' title; "IRC logs"), ``publish`` (network name -> ``"*"`` for every
channel of it, or a list of channel names), ``user`` with ``password`` /
``password_file`` (HTTP basic auth: both or neither), ``token`` / ``token_file``
(``Authorization: Bearer``), ``follow_interval`` (seconds between a live page's looks
for new lines, > 0; 5) and ``max_results`` (search results per page, 1..1000; 100).

Why ``publish`` is strict: the web view shows whatever it is allowed to, to whoever
reaches it, so nothing is published by default, a network the config does not have is
an error (a typo must not silently publish nothing, or the wrong thing), and a list
names channels only (a nick there would publish a private log: refused, as is a
channel named twice).  This module may import only ``logbot.irc``, so channel names
are folded here with :func:`logbot.irc.casemap.casefold` (RFC 1459), as
``logbot.archive.model.channel_key`` does.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import types
from collections.abc import Collection
from typing import Any

from logbot.config.health_section import check_host
from logbot.config.reader import INVALID, Reader, item, join
from logbot.config.settings import ArchiveOptions, IndexOptions, WebOptions
from logbot.config.values import (
    Section,
    checked,
    to_bool,
    to_choice,
    to_int,
    to_number,
    to_str,
)
from logbot.irc.casemap import casefold

__all__ = [
    "ARCHIVE_KEYS",
    "INDEX_KEYS",
    "MAX_DEDUPE_WINDOW",
    "MAX_INSTANCE",
    "MAX_RESULTS",
    "MAX_TITLE",
    "WEB_KEYS",
    "have_psycopg",
    "read_archive",
    "read_index",
    "read_web",
]

INDEX_KEYS = tuple(f.name for f in dataclasses.fields(IndexOptions))
ARCHIVE_KEYS = ("store", "dsn", "dsn_file", "instance", "dedupe_window", "interval", "batch_lines")
#: The archive's stores (``archive.store``).
STORES = ("sqlite", "postgres")
#: The widest ``dedupe_window`` (seconds): wider would merge a nick's repeated lines.
MAX_DEDUPE_WINDOW = 60.0
#: The longest ``instance`` name (characters).
MAX_INSTANCE = 64
WEB_KEYS = (
    "port",
    "host",
    "title",
    "publish",
    "user",
    "password",
    "password_file",
    "token",
    "token_file",
    "follow_interval",
    "max_results",
)
#: The most search results a page may show (``max_results``' upper bound): a page of
#: results is built in memory and sent whole.
MAX_RESULTS = 1000
#: The longest ``title`` (characters): it heads every page, a phone's included.
MAX_TITLE = 100
#: What starts a channel's name (RFC 2811); anything else is a nick: a private log.
CHANNEL_PREFIXES = "#&+!"


def read_index(reader: Reader, path: str, value: Any) -> IndexOptions:
    """Read the ``index`` section at ``path``; absent or null: the defaults."""
    defaults = IndexOptions()
    section = Section.open(reader, path, value, INDEX_KEYS)
    if section is None:
        return defaults
    return IndexOptions(
        enabled=section.get("enabled", to_bool, defaults.enabled, nullable=True),
        path=section.get("path", checked(_check_path), defaults.path, nullable=True),
        interval=section.get("interval", to_number(gt=0), defaults.interval),
        batch_lines=section.get("batch_lines", to_int(1), defaults.batch_lines),
    )


def read_archive(reader: Reader, path: str, value: Any) -> ArchiveOptions:
    """Read the ``archive`` section at ``path``; absent or null: the defaults."""
    defaults = ArchiveOptions()
    section = Section.open(reader, path, value, ARCHIVE_KEYS)
    if section is None:
        return defaults
    store = section.get("store", to_choice(STORES), defaults.store)
    if store == "postgres" and not have_psycopg():
        reader.problem(
            section.at("store"),
            "postgres needs psycopg, which is not installed: pip install 'logbot[postgres]'",
        )
    dsn = section.secret("dsn")
    if store == "postgres" and dsn is None:
        reader.problem(section.at("store"), "postgres needs dsn or dsn_file")
    elif store != "postgres" and dsn is not None and dsn is not INVALID:
        key = "dsn_file" if section.has("dsn_file") else "dsn"
        reader.problem(section.at(key), "is only for store: postgres")
    window = section.get("dedupe_window", to_number(ge=0), defaults.dedupe_window)
    if isinstance(window, float | int) and window > MAX_DEDUPE_WINDOW:
        reader.problem(section.at("dedupe_window"), f"must be at most {MAX_DEDUPE_WINDOW:g}")
    return ArchiveOptions(
        store=store,
        dsn=None if dsn is INVALID else dsn,
        instance=section.get("instance", checked(_check_instance), None, nullable=True),
        dedupe_window=window,
        interval=section.get("interval", to_number(gt=0), defaults.interval),
        batch_lines=section.get("batch_lines", to_int(1), defaults.batch_lines),
    )


def have_psycopg() -> bool:
    """Whether psycopg (the ``postgres`` extra) can be imported, without importing it."""
    try:
        return importlib.util.find_spec("psycopg") is not None
    except (ImportError, ValueError):
        return False


def _check_instance(value: str) -> str | None:
    if not value:
        return "must not be empty (null for the host name)"
    if len(value) > MAX_INSTANCE:
        return f"must be at most {MAX_INSTANCE} characters"
    return None if value.isprintable() else "must be printable characters"


def read_web(reader: Reader, path: str, value: Any, networks: Collection[str]) -> WebOptions | None:
    """Read the ``web`` section at ``path``; absent or null: None (no web view).

    ``networks`` are the configured networks' names, which ``publish`` may name."""
    if value is None:
        return None
    section = Section.open(reader, path, value, WEB_KEYS)
    if section is None:
        return None
    defaults = WebOptions()
    user = section.get("user", checked(_check_user), None, nullable=True)
    password = section.secret("password")
    if not section.has("user") and password is not None and password is not INVALID:
        key = "password_file" if section.has("password_file") else "password"
        reader.problem(section.at(key), "needs user (HTTP basic auth takes both)")
    elif password is None and user is not None:
        reader.problem(section.at("user"), "needs password or password_file")
    token = section.secret("token", _check_token)
    return WebOptions(
        port=section.get("port", to_int(1, 65535), defaults.port),
        host=section.get("host", checked(check_host), defaults.host),
        title=section.get("title", checked(_check_title), defaults.title),
        publish=section.get("publish", _publish_reader(networks), defaults.publish),
        user=None if user is INVALID else user,
        password=None if password is INVALID else password,
        token=None if token is INVALID else token,
        follow_interval=section.get("follow_interval", to_number(gt=0), defaults.follow_interval),
        max_results=section.get("max_results", to_int(1, MAX_RESULTS), defaults.max_results),
    )


def _check_path(value: str) -> str | None:
    if not value:
        return "must not be empty (null for the default)"
    return "must not contain NUL" if "\0" in value else None


def _check_user(value: str) -> str | None:
    if not value:
        return "must not be empty"
    if ":" in value:
        return "must not contain ':' (HTTP basic auth cannot carry it)"
    return "must not contain control characters" if _has_control(value) else None


def _check_token(value: str) -> str | None:
    if all("!" <= c <= "~" for c in value):
        return None
    return "must be printable ASCII without spaces (it is sent in an HTTP header)"


def _check_title(value: str) -> str | None:
    if not value:
        return "must not be empty"
    if len(value) > MAX_TITLE:
        return f"must be at most {MAX_TITLE} characters"
    return "must not contain control characters" if _has_control(value) else None


def _has_control(value: str) -> bool:
    return any(c < " " or c == "\x7f" for c in value)


def _publish_reader(networks: Collection[str]) -> Any:
    """The converter of ``publish``: a mapping of configured network names to ``"*"``
    or a list of channel names; frozen, so the web view cannot change what it shows."""
    known = set(networks)

    def convert(reader: Reader, path: str, value: Any) -> Any:
        if value is None:
            return types.MappingProxyType({})
        if not isinstance(value, dict):
            reader.problem(path, "expected a mapping of network names to '*' or channel lists")
            return INVALID
        out: dict[str, tuple[str, ...] | None] = {}
        for name, channels in value.items():
            at = join(path, name)
            if not isinstance(name, str) or name not in known:
                names = ", ".join(sorted(known)) or "none"
                reader.problem(at, f"not a network of this config (its networks: {names})")
                continue
            chosen = _channels(reader, at, channels)
            if chosen is not INVALID:
                out[name] = chosen
        return types.MappingProxyType(out)

    return convert


def _channels(reader: Reader, path: str, value: Any) -> Any:
    """``"*"`` -> None (every channel); a list -> its channel names, each once."""
    if value == "*":
        return None
    if not isinstance(value, list) or not value:
        reader.problem(path, "expected '*' (every channel) or a non-empty list of channels")
        return INVALID
    names: list[str] = []
    seen: set[str] = set()
    for index, raw in enumerate(value):
        at = item(path, index)
        name = to_str(reader, at, raw)
        if name is INVALID:
            continue
        if not name or name[0] not in CHANNEL_PREFIXES or _has_control(name) or " " in name:
            reader.problem(
                at,
                "expected a channel name starting with #, &, + or ! "
                "(private logs are never published)",
            )
            continue
        key = casefold(name, "rfc1459")
        if key in seen:
            reader.problem(at, f"{name!r} is listed twice")
            continue
        seen.add(key)
        names.append(name)
    return tuple(names)
