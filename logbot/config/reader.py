"""Where config problems are collected, and on which line each one is.

Why a module of its own: every section of the config (``logging_section``,
``networks_section``) reports problems the same way, so every message looks
alike: a :class:`Reader` collects *all* problems instead of stopping at the
first, each as ``<key path>: <message> (<file> line <n>)``.  The line comes
from :func:`line_map`, built from ``yaml.compose`` because ``yaml.safe_load``
forgets where things were.

The reader also owns what a value may pull in from outside the file:
``${NAME}`` is replaced from the environment when a string is *read* (not by
walking the whole document first, so an alias bomb is never expanded), and
``*_file`` secrets are read with errors that name the file, never its content.
A secret file must be a regular file of at most ``MAX_SECRET_BYTES``: the bot
reads it at start-up, unattended, so ``password_file: /dev/zero`` must be a
config error, not 1.8 GiB read and a MemoryError, and a FIFO or a directory
must be refused without blocking (it is opened ``O_NONBLOCK`` and checked with
``fstat`` before a byte is read).  A file others may read is only *warned*
about: the admin may have reasons (a group of operators), and refusing would
turn a safe-enough setup into an outage.

Warnings (:meth:`Reader.warn`) are collected like problems, with the same key
path and line, and logged by the loader at WARNING; they never stop a load.
Typed values and sections are in ``config_values``.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Mapping
from typing import Any

import yaml

__all__ = ["INVALID", "MAX_SECRET_BYTES", "Reader", "item", "join", "line_map"]

#: The largest secret file read (bytes): a password, key or token is far smaller, and a
#: larger file is a mistake (a device, a log) that must not be read into memory.
MAX_SECRET_BYTES = 64 * 1024


class _Invalid:
    """The value a converter returns after reporting a problem."""

    def __repr__(self) -> str:
        return "INVALID"


INVALID: Any = _Invalid()

# The line map walks nodes, not the constructed data, so aliases could make it
# loop (a recursive anchor) or explode (an alias bomb); the config is never
# deeper than ~6 levels, and these bounds only cost lines deep inside junk.
_MAX_DEPTH = 12
_MAX_NODES = 100_000
_MERGE_TAG = "tag:yaml.org,2002:merge"


def join(path: str, key: object) -> str:
    """``networks[0]`` + ``nick`` -> ``networks[0].nick``."""
    return f"{path}.{key}" if path else str(key)


def item(path: str, index: int) -> str:
    """``networks`` + 2 -> ``networks[2]``."""
    return f"{path}[{index}]"


def _parent(path: str) -> str:
    cut = max(path.rfind("."), path.rfind("["))
    return path[:cut] if cut > 0 else ""


def line_map(root: yaml.Node) -> tuple[dict[str, int], list[tuple[str, int, int]]]:
    """Key path -> 1-based line of its key (or list item), and the duplicate keys.

    Duplicates are ``(path, line, first_line)``: ``yaml.safe_load`` silently keeps
    the last of two equal keys, which hides typos, so the loader reports them.
    """
    lines: dict[str, int] = {}
    duplicates: list[tuple[str, int, int]] = []
    stack: list[tuple[str, yaml.Node, int, int]] = [("", root, root.start_mark.line + 1, 0)]
    budget = _MAX_NODES
    while stack and budget > 0:
        budget -= 1
        path, node, line, depth = stack.pop()
        lines.setdefault(path, line)
        if depth >= _MAX_DEPTH:
            continue
        if isinstance(node, yaml.MappingNode):
            for key, (key_line, value) in _entries(node, path, duplicates).items():
                stack.append((join(path, key), value, key_line, depth + 1))
        elif isinstance(node, yaml.SequenceNode):
            for index, child in enumerate(node.value):
                stack.append((item(path, index), child, child.start_mark.line + 1, depth + 1))
    return lines, duplicates


def _entries(
    node: yaml.MappingNode, path: str, duplicates: list[tuple[str, int, int]]
) -> dict[str, tuple[int, yaml.Node]]:
    """A mapping node's scalar keys with their lines; ``<<`` merges fill in the rest."""
    out: dict[str, tuple[int, yaml.Node]] = {}
    merges: list[yaml.Node] = []
    for key, value in node.value:
        if not isinstance(key, yaml.ScalarNode):
            continue
        if key.tag == _MERGE_TAG:
            merges.append(value)
            continue
        line = key.start_mark.line + 1
        if key.value in out:
            duplicates.append((join(path, key.value), line, out[key.value][0]))
        out[key.value] = (line, value)
    for merged in merges:
        for source in merged.value if isinstance(merged, yaml.SequenceNode) else [merged]:
            if not isinstance(source, yaml.MappingNode):
                continue
            for key, value in source.value:
                if isinstance(key, yaml.ScalarNode) and key.value not in out:
                    out[key.value] = (key.start_mark.line + 1, value)
    return out


