"""Typed values and sections of the config: checked, reported, never fatal.

Why a module of its own: each key of each section is read by a *converter*
(``to_str``, ``to_int``, ``to_list`` ...) that checks one value, reports a
problem and returns :data:`INVALID` when it is wrong, so reading carries on and
every problem is found in one run.  A :class:`Section` is one mapping of the
config: it reports unknown keys (suggesting the closest known one) and reads
its keys with converters.  :meth:`Section.secret` reads ``<key>`` or
``<key>_file`` into a :class:`Secret` and never puts the value into a message.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable, Collection, Mapping
from typing import Any

from logbot.config.reader import INVALID, Reader, item, join
from logbot.irc.sasl import Secret

__all__ = [
    "check_line",
    "Check",
    "Convert",
    "Section",
    "checked",
    "to_bool",
    "to_choice",
    "to_int",
    "to_list",
    "to_number",
    "to_str",
    "unknown_key",
]

#: ``convert(reader, key_path, raw_value)`` -> value, or INVALID after a report.
Convert = Callable[[Reader, str, Any], Any]
#: ``check(value)`` -> None if fine, else the message (which must not quote a secret).
Check = Callable[[str], "str | None"]


def unknown_key(key: object, known: Collection[str]) -> str:
    close = difflib.get_close_matches(key, list(known), n=1) if isinstance(key, str) else []
    if close:
        return f"unknown key (did you mean {close[0]!r}?)"
    return "unknown key (known keys: " + ", ".join(sorted(known)) + ")"


class Section:
    """One mapping of the config being read, with its key path.

    Unknown keys are reported when the section is opened; the getters report bad
    values and fall back to the given default, so reading always finishes.
    """

    def __init__(
        self, reader: Reader, path: str, data: Mapping[Any, Any], known: Collection[str]
    ) -> None:
        self.reader, self.path, self.data = reader, path, data
        for key in data:
            if key not in known:
                reader.problem(join(path, key), unknown_key(key, known))

    @classmethod
    def open(cls, reader: Reader, path: str, value: Any, known: Collection[str]) -> Section | None:
        """A section from a raw value; ``null`` (every key commented out) is empty."""
        if value is None:
            return cls(reader, path, {}, known)
        if not isinstance(value, dict):
            reader.problem(path, "expected a mapping")
            return None
        return cls(reader, path, value, known)

    def has(self, key: str) -> bool:
        return key in self.data

    def at(self, key: str) -> str:
        return join(self.path, key)

    def get(
        self,
        key: str,
        convert: Convert,
        default: Any = None,
        *,
        required: bool = False,
        nullable: bool = False,
    ) -> Any:
        if key not in self.data:
            if required:
                self.reader.problem(self.path, f"missing required key {key!r}")
            return default
        value = self.data[key]
        if value is None and nullable:
            return None
        result = convert(self.reader, self.at(key), value)
        return default if result is INVALID else result

    def secret(self, key: str, check: Check | None = None) -> Any:
        """``key`` or ``key_file`` as a :class:`Secret`; None if neither; INVALID on error."""
        file_key = f"{key}_file"
        if key in self.data and file_key in self.data:
            self.reader.problem(self.at(key), f"give {key} or {file_key}, not both")
            return INVALID
        if key in self.data:
            path, raw = self.at(key), self.data[key]
            value = None if raw is None else to_str(self.reader, path, raw)
        elif file_key in self.data:
            path, raw = self.at(file_key), self.data[file_key]
            name = None if raw is None else checked(_non_empty)(self.reader, path, raw)
            value = name if name is None or name is INVALID else self.reader.read_file(path, name)
        else:
            return None
        if value is None or value is INVALID:
            return value
        message = "must not be empty" if not value else check(value) if check else None
        if message:
            self.reader.problem(path, message)
            return INVALID
        return Secret(value)


def _non_empty(value: str) -> str | None:
    return None if value else "must not be empty"


def to_str(reader: Reader, path: str, value: Any) -> Any:
    if not isinstance(value, str):
        reader.problem(path, "expected a string")
        return INVALID
    return reader.expand(path, value)


def checked(check: Check) -> Convert:
    """A string converter that also runs ``check`` on the (substituted) string."""

    def convert(reader: Reader, path: str, value: Any) -> Any:
        text = to_str(reader, path, value)
        if text is INVALID:
            return INVALID
        message = check(text)
        if message:
            reader.problem(path, message)
            return INVALID
        return text

    return convert


def to_bool(reader: Reader, path: str, value: Any) -> Any:
    if not isinstance(value, bool):
        reader.problem(path, "expected true or false")
        return INVALID
    return value


def _fmt(number: float) -> str:
    return f"{number:g}"


def to_int(low: int | None = None, high: int | None = None) -> Convert:
    """An integer (a YAML bool is not one) in ``low..high``."""

    def convert(reader: Reader, path: str, value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, int):
            reader.problem(path, "expected an integer")
            return INVALID
        if low is not None and high is not None and not low <= value <= high:
            reader.problem(path, f"must be between {low} and {high}")
        elif low is not None and value < low:
            reader.problem(path, f"must be at least {low}")
        else:
            return value
        return INVALID

    return convert


def to_number(
    *, gt: float | None = None, ge: float | None = None, lt: float | None = None
) -> Convert:
    """A finite number (int or float, not a bool) as a float, within the bounds."""
    bounds = [
        f"greater than {_fmt(gt)}" if gt is not None else "",
        f"at least {_fmt(ge)}" if ge is not None else "",
        f"less than {_fmt(lt)}" if lt is not None else "",
    ]
    message = "must be " + " and ".join(b for b in bounds if b)

    def convert(reader: Reader, path: str, value: Any) -> Any:
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not math.isfinite(value)
        ):
            reader.problem(path, "expected a number")
            return INVALID
        if (
            (gt is not None and not value > gt)
            or (ge is not None and not value >= ge)
            or (lt is not None and not value < lt)
        ):
            reader.problem(path, message)
            return INVALID
        return float(value)

    return convert


def to_choice(options: Collection[str], *, fold: bool = False) -> Convert:
    """One of ``options``; ``fold``: compared case-insensitively, returned as listed."""
    by_key = {(o.upper() if fold else o): o for o in options}
    listed = ", ".join(repr(o) for o in options)

    def convert(reader: Reader, path: str, value: Any) -> Any:
        text = to_str(reader, path, value)
        if text is INVALID:
            return INVALID
        found = by_key.get(text.upper() if fold else text)
        if found is None:
            shown = text if len(text) <= 40 else text[:37] + "..."
            reader.problem(path, f"expected one of {listed}, not {shown!r}")
            return INVALID
        return found

    return convert


def to_list(
    each: Convert, *, single: bool = False, unique: bool = False, non_empty: bool = False
) -> Convert:
    """A list converted item by item into a tuple (bad items are reported and dropped).

    ``single``: a lone string stands for a one-item list.
    """

    def convert(reader: Reader, path: str, value: Any) -> Any:
        if single and isinstance(value, str):
            value = [value]
        if not isinstance(value, list):
            reader.problem(path, "expected a list")
            return INVALID
        if non_empty and not value:
            reader.problem(path, "must not be empty")
            return INVALID
        out: list[Any] = []
        for index, raw in enumerate(value):
            converted = each(reader, item(path, index), raw)
            if converted is INVALID:
                continue
            if unique and converted in out:
                reader.problem(item(path, index), f"duplicate {converted!r}")
                continue
            out.append(converted)
        return tuple(out)

    return convert


def check_line(text: str) -> str | None:
    """Free text sent to an IRC server (a password, a realname, a quit message): one
    IRC line must stay one line."""
    return "must not contain CR, LF or NUL" if any(c in text for c in "\r\n\0") else None
