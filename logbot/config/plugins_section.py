"""The ``plugins`` section: which reply plugins run, what they may do, their settings.

Most keys are limits (rates, reply size, timeouts) read like any other value.
Two parts are special.  ``exec`` describes programs run as plugins: a command
string is split like a shell would (after ``${ENV}`` substitution) and a
relative program path with a ``/`` starts at the config's folder, like every
other file the config names.  ``settings`` is free-form per plugin, since only
the plugin knows its keys: it is walked once, strings get ``${ENV}``, and a key
``<name>_file`` becomes ``<name>`` holding a :class:`Secret` read from that file
(the same rule as ``password_file``).  Why it is frozen (mappings become
``MappingProxyType``, lists tuples): every plugin gets the same objects, so one
plugin must not be able to change what another one, or a reload, sees.  The
walk is bounded because an alias bomb in YAML is small on disk and huge in
memory.
"""

from __future__ import annotations

import dataclasses
import re
import shlex
import string
import types
from typing import Any

from logbot.config.reader import INVALID, Reader, item, join
from logbot.config.settings import ExecPluginConfig, PluginOptions, RateLimit, Secret
from logbot.config.values import (
    Convert,
    Section,
    checked,
    to_bool,
    to_int,
    to_list,
    to_number,
    to_str,
)

__all__ = ["EXEC_KEYS", "PLUGIN_KEYS", "RATE_KEYS", "read_plugins"]

PLUGIN_KEYS = tuple(f.name for f in dataclasses.fields(PluginOptions))
EXEC_KEYS = tuple(f.name for f in dataclasses.fields(ExecPluginConfig))
RATE_KEYS = ("burst", "per")
MAX_PREFIX = 5
ERROR_FIELDS = ("nick", "command", "error")

_PLUGIN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
# Bounds of the walk through ``settings`` (see the module docstring).
_MAX_DEPTH = 16
_MAX_VALUES = 10_000


def _check_plugin_name(name: str) -> str | None:
    if _PLUGIN_NAME.fullmatch(name):
        return None
    return (
        f"bad plugin name {name!r}: letters, digits, '_', '.' and '-', "
        "starting with a letter or digit"
    )


def _check_non_empty(value: str) -> str | None:
    return None if value else "must not be empty"


def _check_prefix(prefix: str) -> str | None:
    if not prefix:
        return "must not be empty"
    if len(prefix) > MAX_PREFIX:
        return f"must be at most {MAX_PREFIX} characters"
    return "must not contain whitespace" if any(c.isspace() for c in prefix) else None


def _is_mask(text: str) -> bool:
    return ("!" in text or "@" in text) and not any(c.isspace() for c in text)


def _check_admin(text: str) -> str | None:
    kind, colon, name = text.partition(":")
    if kind == "account" and colon:
        good = bool(name) and not any(c.isspace() for c in name)
    else:
        good = _is_mask(text)
    return None if good else "expected 'account:NAME' or a nick!user@host mask"


def _check_mask(text: str) -> str | None:
    return None if _is_mask(text) else "expected a nick!user@host mask (with '!' or '@')"


def _check_error_reply(template: str) -> str | None:
    if not template:
        return "must not be empty (null for no error reply)"
    if any(c in template for c in "\r\n\0"):
        return "must not contain CR, LF or NUL"
    fields = ", ".join(f"{{{name}}}" for name in ERROR_FIELDS)
    try:
        names = [name for _, name, _, _ in string.Formatter().parse(template) if name is not None]
    except ValueError as e:
        return f"bad template: {e}"
    for name in names:
        base = name.partition(".")[0].partition("[")[0]
        if base not in ERROR_FIELDS:
            return f"unknown field {{{name}}} (use {fields})"
    try:
        template.format(**dict.fromkeys(ERROR_FIELDS, "x"))
    except (KeyError, ValueError, IndexError, AttributeError, TypeError) as e:
        return f"bad template: {e}"
    return None


def _optional(convert: Convert) -> Convert:
    """A list, where ``null`` (every item commented out) is the empty list."""
    return lambda reader, path, value: () if value is None else convert(reader, path, value)


