"""Where a channel's log lives: safe, reversible file names from hostile names.

Channel names come from the network, so anyone can pick one: ``#../../etc``,
``#a/b``, a name with NUL or a newline, 300 bytes of emoji.  A name must never
leave the log root, never collide with another name's file and, for tools that
read the logs back, should be recoverable from its file name.  So each name
(the network name and the folded channel name) becomes exactly one path
component by :func:`escape_component`:

* ``%``, ``/``, ``\\``, ``~``, every control character (``< 0x20`` and ``0x7f``),
  lone surrogates and a leading ``.`` are percent-encoded as ``%XX`` per UTF-8
  byte (upper-case hex); everything else, non-ASCII letters included, stays.
  So no component is ``''``, ``.`` or ``..`` or holds a separator, and
  :func:`unescape_component` inverts it.  The empty name becomes ``%`` (no
  other escaped name is a bare ``%``).
* A component longer than :data:`MAX_COMPONENT_BYTES` UTF-8 bytes (file systems
  allow 255) is cut at a character boundary and gets ``~`` and 16 hex digits of
  the SHA-256 of the full name appended.  Such a name is unique (64 bits of
  hash) but *not* reversible.  ``~`` is encoded in every other name, so a cut
  name never equals an ordinary one.

Case: the caller folds the channel name with the network's case mapping first,
so ``#Foo`` and ``#foo`` share a file.

:func:`render_path` fills the configured template and rejects absolute paths
and ``.``/``..``/empty components; :func:`resolve_under` checks once more,
lexically, that the result stays under the log root.  :func:`with_format`,
:func:`part_path` and :func:`next_part_number` name the per-format and the
size-rotated files.

A template should name ``{channel}`` as a directory (as the default does) or
follow it with literal text: a file name that *ends* in the channel name can be
confused with a part number or a format suffix (channels ``#a`` and ``#a.001``).
"""

from __future__ import annotations

import datetime
import functools
import hashlib
import os
import pathlib
import re
from collections.abc import Iterable

__all__ = [
    "MAX_COMPONENT_BYTES",
    "SUFFIXES",
    "UnsafePath",
    "escape_component",
    "next_part_number",
    "part_path",
    "render_path",
    "resolve_under",
    "unescape_component",
    "with_format",
]

#: Longest escaped component kept whole, in UTF-8 bytes (NAME_MAX is 255).
MAX_COMPONENT_BYTES = 200
_HASH_CHARS = 16
_CUT_MARK = "~"

#: File suffix of each log format.
SUFFIXES = {"text": ".log", "jsonl": ".jsonl"}


class UnsafePath(ValueError):
    """A rendered log path would be absolute, empty or climb out of the root."""


_SPECIAL = re.compile("[%/\\\\~\x00-\x1f\x7f\ud800-\udfff]")
_ESCAPED_RUN = re.compile("(?:%[0-9A-F]{2})+")


def _percent(char: str) -> str:
    return "".join(f"%{b:02X}" for b in char.encode("utf-8", "surrogatepass"))


def _percent_match(match: re.Match[str]) -> str:
    return _percent(match.group())


@functools.lru_cache(maxsize=1024)
def escape_component(name: str) -> str:
    """Escape one name (a folded channel name or a network name) into one path component.

    Reversible with :func:`unescape_component` unless the escaped form is longer than
    :data:`MAX_COMPONENT_BYTES` bytes: then it is cut and ends in ``~`` + 16 hex digits of
    SHA-256 of ``name`` (unique, not reversible).  Never ``''``, ``.``, ``..``, never with
    ``/`` or NUL.
    """
    if not name:
        return "%"
    escaped = _SPECIAL.sub(_percent_match, name)
    if escaped[0] == ".":
        escaped = "%2E" + escaped[1:]
    if len(escaped.encode("utf-8")) <= MAX_COMPONENT_BYTES:
        return escaped
    digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()
    return _cut(name, MAX_COMPONENT_BYTES - 1 - _HASH_CHARS) + _CUT_MARK + digest[:_HASH_CHARS]


def _cut(name: str, limit: int) -> str:
    """The escaped form of the longest prefix of ``name`` whose escaped form fits in
    ``limit`` bytes: whole characters only, so never half of a ``%XX`` run."""
    out: list[str] = []
    size = 0
    for index, char in enumerate(name):
        piece = _percent(char) if _SPECIAL.match(char) or (index == 0 and char == ".") else char
        size += len(piece.encode("utf-8"))
        if size > limit:
            break
        out.append(piece)
    return "".join(out)


