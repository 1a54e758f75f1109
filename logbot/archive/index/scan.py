"""Finding the jsonl files under the log root without walking the whole tree each time.

Why: the follower looks every second, and a big archive holds thousands of channel
folders with years of days each.  What is done per look:

- every folder known is ``lstat``-ed (one call each) and listed again only when its
  mtime changed (a file created, renamed or removed in it), or when that mtime is less
  than :data:`RACY_SECONDS` old (a change within the file system's timestamp
  granularity would not move it: such a folder is listed until its mtime is safely in
  the past, as git does with racy index entries);
- a file is ``stat``-ed when its folder was just listed, when it is a plain ``.jsonl``
  that may grow: the last ``.jsonl`` of its folder by name (today's, with the default
  template), one changed within :data:`HOT_SECONDS`, one not yet read to its end;
- everything is listed and ``stat``-ed again every :data:`SWEEP_SECONDS`, and on a
  ``full`` look (the first look, ``logbot index``, a rebuild).

So a quiet archive costs a stat per folder and one per channel per look.  Symbolic
links are never followed (``lstat``, ``scandir``'s ``follow_symlinks=False``); names
starting with ``.`` (temporary files) are skipped.  Nothing is written.
"""

from __future__ import annotations

import itertools
import os
import stat
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["HOT_SECONDS", "RACY_SECONDS", "SUFFIXES", "SWEEP_SECONDS", "Look", "Scanner"]

#: The names indexed: jsonl logs, live or rotated, plain or gzip-compressed.
SUFFIXES = (".jsonl", ".jsonl.gz")

#: A plain file changed this recently (seconds) is stat-ed at every look.
HOT_SECONDS = 3600.0

#: A folder whose mtime is this recent (seconds) is listed at every look.
RACY_SECONDS = 2.0

#: Seconds between looks that list and stat everything (5 minutes): a file appended to
#: without being its folder's last one nor recently changed is found by then.
SWEEP_SECONDS = 300.0


@dataclass
class _Dir:
    mtime_ns: int
    dirs: list[str]
    files: list[str]  # sorted
    last: str  # the last plain file by name ("" if none): the one a writer appends to
    names: frozenset[str]


@dataclass
class Look:
    """What one look found: files stat-ed (path below the root -> stat), folders
    listed or gone this time, and whether it listed everything."""

    stats: dict[str, os.stat_result] = field(default_factory=dict)
    listed: set[str] = field(default_factory=set)
    gone_dirs: set[str] = field(default_factory=set)
    full: bool = False
    root_empty: bool = False  # missing, unreadable or empty: nothing can be called gone


class Scanner:
    """The folders under one root as last seen, and what to look at next."""

    def __init__(self, root: Path, now: Callable[[], float]) -> None:
        self.root = root
        self._now = now
        self._dirs: dict[str, _Dir] = {}
        self._last_sweep: float | None = None

    def has_file(self, rel: str) -> bool:
        """Whether ``rel`` was in its folder's listing at the last look."""
        parent, _, name = rel.rpartition("/")
        d = self._dirs.get(parent)
        return d is not None and name in d.names

    def names(self, rel: str) -> list[str]:
        """The log files of the folder ``rel`` at the last look, by name."""
        d = self._dirs.get(rel)
        return [] if d is None else d.files

    def look(self, hot: Iterable[str], full: bool = False) -> Look:
        """Look at the tree; ``hot``: files to stat whatever their folder did (the
        caller's recently changed and not fully read files)."""
        now = self._now()
        if self._last_sweep is None or now - self._last_sweep >= SWEEP_SECONDS:
            full = True
        if full:
            self._last_sweep = now
        result = Look(full=full)
        seen: set[str] = set()
        stack = [""]
        while stack:
            rel = stack.pop()
            seen.add(rel)
            d = self._visit(rel, now, full, result)
            if d is None:
                continue
            stack.extend(f"{rel}/{name}" if rel else name for name in d.dirs)
        for rel in set(self._dirs) - seen:
            del self._dirs[rel]
            result.gone_dirs.add(rel)
        root = self._dirs.get("")
        result.root_empty = root is None or (not root.dirs and not root.files)
        lasts = (
            f"{rel}/{d.last}" if rel else d.last
            for rel, d in self._dirs.items()
            if d.last and rel not in result.listed
        )
        for rel in itertools.chain(lasts, hot):
            if rel not in result.stats and rel.rpartition("/")[0] in self._dirs:
                self._stat(rel, result)
        return result

    def _visit(self, rel: str, now: float, full: bool, result: Look) -> _Dir | None:
        path = self.root / rel if rel else self.root
        try:
            st = os.lstat(path) if rel else os.stat(path)  # the root may be a link
        except OSError:
            self._dirs.pop(rel, None)
            return None
        if not stat.S_ISDIR(st.st_mode):
            self._dirs.pop(rel, None)
            return None
        d = self._dirs.get(rel)
        racy = now - st.st_mtime_ns / 1e9 < RACY_SECONDS
        if d is not None and d.mtime_ns == st.st_mtime_ns and not racy and not full:
            return d
        d = self._list(path, st.st_mtime_ns, rel, result)
        if d is None:
            return self._dirs.get(rel)  # unreadable now: keep what was known
        self._dirs[rel] = d
        result.listed.add(rel)
        return d

    def _list(self, path: Path, mtime_ns: int, rel: str, result: Look) -> _Dir | None:
        dirs: list[str] = []
        files: list[str] = []
        try:
            with os.scandir(path) as it:
                for entry in it:
                    name = entry.name
                    if name.startswith("."):
                        continue
                    try:
                        if entry.is_dir(follow_symlinks=False):
                            dirs.append(name)
                        elif name.endswith(SUFFIXES) and entry.is_file(follow_symlinks=False):
                            files.append(name)
                            child = f"{rel}/{name}" if rel else name
                            result.stats[child] = entry.stat(follow_symlinks=False)
                    except OSError:
                        continue  # gone meanwhile
        except OSError:
            return None
        files.sort()
        plain = [name for name in files if not name.endswith(".gz")]
        return _Dir(mtime_ns, dirs, files, plain[-1] if plain else "", frozenset(files))

    def _stat(self, rel: str, result: Look) -> None:
        try:
            st = os.lstat(self.root / rel)
        except OSError:
            return  # gone: its folder's listing will say so
        if stat.S_ISREG(st.st_mode):
            result.stats[rel] = st