def _to_enabled(reader: Reader, path: str, value: Any) -> Any:
    """Not :func:`_optional`: with every name commented out, "all the defaults" and
    "none" are both plausible readings, so neither is guessed."""
    if value is None:
        reader.problem(path, "expected a list (write [] for no plugins)")
        return INVALID
    return to_list(checked(_check_plugin_name), unique=True)(reader, path, value)


def _to_dir(reader: Reader, path: str, value: Any) -> Any:
    """A folder: relative to the config's folder; it need not exist yet."""
    name = checked(_check_non_empty)(reader, path, value)
    return INVALID if name is INVALID else reader.resolve(name)


def _to_rate(default: RateLimit) -> Convert:
    def convert(reader: Reader, path: str, value: Any) -> Any:
        section = Section.open(reader, path, value, RATE_KEYS)
        if section is None:
            return INVALID
        return RateLimit(
            burst=section.get("burst", to_int(1), default.burst),
            per=section.get("per", to_number(gt=0), default.per),
        )

    return convert


def read_plugins(reader: Reader, path: str, value: Any) -> PluginOptions:
    """Read the ``plugins`` section at ``path``; ``None`` (absent or empty): the defaults."""
    defaults = PluginOptions()
    section = Section.open(reader, path, value, PLUGIN_KEYS)
    if section is None:
        return dataclasses.replace(defaults, settings=types.MappingProxyType({}))
    return PluginOptions(
        enabled=section.get("enabled", _to_enabled, defaults.enabled),
        plugin_dirs=section.get("plugin_dirs", _optional(to_list(_to_dir)), ()),
        prefix=section.get("prefix", checked(_check_prefix), defaults.prefix),
        data_dir=section.get("data_dir", checked(_check_non_empty), defaults.data_dir),
        admins=section.get("admins", _optional(to_list(checked(_check_admin))), ()),
        ignore=section.get("ignore", _optional(to_list(checked(_check_mask))), ()),
        timeout=section.get("timeout", to_number(gt=0), defaults.timeout),
        error_reply=section.get(
            "error_reply", checked(_check_error_reply), defaults.error_reply, nullable=True
        ),
        user_rate=section.get("user_rate", _to_rate(defaults.user_rate), defaults.user_rate),
        channel_rate=section.get(
            "channel_rate", _to_rate(defaults.channel_rate), defaults.channel_rate
        ),
        max_lines=section.get("max_lines", to_int(1, 50), defaults.max_lines),
        max_line_bytes=section.get("max_line_bytes", to_int(50, 450), defaults.max_line_bytes),
        loop_repeats=section.get("loop_repeats", to_int(1), defaults.loop_repeats),
        loop_window=section.get("loop_window", to_number(gt=0), defaults.loop_window),
        exec=_read_execs(reader, section.at("exec"), section.data.get("exec")),
        settings=_read_settings(reader, section.at("settings"), section.data.get("settings")),
    )


# -- exec plugins --------------------------------------------------------------------------


