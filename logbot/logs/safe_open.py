"""Opening files below a trusted folder without following a symbolic link.

Why: the bot writes where channel names say, often as root, in folders other people
may write to.  A link planted at ``logs/<net>/#chan`` (a folder) or at
``logs/<net>/#chan/<date>.log`` (a file) made it append an IRC user's line to a shell
script, and the torn-line repair truncate a binary; the plugin store's temporary file,
opened with ``O_TRUNC`` at a fixed name, could replace any file.  Checking a path and
then opening it leaves a window in which the link can be planted; so nothing below the
folder is ever looked up by its full path:

* The *root* (the log root, ``data_dir``) is the administrator's: it may itself be a
  link (``/var/log/logbot -> /srv/logs``), and the path up to it is followed.
* Every folder below it is opened one component at a time, relative to the descriptor
  of the one above (``openat``), with ``O_DIRECTORY|O_NOFOLLOW``, and created with
  ``mkdirat`` where missing (:func:`open_dir`).
* The file last, with ``O_NOFOLLOW`` (:func:`open_file`, :func:`open_in`); and it must
  be a regular file: a FIFO planted there would block a read (opens carry
  ``O_NONBLOCK``, which regular files ignore) or take the lines.
* Renames, deletions and listings go through the folder's descriptor
  (``rename(..., src_dir_fd=, dst_dir_fd=)``, ``unlink(name, dir_fd=)``,
  ``scandir(fd)``); none of them follows a link in the last component either.
* A temporary file gets a random name and ``O_CREAT|O_EXCL|O_NOFOLLOW``
  (:func:`create_temp`): it is always a new file of ours.

A component that is a symbolic link raises :class:`UnsafeLink`, an ``OSError``
(``ELOOP``) whose message names the link: callers handle it like any other error of
that file (the log writer keeps the lines and retries) and may count it.
"""

from __future__ import annotations

import errno
import os
import secrets
import stat
from pathlib import Path

__all__ = [
    "DIR_MODE",
    "FILE_MODE",
    "TEMP_SUFFIX",
    "NotRegularFile",
    "UnsafeLink",
    "create_temp",
    "put_file",
    "is_temp_of",
    "lexists",
    "open_dir",
    "open_file",
    "open_in",
    "parts_below",
    "write_all",
]

FILE_MODE = 0o644
DIR_MODE = 0o755
#: What ends the name of a temporary file of :func:`create_temp`: ``.<name>.<16 hex>.tmp``.
TEMP_SUFFIX = ".tmp"
_TEMP_TOKEN_BYTES = 8
_TEMP_TRIES = 8  # random names tried before giving up (a collision is 2**-64)
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE_FLAGS = os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK


class UnsafeLink(OSError):
    """A component below the trusted root is a symbolic link: it is not followed."""

    def __init__(self, path: Path | str) -> None:
        super().__init__(errno.ELOOP, f"{path} is a symbolic link (never followed below the root)")
        self.filename = os.fspath(path)


class NotRegularFile(OSError):
    """A log or store path that is not a regular file (a FIFO, a device, a folder)."""

    def __init__(self, path: Path | str) -> None:
        super().__init__(errno.EINVAL, f"{path} is not a regular file")
        self.filename = os.fspath(path)


def parts_below(root: Path, path: Path) -> tuple[str, ...]:
    """The components of ``path`` below ``root`` (both absolute, or both relative).

    :raises ValueError: ``path`` is not below ``root`` or has an empty, ``.`` or ``..``
        component (the names are built by :mod:`logbot.logs.paths`, which never makes
        one: this is a guard).
    """
    top, below = os.fspath(root), os.fspath(path)
    prefix = top if top.endswith("/") else top + "/"
    if below.startswith(prefix):  # the usual case, without pathlib (a log file's open)
        parts = tuple(below[len(prefix) :].split("/"))
    elif below == top:
        parts = ()
    else:
        parts = Path(path).relative_to(root).parts
    for part in parts:
        if part in ("", ".", "..") or "/" in part:
            raise ValueError(f"{path} has a {part!r} component")
    return parts


def _is_link(dir_fd: int, name: str) -> bool:
    try:
        return stat.S_ISLNK(os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode)
    except OSError:
        return False


def _open_root(root: Path, create: bool, mode: int) -> int:
    """The root, following links on the way to it (the administrator's path)."""
    try:
        return os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except FileNotFoundError:
        if not create:
            raise
    os.makedirs(root, mode, exist_ok=True)
    return os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)


def open_dir(root: Path, directory: Path, *, create: bool = False, mode: int = DIR_MODE) -> int:
    """A descriptor of ``directory`` (``root`` or a folder below it), no link followed
    below ``root``; missing folders are created (``mode``) when ``create``.

    :raises UnsafeLink: a component below ``root`` is a symbolic link.
    :raises FileNotFoundError: a component is missing (and not ``create``).
    :raises NotADirectoryError: a component is something else than a folder.
    """
    parts = parts_below(root, directory)
    fd = _open_root(root, create, mode)
    try:
        for index, name in enumerate(parts):
            try:
                sub = os.open(name, _DIR_FLAGS, dir_fd=fd)
            except FileNotFoundError:
                if not create:
                    raise
                try:
                    os.mkdir(name, mode, dir_fd=fd)
                except FileExistsError:
                    pass  # made meanwhile (or a link planted meanwhile: found next)
                sub = _open_sub(fd, name, root, parts[: index + 1])
            except OSError as e:
                if e.errno in (errno.ENOTDIR, errno.ELOOP) and _is_link(fd, name):
                    raise UnsafeLink(root.joinpath(*parts[: index + 1])) from None
                raise
            os.close(fd)
            fd = sub
    except BaseException:
        os.close(fd)
        raise
    return fd