_REFERENCE = re.compile(r"\$\$\{|\$\{([^}]*)(\}?)")
_VARIABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class Reader:
    """Everything one parse shares: where keys are, the environment, the problems."""

    def __init__(
        self,
        source: str,
        lines: Mapping[str, int],
        environ: Mapping[str, str],
        base_dir: str | None,
    ) -> None:
        self.source = source
        self.lines = lines
        self.environ = environ
        self.base_dir = base_dir
        self._problems: list[tuple[int, str]] = []
        self._warnings: list[tuple[int, str]] = []
        self._seen: set[str] = set()

    @property
    def problems(self) -> list[str]:
        """Every problem so far, in the order of the file (stable within a line)."""
        return [text for _, text in sorted(self._problems, key=lambda p: p[0])]

    def line(self, path: str) -> int | None:
        """The line of ``path``, or of its nearest ancestor the YAML shows (a missing key:
        the mapping that lacks it)."""
        while path not in self.lines:
            if not path:
                return None
            path = _parent(path)
        return self.lines[path]

    @property
    def warnings(self) -> list[str]:
        """Every warning so far, in the order of the file: things that work but are
        unsafe (a secret others may read, a password sent without TLS)."""
        return [text for _, text in sorted(self._warnings, key=lambda p: p[0])]

    def problem(self, path: str, message: str) -> None:
        self._add(self._problems, path, message)

    def warn(self, path: str, message: str) -> None:
        """A warning, written like a problem; it must not quote a secret either."""
        self._add(self._warnings, path, message)

    def _add(self, into: list[tuple[int, str]], path: str, message: str) -> None:
        line = self.line(path)
        where = f"{self.source} line {line}" if line else self.source
        text = f"{path}: {message} ({where})" if path else f"{message} ({where})"
        if text not in self._seen:
            self._seen.add(text)
            into.append((line or 0, text))

    def expand(self, path: str, text: str) -> Any:
        """``text`` with ``${NAME}`` replaced from the environment and ``$${`` -> ``${``.

        Messages name the variable, never a value: the text may be a password.
        """
        if "${" not in text:
            return text
        ok = True

        def substitute(match: re.Match[str]) -> str:
            nonlocal ok
            if match.group(0) == "$${":
                return "${"
            name, closed = match.group(1), match.group(2)
            if not closed:
                message = "unterminated '${' (write '$${' for a literal '${')"
            elif not _VARIABLE.fullmatch(name):
                message = "bad environment variable name in '${...}' (letters, digits, '_')"
            elif name not in self.environ:
                message = f"environment variable {name} is not set"
            else:
                return self.environ[name]
            self.problem(path, message)
            ok = False
            return ""

        result = _REFERENCE.sub(substitute, text)
        return result if ok else INVALID

    def resolve(self, name: str) -> str:
        """A file name from the config: ``~`` expanded, relative to the config's folder."""
        name = os.path.expanduser(name)
        if self.base_dir is not None and not os.path.isabs(name):
            name = os.path.join(self.base_dir, name)
        return name

    def read_file(self, path: str, name: str) -> Any:
        """The text of a secret file, trailing whitespace stripped; INVALID after a report
        naming the file and the OS error (never the content).

        Only a regular file of at most ``MAX_SECRET_BYTES`` is read.  It is checked with
        ``stat`` before it is opened (opening a device can do things) and with ``fstat``
        after (what was opened is what counts); ``O_NONBLOCK`` keeps a FIFO put there in
        between from blocking the open.  Group or world read permission is a warning.
        """
        full = self.resolve(name)
        try:
            before = os.stat(full)
            if not stat.S_ISREG(before.st_mode):
                self.problem(path, _not_regular(full, before.st_mode))
                return INVALID
            fd = os.open(full, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
            try:
                st = os.fstat(fd)
                if not stat.S_ISREG(st.st_mode):
                    self.problem(path, _not_regular(full, st.st_mode))
                    return INVALID
                data = _read_at_most(fd, MAX_SECRET_BYTES + 1)
            finally:
                os.close(fd)
        except OSError as e:
            self.problem(path, f"cannot read {full}: {e.strerror or type(e).__name__}")
            return INVALID
        except ValueError:
            self.problem(path, "bad file name (it holds NUL)")
            return INVALID
        if len(data) > MAX_SECRET_BYTES:
            self.problem(
                path, f"{full} is larger than {MAX_SECRET_BYTES // 1024} KiB: not a secret file"
            )
            return INVALID
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            self.problem(path, f"{full} is not UTF-8 text")
            return INVALID
        readers = [who for bit, who in _READ_BITS if st.st_mode & bit]
        if readers:
            self.warn(
                path,
                f"{full} is readable by {' and '.join(readers)} "
                f"(mode {stat.S_IMODE(st.st_mode):04o}; chmod 600 it)",
            )
        # as open() in text mode read it before: universal newlines
        return text.replace("\r\n", "\n").replace("\r", "\n").rstrip()


_READ_BITS = ((stat.S_IRGRP, "its group"), (stat.S_IROTH, "others"))
_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISCHR, "a device"),
    (stat.S_ISBLK, "a device"),
    (stat.S_ISSOCK, "a socket"),
)


def _not_regular(full: str, mode: int) -> str:
    kind = next((name for test, name in _KINDS if test(mode)), "not a regular file")
    return f"{full} is {kind}: a secret file must be a regular file"


def _read_at_most(fd: int, limit: int) -> bytes:
    """Up to ``limit`` bytes from ``fd`` (reads may come back short; stop at EOF)."""
    chunks: list[bytes] = []
    size = 0
    while size < limit:
        chunk = os.read(fd, limit - size)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)