def unescape_component(escaped: str) -> str:
    """The name :func:`escape_component` turned into ``escaped``.

    :raises ValueError: for a cut (over-long) name, whose end was replaced by a hash, and
        for anything :func:`escape_component` cannot have produced.
    """
    if _CUT_MARK in escaped:
        raise ValueError(f"{escaped!r} is a cut name: its end is a hash, not reversible")
    if escaped == "%":
        return ""
    name = _ESCAPED_RUN.sub(_unpercent_match, escaped)
    if escape_component(name) != escaped:
        raise ValueError(f"{escaped!r} is not an escaped name")
    return name


def _unpercent_match(match: re.Match[str]) -> str:
    return bytes.fromhex(match.group().replace("%", "")).decode("utf-8", "surrogatepass")


def render_path(template: str, network: str, channel_folded: str, day: datetime.date) -> str:
    """The log path for one channel and day, relative to the log root, POSIX style.

    ``template`` is :attr:`LogOptions.path <logbot.config.settings.LogOptions.path>`; format
    errors in it (an unknown field) propagate as they are.

    :raises UnsafePath: if the result is absolute, holds NUL or a ``.``, ``..`` or empty
        component.
    """
    path = template.format(
        network=escape_component(network),
        channel=escape_component(channel_folded),
        date=day,
    )
    if "\0" in path:
        raise UnsafePath(f"log path {path!r} holds NUL")
    if path.startswith("/"):
        raise UnsafePath(f"log path {path!r} is absolute")
    for part in path.split("/"):
        if part in ("", ".", ".."):
            raise UnsafePath(f"log path {path!r} has a {part!r} component")
    return path


def resolve_under(root: pathlib.Path, relative: str) -> pathlib.Path:
    """``root / relative``, normalised lexically, checked to be strictly under ``root``.

    No symlinks are resolved: the check is about the names we build, not about what an
    administrator links where.  The root itself is refused too (a log is a file in it).

    :raises UnsafePath: if the normalised path is not below ``root``.
    """
    if "\0" in relative:
        raise UnsafePath(f"log path {relative!r} holds NUL")
    joined = os.path.normpath(os.path.join(root, relative))
    base = os.path.abspath(root)
    full = os.path.abspath(joined)
    if full == base or os.path.commonpath([base, full]) != base:
        raise UnsafePath(f"log path {relative!r} leaves the log root {str(root)!r}")
    return pathlib.Path(joined)


def with_format(path: pathlib.Path, fmt: str) -> pathlib.Path:
    """The file of format ``fmt`` (a key of :data:`SUFFIXES`) for the rendered ``path``.

    A format suffix the template ends in (``.log`` by default, or ``.jsonl``) is replaced;
    any other name gets the suffix appended, so ``2026.01.02`` becomes ``2026.01.02.jsonl``
    rather than losing its day.
    """
    suffix = SUFFIXES[fmt]
    name = path.name
    for known in _KNOWN_SUFFIXES:
        if name.endswith(known) and len(name) > len(known):
            return path.with_name(name[: -len(known)] + suffix)
    return path.with_name(name + suffix)


_KNOWN_SUFFIXES = tuple(sorted(set(SUFFIXES.values()), key=len, reverse=True))


def part_path(path: pathlib.Path, number: int) -> pathlib.Path:
    """Part ``number`` of a size-rotated file: ``2026-01-02.log``, 3 -> ``2026-01-02.003.log``.

    Zero-padded to three digits, so up to part 999 the lexical order of the names is the
    chronological one, and parts sort before the live file (``0``-``9`` < any letter of a
    suffix).  Part 1000 and later get more digits; :func:`next_part_number` reads them.
    """
    if number < 0:
        raise ValueError(f"part number {number} < 0")
    suffix = path.suffix
    stem = path.name[: -len(suffix)] if suffix else path.name
    return path.with_name(f"{stem}.{number:03d}{suffix}")


def next_part_number(path: pathlib.Path, names: Iterable[str] | None = None) -> int:
    """1 + the highest part number of ``path`` in its directory (``.gz`` parts count), or 1.

    ``names``: the directory's entries, when the caller listed it already (through a
    descriptor opened without following links, :mod:`logbot.logs.safe_open`).
    """
    suffix = path.suffix
    stem = path.name[: -len(suffix)] if suffix else path.name
    pattern = re.compile(re.escape(stem) + r"\.([0-9]{3,})" + re.escape(suffix) + r"(?:\.gz)?")
    if names is None:
        try:
            names = os.listdir(path.parent)
        except (FileNotFoundError, NotADirectoryError):
            return 1
    highest = 0
    for name in names:
        match = pattern.fullmatch(name)
        if match is not None:
            highest = max(highest, int(match.group(1)))
    return highest + 1