def _read_execs(reader: Reader, path: str, value: Any) -> tuple[ExecPluginConfig, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        reader.problem(path, "expected a list")
        return ()
    plugins: list[ExecPluginConfig] = []
    first: dict[str, int] = {}
    for index, raw in enumerate(value):
        plugin = _read_exec(reader, item(path, index), raw)
        if plugin is None:
            continue
        if plugin.name in first:
            reader.problem(
                join(item(path, index), "name"),
                f"duplicate exec plugin {plugin.name!r} (also {item(path, first[plugin.name])})",
            )
            continue
        first[plugin.name] = index
        plugins.append(plugin)
    return tuple(plugins)


def _read_exec(reader: Reader, path: str, raw: Any) -> ExecPluginConfig | None:
    if not isinstance(raw, dict):
        reader.problem(path, "expected a mapping")
        return None
    entry = Section(reader, path, raw, EXEC_KEYS)
    name = entry.get("name", checked(_check_plugin_name), INVALID, required=True)
    command = entry.get("command", _to_command, INVALID, required=True)
    options = {
        "help": entry.get("help", to_str, ""),
        "usage": entry.get("usage", to_str, ""),
        "admin": entry.get("admin", to_bool, False),
        "timeout": entry.get("timeout", to_number(gt=0), None, nullable=True),
    }
    if name is INVALID or command is INVALID:
        return None
    return ExecPluginConfig(name=name, command=command, **options)


def _to_command(reader: Reader, path: str, value: Any) -> Any:
    """An argv: a string split like a shell would (after ``${ENV}``), or a list."""
    if isinstance(value, str):
        text = reader.expand(path, value)
        if text is INVALID:
            return INVALID
        try:
            argv = shlex.split(text)
        except ValueError as e:  # "No closing quotation", "No escaped character"
            reader.problem(path, f"cannot split the command: {e}")
            return INVALID
    elif isinstance(value, list):
        words = to_list(to_str, non_empty=True)(reader, path, value)
        if words is INVALID or len(words) != len(value):
            return INVALID  # reported
        argv = list(words)
    else:
        reader.problem(path, "expected a string or a list of strings")
        return INVALID
    if not argv or not argv[0]:
        reader.problem(path, "must name a program")
        return INVALID
    if any("\0" in arg for arg in argv):
        reader.problem(path, "must not contain NUL")
        return INVALID
    if "/" in argv[0]:
        argv[0] = reader.resolve(argv[0])
    return tuple(argv)


# -- settings ------------------------------------------------------------------------------


def _read_settings(reader: Reader, path: str, value: Any) -> types.MappingProxyType[str, Any]:
    if value is None:
        return types.MappingProxyType({})
    if not isinstance(value, dict):
        reader.problem(path, "expected a mapping")
        return types.MappingProxyType({})
    walk = _Walk(reader)
    out: dict[str, Any] = {}
    for name, raw in value.items():
        where = join(path, name)
        message = _check_plugin_name(name) if isinstance(name, str) else "expected a plugin name"
        if message:
            reader.problem(where, message)
        elif raw is not None and not isinstance(raw, dict):
            reader.problem(where, "expected a mapping")
        else:
            out[name] = walk.value(where, raw or {}, 1)
    return types.MappingProxyType(out)


class _Walk:
    """One bounded walk through ``settings``: substitutes, reads secret files, freezes."""

    def __init__(self, reader: Reader) -> None:
        self.reader = reader
        self.budget = _MAX_VALUES

    def value(self, path: str, value: Any, depth: int) -> Any:
        self.budget -= 1
        if self.budget == -1:
            self.reader.problem(path, f"too many values (more than {_MAX_VALUES} in settings)")
        if self.budget < 0:
            return INVALID
        if depth > _MAX_DEPTH and isinstance(value, (dict, list)):
            self.reader.problem(path, f"nested too deeply (more than {_MAX_DEPTH} levels)")
            return INVALID
        if isinstance(value, str):
            return self.reader.expand(path, value)
        if isinstance(value, dict):
            return self.mapping(path, value, depth)
        if isinstance(value, list):
            items = (self.value(item(path, i), v, depth + 1) for i, v in enumerate(value))
            return tuple(v for v in items if v is not INVALID)
        if isinstance(value, set):  # YAML !!set
            return frozenset(value)
        return value  # None, bool, int, float, date, datetime, bytes: immutable

    def mapping(self, path: str, value: dict[Any, Any], depth: int) -> Any:
        out: dict[Any, Any] = {}
        for key, raw in value.items():
            where = join(path, key)
            secret_key = _secret_key(key, raw)
            if secret_key is None:
                result = self.value(where, raw, depth + 1)
            elif secret_key in value:
                self.reader.problem(join(path, secret_key), f"give {secret_key} or {key}, not both")
                continue
            else:
                key, result = secret_key, self.secret(where, raw)
            if result is not INVALID:
                out[key] = result
        return types.MappingProxyType(out)

    def secret(self, path: str, name: str) -> Any:
        """The file's text as a Secret (the same rules as ``password_file``)."""
        name = checked(_check_non_empty)(self.reader, path, name)
        text = INVALID if name is INVALID else self.reader.read_file(path, name)
        if text is INVALID:
            return INVALID
        if not text:
            self.reader.problem(path, "must not be empty")
            return INVALID
        return Secret(text)


def _secret_key(key: Any, value: Any) -> str | None:
    """``token`` for a key ``token_file`` with a string value, else None."""
    if isinstance(key, str) and key.endswith("_file") and len(key) > 5 and isinstance(value, str):
        return key[:-5]
    return None
