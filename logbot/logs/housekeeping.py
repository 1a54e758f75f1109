"""Work on rotated log files: gzip them in child processes, delete expired ones.

*Compression* runs ``gzip`` as a child process on the reactor (``spawnProcess``) rather
than with the ``gzip`` module in the bot's own process: compressing a day of a busy
channel takes long enough to stall the loop, and the loop is what keeps the bot
connected.  At most ``max_children`` (2) gzips run at once, the rest wait in a queue, so
a midnight rotation of a thousand channels does not start a thousand processes.  The
child's environment is minimal (``PATH`` and ``LC_ALL=C``): ``GZIP`` and the like from
the bot's environment must not change how files are compressed.

Without a ``gzip`` binary the command is ``python -m gzip FILE``, which keeps the
original; so after any command exits with status 0, an original that is still there
next to its ``.gz`` is deleted, after copying its mtime to the ``.gz`` (retention goes
by mtime, and a rotated file must not look younger for being compressed).

A file whose ``.gz`` already exists (the bot restarted and a late line recreated an old
day's file) is first renamed to a free part name (``2026-01-02.001.log``): ``gzip -f``
would otherwise replace the old ``.gz`` with the few new lines.

*Retention* (:class:`Retention`, :func:`sweep_retention`) deletes log files last modified
more than ``retention_days`` ago in the directories the writer wrote to, never a file
that is live, open or being compressed.  It runs when a directory is first written to
(so at start), then hourly: a scan of a few directories, cheap enough for the loop.
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

from logbot.logs import paths
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
    """``gzip -n -f --`` (the file is appended), or ``python -m gzip`` without gzip."""
    gzip = shutil.which("gzip")
    if gzip:
        return [gzip, "-n", "-f", "--"]
    return [sys.executable, "-m", "gzip"]


def gz_path(path: Path) -> Path:
    return path.with_name(path.name + ".gz")


def _child_env() -> dict[str, str]:
    return {"PATH": os.environ.get("PATH") or os.defpath, "LC_ALL": "C"}


class _GzipProtocol(ProcessProtocol):
    """Keeps the start of the child's stderr and reports the end of the child."""

    def __init__(self, path: Path, done: Callable[[_GzipProtocol, Failure], None]) -> None:
        self.path = path
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
    one warning says so.  ``idle()`` is a Deferred that fires when no child runs and
    none waits (tests run the reactor until then).
    """

    def __init__(
        self, spawner: Any, argv: Sequence[str] | None = None, max_children: int = 2
    ) -> None:
        self._spawner = spawner
        self.argv = list(argv) if argv is not None else default_gzip_argv()
        self.max_children = max(1, max_children)
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
            try:
                path = self._free_name(path)
                proto = _GzipProtocol(path, self._ended)
                self._running[path] = proto
                argv = [*self.argv, os.fspath(path)]
                self._spawner.spawnProcess(proto, argv[0], argv, env=_child_env(), path=None)
            except OSError as e:
                self._running.pop(path, None)
                self.failed += 1
                log.warning("cannot compress %s: %s", path, e.strerror or e)
        self._maybe_idle()

    @staticmethod
    def _free_name(path: Path) -> Path:
        """``path``, or a free part name it is renamed to if its ``.gz`` exists."""
        if not os.path.lexists(gz_path(path)):
            return path
        part = paths.part_path(path, paths.next_part_number(path))
        os.rename(path, part)
        log.info("%s already exists: compressing %s as %s", gz_path(path), path, part)
        return part

    def _ended(self, proto: _GzipProtocol, reason: Failure) -> None:
        path = proto.path
        self._running.pop(path, None)
        if isinstance(reason.value, ProcessDone):
            self._finish(path)
        else:
            self.failed += 1
            err = proto.stderr.decode("utf-8", "replace").strip()
            log.warning(
                "compressing %s failed: %s%s", path, reason.value, f" ({err})" if err else ""
            )
        self._start()

    def _finish(self, path: Path) -> None:
        gz = gz_path(path)
        try:
            if os.path.lexists(path):
                if not os.path.exists(gz):
                    raise FileNotFoundError(f"{gz} did not appear")
                st = os.stat(path)
                os.utime(gz, ns=(st.st_atime_ns, st.st_mtime_ns))
                os.unlink(path)
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


def sweep_retention(cutoffs: Mapping[Path, float], protected: Iterable[Path]) -> list[Path]:
    """Delete the log files in each directory last modified before its cutoff.

    ``cutoffs`` maps a directory to a time (seconds since the epoch).  Files in
    ``protected`` and anything that is not a regular log file are left alone.  Returns
    the files deleted; errors are logged, never raised.
    """
    keep = {os.fspath(p) for p in protected}
    deleted: list[Path] = []
    for directory, cutoff in cutoffs.items():
        try:
            entries = list(os.scandir(directory))
        except FileNotFoundError:
            continue
        except OSError as e:
            log.warning("retention: cannot list %s: %s", directory, e.strerror or e)
            continue
        for entry in entries:
            if not is_log_file(entry.name) or entry.path in keep:
                continue
            try:
                if not entry.is_file(follow_symlinks=False):
                    continue
                if entry.stat(follow_symlinks=False).st_mtime >= cutoff:
                    continue
                os.unlink(entry.path)
            except FileNotFoundError:
                continue
            except OSError as e:
                log.warning("retention: cannot delete %s: %s", entry.path, e.strerror or e)
                continue
            deleted.append(Path(entry.path))
    if deleted:
        log.info("retention: deleted %d expired log file(s)", len(deleted))
    return deleted


class Retention:
    """Sweeps the watched directories: each new one at once, all of them every hour.

    ``wall`` gives the time file ages are measured against; ``protected()`` the files
    never to delete (live, open, being compressed).  The timer is on ``clock``.  At most
    ``max_dirs`` directories are watched, the least recently watched dropped first.
    """

    def __init__(
        self,
        clock: Any,
        wall: Callable[[], float],
        protected: Callable[[], set[Path]],
        interval: float = 3600.0,
        max_dirs: int = MAX_WATCHED_DIRS,
    ) -> None:
        self._clock = clock
        self._wall = wall
        self._protected = protected
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
        return sweep_retention(cutoffs, self._protected())
