"""The store's file work that is not the store's state: writing its pieces, and the
forked child that saves a big store off the loop (see :mod:`logbot.plugins.store`).

Apart from :class:`~logbot.plugins.store.Store` because it runs in another process
(the child never returns to the bot's code) and touches only ``os``: keeping it here
keeps what may run after ``fork()`` in one short, reviewable place.
"""

from __future__ import annotations

import os
import signal
from typing import Any, NoReturn

__all__ = ["CHILD_FAILED", "Child", "child_save", "listdir", "sync_dir", "unlink", "write_pieces"]

#: A saving child's exit status for a failure that is not an OSError.
CHILD_FAILED = 255
_SIGNALS = ("SIGINT", "SIGTERM", "SIGHUP", "SIGUSR1", "SIGUSR2", "SIGCHLD")


class Child:
    """A forked child saving a store: its pid, the folder and the temporary file."""

    __slots__ = ("call", "dir_fd", "pid", "temp")

    def __init__(self, pid: int, dir_fd: int, temp: str) -> None:
        self.pid = pid
        self.dir_fd = dir_fd
        self.temp = temp
        self.call: Any = None  # the poll timer

    def finish(self, done: bool) -> None:
        """The child ended: unless it ``done`` its rename, remove its temporary file."""
        call, self.call = self.call, None
        if call is not None and call.active():
            call.cancel()
        if not done:
            unlink(self.dir_fd, self.temp)
        os.close(self.dir_fd)


def child_save(items: dict[str, bytes], out: int, dir_fd: int, temp: str, name: str) -> NoReturn:
    """In the forked child: write the pieces to ``out`` (the temporary file ``temp``),
    fsync, rename it to ``name``, fsync the folder, and leave with ``os._exit``: status 0,
    the errno of an ``OSError``, or 255.  Never returns, never runs the bot's code."""
    status = CHILD_FAILED
    try:
        try:  # the bot's handlers would act on the bot's behalf (a SIGTERM must kill)
            signal.set_wakeup_fd(-1)
            for sig in _SIGNALS:
                if hasattr(signal, sig):
                    signal.signal(getattr(signal, sig), signal.SIG_DFL)
        except (ValueError, OSError):
            pass
        write_pieces(out, list(items.values()))
        os.fsync(out)
        os.replace(temp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
        sync_dir(dir_fd)
        status = 0
    except OSError as e:
        status = e.errno if e.errno and 0 < e.errno < CHILD_FAILED else CHILD_FAILED
    except BaseException:
        status = CHILD_FAILED
    finally:
        os._exit(status)


def write_pieces(fd: int, pieces: list[bytes]) -> None:
    """Write ``{``, the pieces (the first without its comma) and ``}\\n`` to ``fd``."""
    if pieces:
        pieces[0] = pieces[0][1:]
    data = memoryview(b"".join([b"{", *pieces, b"}\n"]))
    while data:
        data = data[os.write(fd, data) :]


def sync_dir(dir_fd: int) -> None:
    """The rename itself survives a crash once the folder is synced (best effort)."""
    try:
        os.fsync(dir_fd)
    except OSError:
        pass


def unlink(dir_fd: int, name: str) -> None:
    try:
        os.unlink(name, dir_fd=dir_fd)
    except OSError:
        pass


def listdir(dir_fd: int) -> list[str]:
    try:
        return os.listdir(dir_fd)
    except OSError:
        return []