def _open_sub(fd: int, name: str, root: Path, parts: tuple[str, ...]) -> int:
    try:
        return os.open(name, _DIR_FLAGS, dir_fd=fd)
    except OSError as e:
        if e.errno in (errno.ENOTDIR, errno.ELOOP) and _is_link(fd, name):
            raise UnsafeLink(root.joinpath(*parts)) from None
        raise


def open_in(dir_fd: int, name: str, flags: int, mode: int = FILE_MODE, *, path: Path) -> int:
    """Open the regular file ``name`` in the folder ``dir_fd`` without following a link
    (``path`` names it in errors).  ``O_NONBLOCK`` is added: a FIFO must not block the
    open, and is then refused like anything that is not a regular file.

    :raises UnsafeLink: ``name`` is a symbolic link.
    :raises NotRegularFile: it is not a regular file.
    """
    try:
        fd = os.open(name, flags | _FILE_FLAGS, mode, dir_fd=dir_fd)
    except OSError as e:
        refused = e.errno == errno.ELOOP or (e.errno == errno.EEXIST and flags & os.O_EXCL)
        if refused and _is_link(dir_fd, name):
            raise UnsafeLink(path) from None
        raise
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise NotRegularFile(path)
        if not flags & os.O_NONBLOCK:  # only for the open: writes stay as asked
            os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd


def open_file(
    root: Path,
    path: Path,
    flags: int,
    mode: int = FILE_MODE,
    *,
    dir_mode: int = DIR_MODE,
) -> int:
    """Open the regular file ``path`` below ``root``, following no link below ``root``;
    with ``O_CREAT`` in ``flags`` the missing folders are created too (``dir_mode``).

    :raises UnsafeLink: a folder or the file is a symbolic link.
    :raises NotRegularFile: the file is not a regular file.
    """
    dir_fd = open_dir(root, path.parent, create=bool(flags & os.O_CREAT), mode=dir_mode)
    try:
        return open_in(dir_fd, path.name, flags, mode, path=path)
    finally:
        os.close(dir_fd)


def create_temp(dir_fd: int, name: str, mode: int = FILE_MODE) -> tuple[str, int]:
    """A new empty file next to ``name`` in the folder ``dir_fd``, opened for writing:
    ``(its name, its descriptor)``.  Random name, ``O_EXCL|O_NOFOLLOW``: never an
    existing file, never through a link planted at a predictable name."""
    for _ in range(_TEMP_TRIES):
        temp = f".{name}.{secrets.token_hex(_TEMP_TOKEN_BYTES)}{TEMP_SUFFIX}"
        try:
            fd = os.open(
                temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _FILE_FLAGS, mode, dir_fd=dir_fd
            )
        except FileExistsError:
            continue
        os.set_blocking(fd, True)  # O_NONBLOCK was for the open only
        return temp, fd
    raise FileExistsError(errno.EEXIST, f"no free temporary name for {name}")


def write_all(fd: int, data: bytes) -> None:
    """All of ``data`` to ``fd`` (a regular file: ``write`` may still take less)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def put_file(
    dir_fd: int,
    name: str,
    data: bytes,
    *,
    mode: int = FILE_MODE,
    sync: bool = False,
    replace: bool = True,
) -> None:
    """``data`` as the file ``name`` in the folder ``dir_fd``, whole or not at all: a new
    temporary file (:func:`create_temp`), written (and synced with ``sync``), then
    renamed over ``name`` (``replace``) or linked to it (not ``replace``:
    ``FileExistsError`` if ``name`` is there, never replaced).  The temporary file
    never stays.  Syncing the folder, so that the rename survives a crash, is the
    caller's: they differ in what its failure means."""
    temp, fd = create_temp(dir_fd, name, mode)
    try:
        try:
            write_all(fd, data)
            if sync:
                os.fsync(fd)
        finally:
            os.close(fd)
        if replace:
            os.replace(temp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
        else:
            os.link(temp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd, follow_symlinks=False)
            os.unlink(temp, dir_fd=dir_fd)
    except BaseException:
        try:
            os.unlink(temp, dir_fd=dir_fd)
        except OSError:
            pass
        raise


def is_temp_of(temp: str, name: str) -> bool:
    """Whether ``temp`` is a name :func:`create_temp` gives for ``name``."""
    prefix = f".{name}."
    token = temp[len(prefix) : -len(TEMP_SUFFIX)]
    return (
        temp.startswith(prefix)
        and temp.endswith(TEMP_SUFFIX)
        and len(token) == 2 * _TEMP_TOKEN_BYTES
        and all(c in "0123456789abcdef" for c in token)
    )


def lexists(dir_fd: int, name: str) -> bool:
    """Whether ``name`` exists in the folder ``dir_fd``, a link counting as itself."""
    try:
        os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return False
    return True
