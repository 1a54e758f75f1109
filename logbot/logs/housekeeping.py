"""Work on rotated log files: gzip them in child processes, delete expired ones.

*Compression* runs ``gzip`` as a child process on the reactor (``spawnProcess``) rather
than with the ``gzip`` module in the bot's own process: compressing a day of a busy
channel takes long enough to stall the loop, and the loop is what keeps the bot
connected.  At most ``max_children`` (2) gzips run at once, the rest wait in a queue, so
a midnight rotation of a thousand channels does not start a thousand processes.  The
child's environment is minimal (``PATH`` and ``LC_ALL=C``): ``GZIP`` and the like from
the bot's environment must not change how files are compressed.

The child never gets a path: a path is looked up again when the child opens it, and a
symbolic link planted in between (at the channel's folder, at the file) would aim it at
any file of the system.  So the parent opens the file without following a link below the
log root (:mod:`logbot.logs.safe_open`) and hands the child that descriptor as stdin and
a new temporary file (random name, ``O_EXCL|O_NOFOLLOW``) as stdout: the command is
``gzip -n -c`` (or ``python -m gzip`` without a ``gzip`` binary), a filter.  When it
exits with status 0 and wrote something, the parent copies the original's times to the
output (retention goes by mtime, and a rotated file must not look younger for being
compressed), renames it to ``<file>.gz`` and deletes the original -- all through the
folder's descriptor, and the original only if it is still the file that was compressed
(same inode and size).  On any failure the temporary file is removed and the original
kept.

A file whose ``.gz`` already exists (the bot restarted and a late line recreated an old
day's file) is first renamed to a free part name (``2026-01-02.001.log``): the rename
would otherwise replace the old ``.gz`` with the few new lines.

*Retention* (:class:`Retention`, :func:`sweep_retention`) deletes log files last modified
more than ``retention_days`` ago in the directories the writer wrote to, never a file
that is live, open or being compressed.  It runs when a directory is first written to
(so at start), then hourly: a scan of a few directories, cheap enough for the loop.  A
directory is reached without following a link below the log root, listed and cleaned
through its descriptor, and only regular files are deleted: a link planted at a
channel's folder does not get files elsewhere deleted.

A symbolic link met on the way is reported (a warning naming it) and passed to
``on_unsafe_link`` (the writer counts it).
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from logbot.logs import paths, safe_open
from logbot.logs.rotation import is_log_file, retention_cutoff
from logbot.reactor.defer import Deferred, succeed
from logbot.reactor.error import ProcessDone
from logbot.reactor.failure import Failure
from logbot.reactor.protocol import ProcessProtocol

__all__ = ["Compressor", "Retention", "default_gzip_argv", "gz_path", "sweep_retention"]

log = logging.getLogger("logbot.logs.housekeeping")

#: How much of a failing child's stderr goes into the warning.
STDERR_KEPT = 2000
#: Directories retention keeps watching, the least recently written to dropped first:
#: with private logs there is one per correspondent.  A dropped one is swept again
#: when it is next written to (as after a restart).
MAX_WATCHED_DIRS = 4096


def default_gzip_argv() -> list[str]:
    """``gzip -n -c``, or ``python -m gzip`` without gzip: filters, stdin to stdout."""
    gzip = shutil.which("gzip")
    if gzip:
        return [gzip, "-n", "-c"]
    return [sys.executable, "-m", "gzip"]


def gz_path(path: Path) -> Path:
    return path.with_name(path.name + ".gz")


def _child_env() -> dict[str, str]:
    return {"PATH": os.environ.get("PATH") or os.defpath, "LC_ALL": "C"}


class _Job:
    """One file being compressed: its folder's descriptor, the original (its stat, and
    its descriptor until the child has it) and the temporary output."""

    __slots__ = ("dir_fd", "out", "path", "source", "source_fd", "temp")

    def __init__(self, path: Path, dir_fd: int) -> None:
        self.path = path
        self.dir_fd = dir_fd
        self.source_fd = -1
        self.source: os.stat_result | None = None
        self.temp: str | None = None  # the output's name while it is not the .gz
        self.out = -1

    def close(self) -> None:
        """Remove the temporary output if it is still one; close the descriptors."""
        if self.temp is not None:
            try:
                os.unlink(self.temp, dir_fd=self.dir_fd)
            except OSError:
                pass
            self.temp = None
        for name in ("out", "source_fd", "dir_fd"):
            fd = getattr(self, name)
            setattr(self, name, -1)
            if fd >= 0:
                os.close(fd)


class _GzipProtocol(ProcessProtocol):
    """Keeps the start of the child's stderr and reports the end of the child."""

    def __init__(self, job: _Job, done: Callable[[_GzipProtocol, Failure], None]) -> None:
        self.job = job
        self.path = job.path
        self.done = done
        self.stderr = bytearray()

    def connectionMade(self) -> None:
        self.transport.closeStdin()

    def outReceived(self, data: bytes) -> None:
        pass

    def errReceived(self, data: bytes) -> None:
        if len(self.stderr) < STDERR_KEPT:
            self.stderr += data[: STDERR_KEPT - len(self.stderr)]

    def processEnded(self, reason: Failure) -> None:
        self.done(self, reason)


