"""The ``logging`` sections: one reader for all three levels, and their merge.

The same keys can be set at the top level, in a network and in a channel; each
level is read into *overrides* (only the keys it sets) and laid over its parent
with :func:`merge`, so a channel that sets ``events: {joins: false}`` keeps its
network's other event flags.  Rules that involve two keys (``rotation: size``
needs ``max_bytes``; ``daily`` needs ``{date}`` in ``path``) are checked on the
merged result, but reported only at the level that set one of those keys, so a
mistake is reported once, where it was made.
"""

from __future__ import annotations

import dataclasses
import datetime
import re
import string
import zoneinfo
from typing import Any

from logbot.config.reader import INVALID, Reader, join
from logbot.config.settings import EventFilter, LogOptions
from logbot.config.text_layout import LAYOUT_TIMES, LAYOUTS, check_time_format, has_date
from logbot.config.values import (
    Convert,
    Section,
    checked,
    to_bool,
    to_choice,
    to_int,
    to_list,
    to_number,
)

__all__ = ["GLOBAL_ONLY", "LOG_KEYS", "check_path_template", "merge", "parse_size", "read_logging"]

LOG_KEYS = tuple(f.name for f in dataclasses.fields(LogOptions))
EVENT_KEYS = tuple(f.name for f in dataclasses.fields(EventFilter))
#: One writer serves every network, so these have one value for the whole bot.
GLOBAL_ONLY = ("root", "max_open_files")
_PLACEHOLDERS = ("network", "channel", "date")

_UNITS = {"": 1, "b": 1}
for _power, _letter in enumerate("kmgt", start=1):
    _UNITS[_letter] = _UNITS[_letter + "ib"] = 1024**_power
    _UNITS[_letter + "b"] = 1000**_power
_SIZE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*", re.IGNORECASE)


def parse_size(text: str) -> int | None:
    """``"10MB"`` -> 10_000_000, ``"512KiB"``/``"512K"`` -> 524_288; None if not a size.

    K, M, G, T and KiB, MiB, GiB, TiB count in 1024s; KB, MB, GB, TB in 1000s.
    """
    match = _SIZE.fullmatch(text)
    if not match or match.group(2).lower() not in _UNITS:
        return None
    return int(float(match.group(1)) * _UNITS[match.group(2).lower()])


def _to_size(reader: Reader, path: str, value: Any) -> Any:
    if isinstance(value, str):
        text = reader.expand(path, value)
        if text is INVALID:
            return INVALID
        size = parse_size(text)
    elif isinstance(value, int) and not isinstance(value, bool):
        size = value
    else:
        size = None
    if size is None or size <= 0:
        reader.problem(path, "expected a positive integer or a size like '10MB', '512KiB' or '1G'")
        return INVALID
    return size


def _fields(template: str) -> list[str]:
    """The placeholder names of a format string (ValueError if it is malformed)."""
    return [name for _, name, _, _ in string.Formatter().parse(template) if name is not None]


def check_path_template(template: str) -> str | None:
    """None if ``template`` is a usable log path, else why not."""
    if not template:
        return "must not be empty"
    try:
        names = _fields(template)
    except ValueError as e:
        return f"bad template: {e}"
    for name in names:
        if name not in _PLACEHOLDERS:
            return (
                f"unknown placeholder {{{name}}} (use {{network}}, {{channel}}, {{date}} "
                "or {date:<strftime format>})"
            )
    if "channel" not in names:
        return "must contain {channel}"
    try:
        rendered = template.format(network="n", channel="c", date=datetime.date(2026, 1, 2))
    except (KeyError, ValueError, IndexError, AttributeError, TypeError) as e:
        return f"bad template: {e}"
    if rendered.startswith("/") or "\0" in rendered:
        return "must be a relative path (it is joined to root)"
    if any(part in ("", ".", "..") for part in rendered.split("/")):
        return "must not have empty, '.' or '..' components"
    return None


def _daily_path(template: str) -> bool:
    """Whether ``template`` names a file per day: a line whose time has no date takes
    its file's (two days in a row get two paths; their date is in them)."""
    try:
        days = [
            template.format(network="n", channel="c", date=datetime.date(2026, 1, d))
            for d in (1, 2)
        ]
    except (KeyError, ValueError, IndexError, AttributeError, TypeError):
        return False
    return days[0] != days[1]


def _uses_date(template: str) -> bool:
    try:
        return "date" in _fields(template)
    except ValueError:
        return False


def _check_timezone(name: str) -> str | None:
    try:
        zoneinfo.ZoneInfo(name)
    except Exception:  # (ZoneInfoNotFoundError, ValueError, OSError...)
        return f"unknown time zone {name!r} (expected an IANA name like 'UTC' or 'Europe/Paris')"
    return None


def _check_non_empty(value: str) -> str | None:
    return None if value else "must not be empty"


