"""The static export's output folder: writing only what changed, never through a link.

Why so careful: the export runs again and again (cron, a timer) into a folder that a
web server publishes, perhaps as a user who may write more than that folder.  So:

* Nothing below OUT is looked up by its full path: folders are opened one at a time
  without following a symbolic link (:func:`~logbot.logs.safe_open.open_dir`), files
  with ``O_NOFOLLOW``; a link planted anywhere below OUT stops the export
  (:class:`~logbot.logs.safe_open.UnsafeLink`) before anything is written through it.
  OUT itself is the administrator's path, and may be a link.
* A file is written to a new temporary file beside it, then renamed over it, so a
  reader (the web server) sees the old page or the new one, never half of one.  It is
  written only if its bytes differ from the file's: an unchanged page keeps its mtime
  (so caches and ``rsync`` see nothing new) and costs no write.
* A manifest (:data:`MANIFEST`) lists the files of the last export.  One the next
  export does not make again is removed: a channel no longer published, a day gone
  from the logs, must not stay on the web.  Only files of the manifest are ever
  removed; anything else in OUT (an ``.htaccess``) is left alone.
* One export at a time: a second one into the same OUT stops at once (:data:`LOCK`).
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
from pathlib import Path
from types import TracebackType

from logbot.logs.safe_open import TEMP_SUFFIX, is_temp_of, open_dir, open_in, put_file

__all__ = ["LOCK", "MANIFEST", "MAX_MANIFEST_BYTES", "ExportError", "OutFolder", "Where"]

#: The list of the files the last export made, in OUT (a page of names the web server
#: may show: they are the published pages' own).
MANIFEST = ".logbot-export.json"
MANIFEST_VERSION = 1
#: The lock file an export holds (``flock``) while it writes.
LOCK = ".logbot-export.lock"
#: The largest manifest read (about 100 bytes a day page: millions of days).  A bigger
#: one is not ours: it is ignored (nothing is removed), as is one that is not valid.
MAX_MANIFEST_BYTES = 256 * 1024 * 1024

Where = tuple[str, ...]  # a file's path below OUT, one name per folder


class ExportError(Exception):
    """The export cannot go on (another one is running, two names would be one file)."""


def _valid(where: Where) -> bool:
    """A path of plain names: nothing that could lead out of OUT."""
    return bool(where) and all(
        part not in ("", ".", "..") and not any(c in part for c in "/\\\x00") for part in where
    )


class OutFolder:
    """OUT while an export writes it: :meth:`write` each file, :meth:`keep` the ones
    left as they are, then :meth:`finish`.  Use it as a context manager (the lock and
    the folders' descriptors are released on leaving).  ``written`` and ``unchanged``
    count the files."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.written = 0
        self.unchanged = 0
        self._folders: dict[Where, int] = {}
        self._lock: int | None = None
        self._made: set[Where] = set()
        self._previous: set[Where] = set()

    # -- opening and closing ---------------------------------------------------------

    def __enter__(self) -> OutFolder:
        try:
            self._folders[()] = open_dir(self.root, self.root, create=True)
            self._lock = open_in(
                self._folders[()], LOCK, os.O_RDWR | os.O_CREAT, path=self.root / LOCK
            )
            try:
                fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise ExportError(f"another export into {self.root} is running") from None
            self._previous = self._read_manifest()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        for fd in self._folders.values():
            os.close(fd)
        self._folders.clear()
        if self._lock is not None:
            os.close(self._lock)  # and the lock with it
            self._lock = None

    def _folder(self, where: Where, create: bool = True) -> int | None:
        """The descriptor of the folder ``where`` below OUT (made if ``create``; None if
        it is missing and not ``create``)."""
        fd = self._folders.get(where)
        if fd is None:
            try:
                fd = open_dir(self.root, self.root.joinpath(*where), create=create)
            except FileNotFoundError:
                if create:
                    raise
                return None
            self._folders[where] = fd
        return fd

    # -- the files -------------------------------------------------------------------

    def write(self, where: Where, data: bytes) -> None:
        """Make ``where`` hold ``data``: written (through a temporary file) only if it
        holds something else.

        :raises ValueError: ``where`` is not a path of plain names (a bug: the names
            are :func:`~.export.file_name`'s)."""
        if not _valid(where):
            raise ValueError(f"not a file of the export: {where!r}")
        self._made.add(where)
        if self._put(where, data):
            self.written += 1
        else:
            self.unchanged += 1

    def _put(self, where: Where, data: bytes) -> bool:
        folder = self._folder(where[:-1])
        assert folder is not None
        name, path = where[-1], self.root.joinpath(*where)
        try:
            fd = open_in(folder, name, os.O_RDONLY, path=path)
        except FileNotFoundError:
            pass
        else:
            with os.fdopen(fd, "rb") as f:
                if f.read(len(data) + 1) == data:
                    return False
        put_file(folder, name, data)
        return True

    def keep(self, where: Where) -> None:
        """``where`` is left as it is (if it is there): not removed, still listed."""
        if not _valid(where):
            raise ValueError(f"not a file of the export: {where!r}")
        folder = self._folder(where[:-1], create=False)
        if folder is None:
            return
        try:
            os.stat(where[-1], dir_fd=folder, follow_symlinks=False)
        except FileNotFoundError:
            return
        self._made.add(where)

    def finish(self) -> int:
        """Remove the files of the last export not made (nor kept) by this one, the
        folders they leave empty, and the temporary files of an export that died; then
        write the manifest.  The number of files removed."""
        removed = 0
        stale = sorted(self._previous - self._made)
        for where in stale:
            folder = self._folder(where[:-1], create=False)
            if folder is None:
                continue
            try:
                os.unlink(where[-1], dir_fd=folder)  # a link there: the link goes
            except FileNotFoundError:
                continue
            removed += 1
        self._remove_empty({where[:depth] for where in stale for depth in range(1, len(where))})
        self._remove_temps()
        listing = {"version": MANIFEST_VERSION, "files": sorted("/".join(w) for w in self._made)}
        self._put((MANIFEST,), json.dumps(listing, indent=0).encode() + b"\n")
        return removed

    def _remove_empty(self, folders: set[Where]) -> None:
        busy = {where[:depth] for where in self._made for depth in range(1, len(where))}
        for where in sorted(folders - busy, key=len, reverse=True):
            parent = self._folder(where[:-1], create=False)
            if parent is None:
                continue
            fd = self._folders.pop(where, None)
            if fd is not None:
                os.close(fd)
            try:
                os.rmdir(where[-1], dir_fd=parent)
            except OSError as e:
                if e.errno not in (errno.ENOENT, errno.ENOTEMPTY, errno.EEXIST, errno.ENOTDIR):
                    raise

    def _remove_temps(self) -> None:
        names: dict[Where, set[str]] = {}
        for where in self._made:
            names.setdefault(where[:-1], set()).add(where[-1])
        for folder_where, made in names.items():
            folder = self._folders.get(folder_where)
            if folder is None:
                continue
            for entry in os.scandir(folder):
                if not entry.name.endswith(TEMP_SUFFIX):
                    continue
                if any(is_temp_of(entry.name, name) for name in made):
                    try:
                        os.unlink(entry.name, dir_fd=folder)
                    except FileNotFoundError:
                        pass

    def _read_manifest(self) -> set[Where]:
        try:
            fd = open_in(self._folders[()], MANIFEST, os.O_RDONLY, path=self.root / MANIFEST)
        except FileNotFoundError:
            return set()
        with os.fdopen(fd, "rb") as f:
            raw = f.read(MAX_MANIFEST_BYTES + 1)
        try:
            data = json.loads(raw) if len(raw) <= MAX_MANIFEST_BYTES else None
        except ValueError:
            data = None
        if not isinstance(data, dict) or data.get("version") != MANIFEST_VERSION:
            return set()
        files = data.get("files")
        if not isinstance(files, list):
            return set()
        found = {tuple(name.split("/")) for name in files if isinstance(name, str)}
        return {where for where in found if _valid(where) and where[0] not in (MANIFEST, LOCK)}