class Compressor:
    """Compresses files one child process each, ``max_children`` at a time.

    ``spawner`` has ``spawnProcess`` (the reactor); None: nothing is compressed, and
    one warning says so.  ``argv`` is a filter (stdin to stdout).  ``root``: no link
    below it is followed (None: below each file's own folder).  ``idle()`` is a Deferred
    that fires when no child runs and none waits (tests run the reactor until then).
    """

    def __init__(
        self,
        spawner: Any,
        argv: Sequence[str] | None = None,
        max_children: int = 2,
        *,
        root: Path | None = None,
        on_unsafe_link: Callable[[safe_open.UnsafeLink], None] | None = None,
    ) -> None:
        self._spawner = spawner
        self.argv = list(argv) if argv is not None else default_gzip_argv()
        self.max_children = max(1, max_children)
        self.root = root
        self._on_unsafe_link = on_unsafe_link
        self._queue: deque[Path] = deque()
        self._running: dict[Path, _GzipProtocol] = {}
        self._waiters: list[Deferred[None]] = []
        self._warned = False
        self.compressed = 0
        self.failed = 0

    def compress(self, path: Path) -> None:
        """Queue ``path`` for compression (once; nothing is done at once)."""
        if self._spawner is None:
            if not self._warned:
                self._warned = True
                log.warning("cannot compress %s (and later files): no reactor to run gzip in", path)
            return
        if path in self._running or path in self._queue:
            return
        self._queue.append(path)
        self._start()

    def busy(self) -> set[Path]:
        """The files queued or being compressed, and their ``.gz``."""
        files = set(self._queue) | set(self._running)
        return files | {gz_path(p) for p in files}

    def idle(self) -> Deferred[None]:
        """A Deferred that fires when nothing is queued or running."""
        if not self._queue and not self._running:
            return succeed(None)
        d: Deferred[None] = Deferred()
        self._waiters.append(d)
        return d

    def _start(self) -> None:
        while self._queue and len(self._running) < self.max_children:
            path = self._queue.popleft()
            job: _Job | None = None
            try:
                job = self._open(path)
                proto = _GzipProtocol(job, self._ended)
                self._running[job.path] = proto
                self._spawner.spawnProcess(
                    proto,
                    self.argv[0],
                    self.argv,
                    env=_child_env(),
                    path=None,
                    childFDs={0: job.source_fd, 1: job.out, 2: "r"},
                )
                os.close(job.source_fd)  # the child has its copy
                job.source_fd = -1
            except OSError as e:
                if job is not None:
                    self._running.pop(job.path, None)
                    job.close()
                self.failed += 1
                self._unsafe(e)
                log.warning("cannot compress %s: %s", path, e.strerror or e)
        self._maybe_idle()

    def _unsafe(self, error: OSError) -> None:
        if isinstance(error, safe_open.UnsafeLink) and self._on_unsafe_link is not None:
            self._on_unsafe_link(error)

    def _open(self, path: Path) -> _Job:
        """Open ``path``'s folder and ``path`` (no link followed below the root), free
        its name if its ``.gz`` exists, and create the temporary output."""
        root = self.root if self.root is not None else path.parent
        job = _Job(path, safe_open.open_dir(root, path.parent))
        try:
            job.source_fd = safe_open.open_in(job.dir_fd, path.name, os.O_RDONLY, path=path)
            job.source = os.fstat(job.source_fd)
            job.path = self._free_name(job.dir_fd, path)
            job.temp, job.out = safe_open.create_temp(job.dir_fd, gz_path(job.path).name)
        except BaseException:
            job.close()
            raise
        return job

    @staticmethod
    def _free_name(dir_fd: int, path: Path) -> Path:
        """``path``, or a free part name it is renamed to if its ``.gz`` exists."""
        if not safe_open.lexists(dir_fd, gz_path(path).name):
            return path
        part = paths.part_path(path, paths.next_part_number(path, os.listdir(dir_fd)))
        os.rename(path.name, part.name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
        log.info("%s already exists: compressing %s as %s", gz_path(path), path, part)
        return part

    def _ended(self, proto: _GzipProtocol, reason: Failure) -> None:
        job = proto.job
        self._running.pop(job.path, None)
        try:
            if isinstance(reason.value, ProcessDone):
                self._finish(job)
            else:
                self.failed += 1
                err = proto.stderr.decode("utf-8", "replace").strip()
                log.warning(
                    "compressing %s failed: %s%s",
                    job.path,
                    reason.value,
                    f" ({err})" if err else "",
                )
        finally:
            job.close()
        self._start()

    def _finish(self, job: _Job) -> None:
        """The child is done: the output becomes the ``.gz``, the original goes."""
        path, source = job.path, job.source
        assert job.temp is not None and source is not None
        try:
            if os.fstat(job.out).st_size == 0:
                raise OSError(f"{gz_path(path)} did not appear (the command wrote nothing)")
            os.utime(job.out, ns=(source.st_atime_ns, source.st_mtime_ns))
            os.rename(job.temp, gz_path(path).name, src_dir_fd=job.dir_fd, dst_dir_fd=job.dir_fd)
            job.temp = None
            try:
                now = os.stat(path.name, dir_fd=job.dir_fd, follow_symlinks=False)
            except FileNotFoundError:
                now = None
            same = (source.st_dev, source.st_ino, source.st_size)
            if now is not None and (now.st_dev, now.st_ino, now.st_size) == same:
                os.unlink(path.name, dir_fd=job.dir_fd)
            elif now is not None:
                log.warning("%s changed while it was compressed: kept next to its .gz", path)
            self.compressed += 1
        except OSError as e:
            self.failed += 1
            log.warning("compressing %s: %s", path, e.strerror or e)

    def _maybe_idle(self) -> None:
        if self._queue or self._running or not self._waiters:
            return
        waiters, self._waiters = self._waiters, []
        for d in waiters:
            d.callback(None)


def sweep_retention(
    cutoffs: Mapping[Path, float],
    protected: Iterable[Path],
    root: Path | None = None,
    on_unsafe_link: Callable[[safe_open.UnsafeLink], None] | None = None,
) -> list[Path]:
    """Delete the log files in each directory last modified before its cutoff.

    ``cutoffs`` maps a directory to a time (seconds since the epoch).  Files in
    ``protected`` and anything that is not a regular log file are left alone.  No link
    below ``root`` is followed to reach a directory (None: each directory is trusted as
    given); one that is is reported and skipped.  Returns the files deleted; errors are
    logged, never raised.
    """
    keep = {os.fspath(p) for p in protected}
    deleted: list[Path] = []
    for directory, cutoff in cutoffs.items():
        try:
            dir_fd = safe_open.open_dir(directory if root is None else root, directory)
        except (FileNotFoundError, NotADirectoryError):
            continue
        except OSError as e:
            if isinstance(e, safe_open.UnsafeLink) and on_unsafe_link is not None:
                on_unsafe_link(e)
            log.warning("retention: cannot list %s: %s", directory, e.strerror or e)
            continue
        try:
            deleted += _sweep_dir(dir_fd, directory, cutoff, keep)
        finally:
            os.close(dir_fd)
    if deleted:
        log.info("retention: deleted %d expired log file(s)", len(deleted))
    return deleted


def _sweep_dir(dir_fd: int, directory: Path, cutoff: float, keep: set[str]) -> list[Path]:
    """One directory of :func:`sweep_retention`, through its descriptor."""
    deleted: list[Path] = []
    try:
        with os.scandir(dir_fd) as it:
            entries = list(it)
    except OSError as e:
        log.warning("retention: cannot list %s: %s", directory, e.strerror or e)
        return deleted
    for entry in entries:
        path = directory / entry.name
        if not is_log_file(entry.name) or os.fspath(path) in keep:
            continue
        try:
            if not entry.is_file(follow_symlinks=False):
                continue
            if entry.stat(follow_symlinks=False).st_mtime >= cutoff:
                continue
            os.unlink(entry.name, dir_fd=dir_fd)
        except FileNotFoundError:
            continue
        except OSError as e:
            log.warning("retention: cannot delete %s: %s", path, e.strerror or e)
            continue
        deleted.append(path)
    return deleted


class Retention:
    """Sweeps the watched directories: each new one at once, all of them every hour.

    ``wall`` gives the time file ages are measured against; ``protected()`` the files
    never to delete (live, open, being compressed).  The timer is on ``clock``.  At most
    ``max_dirs`` directories are watched, the least recently watched dropped first.
    ``root`` and ``on_unsafe_link`` are :func:`sweep_retention`'s.
    """

    def __init__(
        self,
        clock: Any,
        wall: Callable[[], float],
        protected: Callable[[], set[Path]],
        interval: float = 3600.0,
        max_dirs: int = MAX_WATCHED_DIRS,
        *,
        root: Path | None = None,
        on_unsafe_link: Callable[[safe_open.UnsafeLink], None] | None = None,
    ) -> None:
        self._clock = clock
        self._wall = wall
        self._protected = protected
        self._root = root
        self._on_unsafe_link = on_unsafe_link
        self.interval = interval
        self.max_dirs = max(1, max_dirs)
        self.dirs: OrderedDict[Path, float] = OrderedDict()  # directory -> days, LRU first
        self._call: Any = None

    def watch(self, directory: Path, days: float) -> None:
        """Keep ``directory``'s files at most ``days`` old (the smallest ``days`` wins)."""
        known = self.dirs.get(directory)
        if known is not None:
            self.dirs.move_to_end(directory)
            if known <= days:
                return
        elif len(self.dirs) >= self.max_dirs:
            self.dirs.popitem(last=False)
        self.dirs[directory] = days
        if known is None:
            self._sweep({directory: days})
        if self._call is None:
            self._call = self._clock.callLater(self.interval, self._hourly)

    def sweep(self) -> list[Path]:
        """Sweep every watched directory now; returns the files deleted."""
        return self._sweep(self.dirs)

    def stop(self) -> None:
        if self._call is not None and self._call.active():
            self._call.cancel()
        self._call = None

    def _hourly(self) -> None:
        self._call = self._clock.callLater(self.interval, self._hourly)
        self.sweep()

    def _sweep(self, dirs: Mapping[Path, float]) -> list[Path]:
        now = self._wall()
        cutoffs = {d: retention_cutoff(now, days) for d, days in dirs.items()}
        return sweep_retention(cutoffs, self._protected(), self._root, self._on_unsafe_link)