def _check_name(value: str) -> str | None:
    return (
        None
        if value and not any(c.isspace() for c in value)
        else ("expected a nick or account name (not empty, no spaces)")
    )


def _to_events(reader: Reader, path: str, value: Any) -> Any:
    section = Section.open(reader, path, value, EVENT_KEYS)
    if section is None:
        return INVALID
    flags = {key: section.get(key, to_bool, INVALID) for key in EVENT_KEYS if section.has(key)}
    return {key: flag for key, flag in flags.items() if flag is not INVALID}


def _to_names(reader: Reader, path: str, value: Any) -> Any:
    return () if value is None else to_list(checked(_check_name))(reader, path, value)


#: key -> (converter, null allowed)
_READERS: dict[str, tuple[Convert, bool]] = {
    "enabled": (to_bool, False),
    "root": (checked(_check_non_empty), False),
    "path": (checked(check_path_template), False),
    "formats": (
        to_list(to_choice(("text", "jsonl")), single=True, unique=True, non_empty=True),
        False,
    ),
    "text_layout": (to_choice(LAYOUTS), False),
    "time_format": (checked(check_time_format), True),  # null: the layout's own
    "timezone": (checked(_check_timezone), False),
    "rotation": (to_choice(("daily", "size")), False),
    "max_bytes": (_to_size, True),
    "compress": (to_choice(("gzip",)), True),
    "retention_days": (to_int(1), True),
    "flush": (to_choice(("line", "interval")), False),
    "flush_interval": (to_number(gt=0), False),
    "fsync_interval": (to_number(gt=0), True),
    "events": (_to_events, False),
    "private": (to_bool, False),
    "nolog_prefix": (checked(_check_non_empty), True),
    "opt_out": (_to_names, False),  # null: the empty list
    "max_open_files": (to_int(1, 10000), False),
    "server_time_tolerance": (to_number(ge=0), True),  # null: no limit; 0: never trusted
}
assert set(_READERS) == set(LOG_KEYS), "every LogOptions field needs a reader"


def merge(parent: LogOptions, overrides: dict[str, Any]) -> LogOptions:
    """``parent`` with ``overrides`` laid over it; ``events`` merges flag by flag."""
    changes = dict(overrides)
    if "events" in changes:
        changes["events"] = dataclasses.replace(parent.events, **changes["events"])
    return dataclasses.replace(parent, **changes)


def read_logging(
    reader: Reader, path: str, value: Any, parent: LogOptions, level: str
) -> LogOptions:
    """Read one ``logging`` section (``level``: "top", "network" or "channel") over ``parent``."""
    section = Section.open(reader, path, value, LOG_KEYS)
    if section is None:
        return parent
    overrides: dict[str, Any] = {}
    for key in LOG_KEYS:
        if not section.has(key) or not _allowed(reader, section, key, level):
            continue
        convert, nullable = _READERS[key]
        result = section.get(key, convert, INVALID, nullable=nullable)
        if result is not INVALID:
            overrides[key] = result
    merged = merge(parent, overrides)
    _check_combinations(reader, section, merged, overrides)
    return merged


def _allowed(reader: Reader, section: Section, key: str, level: str) -> bool:
    if key in GLOBAL_ONLY and level != "top":
        reader.problem(section.at(key), f"only the top-level logging section may set {key}")
        return False
    if key == "private" and level == "channel":
        reader.problem(
            section.at(key),
            "private is about a network's private messages: "
            "set it in the network's (or the top-level) logging",
        )
        return False
    return True


def _check_combinations(
    reader: Reader, section: Section, merged: LogOptions, overrides: dict[str, Any]
) -> None:
    if merged.rotation == "size" and merged.max_bytes is None:
        _report(
            reader, section, overrides, ("max_bytes", "rotation"), "rotation 'size' needs max_bytes"
        )
    if merged.rotation == "daily" and not _uses_date(merged.path):
        _report(
            reader,
            section,
            overrides,
            ("path", "rotation"),
            "rotation 'daily' needs {date} or {date:<strftime format>} in path",
        )
    time_format = merged.time_format or LAYOUT_TIMES.get(merged.text_layout)
    if (
        "text" in merged.formats
        and time_format is not None
        and check_time_format(time_format) is None
        and not has_date(time_format)
        and not _daily_path(merged.path)
    ):
        _report(
            reader,
            section,
            overrides,
            ("time_format", "text_layout", "path", "formats"),
            f"the text time {time_format!r} has no date, so each file must be of one day:"
            " put {date} (or a {date:<strftime format>} with the day) in path, or give"
            " time_format a date",
        )


def _report(
    reader: Reader, section: Section, overrides: dict[str, Any], keys: tuple[str, ...], message: str
) -> None:
    """Report at the first of ``keys`` this level set, unless one of them was already
    reported as invalid (then this would only repeat that problem)."""
    if any(section.has(key) and key not in overrides for key in keys):
        return
    for key in keys:
        if key in overrides:
            reader.problem(join(section.path, key), message)
            return
