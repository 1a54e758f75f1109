"""A small persistent key-value store per plugin and network: one JSON file each.

Why it is shaped as it is:

* *Values are JSON, checked at once.*  ``set()`` serialises the value there and then, so
  a value that cannot be saved (a set, an object, NaN, a cycle) fails in the plugin that
  stored it, with a ``TypeError`` or ``ValueError``, and the store is unchanged;
  nothing fails later in a flush that the plugin never sees.  What is kept is that JSON
  text, so ``get()`` returns a fresh copy each time: mutating a returned dict or list
  changes nothing until it is ``set()`` again, and a value comes back as JSON gives it
  (tuples as lists, the keys of a dict as strings).
* *Bounded.*  The file is at most ``max_bytes`` (:data:`MAX_BYTES`, 16 MiB).  Keys are
  kept in the order they were last set, and a plugin that remembers something per
  speaker calls ``limit(max_keys)``: then a ``set()`` past ``max_keys`` keys or past
  ``max_bytes`` forgets the least recently set keys instead of failing (``seen`` keeps
  the nicks most recently seen; unbounded, its full store raised for 97 of 100 new
  speakers).  Without a limit, a ``set()`` past ``max_bytes`` is refused.
* *Writes are batched.*  A change schedules one write ``flush_delay`` seconds later on
  the clock (the reactor, a ``task.Clock`` in tests), so a plugin that counts every line
  costs one write per ``flush_delay``, not one per line.  The write is the whole file to
  a new temporary file next to it, fsync-ed, then renamed over the file: a crash leaves
  the old or the new file, never half of one.
* *A save costs the loop little.*  Each key is kept as its piece of the file, the bytes
  ``,"key":value``, so writing the file is a join.  A file of :data:`CHILD_SAVE_BYTES`
  or more is written by a child: ``os.fork()``, and the child (which has the pieces as
  they are at that instant, copy-on-write) writes them to the temporary file, fsyncs
  it, renames it over the file, fsyncs the folder and ``_exit``\\ s; the loop polls for
  its end every :data:`REAP_INTERVAL` on the clock.  Why a fork and not a spawned
  program fed through a pipe: the fork copies no data (under a millisecond for a
  100 MiB process), while 16 MiB through a pipe was 15-25 ms of the loop, about what
  the issue allowed in all; and writing and fsyncing 16 MiB in the loop took 57-182 ms.
  The child does nothing but ``os`` calls on descriptors it was given and a join of
  bytes (no lock another thread may hold, no logging, no reactor): it resets the
  signals the bot handles, and leaves by ``os._exit`` whatever happens, its status the
  errno of a failure.  One child per store at a time; :meth:`Store.close` waits for it
  (``waitpid``) before its own last write, so an older file never lands on a newer one.
  A smaller file, or any file when ``fork`` fails, is written in the loop.
* *Errors lose nothing.*  A write that fails (disk full, read-only, a child that failed)
  is logged once per kind of error, counted in :attr:`Store.write_errors` and retried
  ``flush_delay`` later, the data kept in memory.  A file that is not a JSON object is
  renamed aside to ``<name>.corrupt-<unix time>`` for a human to look at, and the store
  starts empty.
* *No symbolic link is followed below* ``data_dir`` (:mod:`logbot.logs.safe_open`): the
  folders are walked with ``O_NOFOLLOW``, the file is read with it, the temporary file
  has a random name and ``O_EXCL|O_NOFOLLOW`` (a link planted at the fixed
  ``<name>.tmp`` made the store replace any file), renames go through the folder's
  descriptor.  A link at the file itself is set aside like a corrupt file; one at a
  folder blocks the store (read nothing, replace nothing) with an error.  Temporary
  files a crash left are removed when the store is read.
* *Lazy.*  The file is read at the first access, not when the bot starts.

:class:`Stores` names the files: ``<data_dir>/<network>/<plugin>.json`` (without a
network ``<data_dir>/<plugin>.json``), both names escaped with
:func:`~logbot.logs.paths.escape_component` and checked with
:func:`~logbot.logs.paths.resolve_under`, so no name leaves ``data_dir``.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from logbot.logs import paths, safe_open
from logbot.plugins.store_codec import encode as _encode
from logbot.plugins.store_codec import file_size as _file_size
from logbot.plugins.store_codec import piece as _piece
from logbot.plugins.store_codec import value as _value
from logbot.plugins.store_files import (
    CHILD_FAILED,
    Child,
    child_save,
    listdir,
    sync_dir,
    unlink,
    write_pieces,
)
from logbot.reactor.defer import Deferred, succeed

__all__ = [
    "CHILD_SAVE_BYTES",
    "EVICT_SHARE",
    "LATER_MAX",
    "MAX_BYTES",
    "REAP_INTERVAL",
    "Store",
    "Stores",
]

log = logging.getLogger("logbot.plugins.store")

#: The largest file a store may have (``set()`` past it is refused, or forgets the
#: least recently set keys after ``limit()``).
MAX_BYTES = 16 * 1024 * 1024
#: A file this large or larger is written by a forked child; a smaller one in the loop,
#: where 256 KiB are written and fsynced in a millisecond or two.
CHILD_SAVE_BYTES = 256 * 1024
#: Seconds between looks (``waitpid`` with ``WNOHANG``) for the end of a saving child.
REAP_INTERVAL = 0.05
#: A store over its ``limit()`` forgets this share of it at once (1 %, at least a key).
EVICT_SHARE = 0.01
#: At most this many ``set_later()`` values wait to be encoded (the next one encodes
#: them all): what a flood of new speakers can hold between two saves.
LATER_MAX = 1024
_DIR_MODE = 0o777  # less the umask, as mkdir makes them
_FILE_MODE = 0o644


class Store:
    """A mapping of str keys to JSON values, kept in the file ``path``.

    ``root``: no symbolic link below it is followed (default: ``path``'s folder).
    ``child_save_bytes``: a file at least this large is written by a forked child (None:
    always in the loop).
    """

    def __init__(
        self,
        path: Path,
        clock: Any,
        *,
        flush_delay: float = 5.0,
        max_bytes: int = MAX_BYTES,
        wall: Callable[[], float] = time.time,
        root: Path | None = None,
        child_save_bytes: int | None = CHILD_SAVE_BYTES,
    ) -> None:
        self.path = Path(path)
        self.flush_delay = flush_delay
        self.max_bytes = max_bytes
        self.max_keys: int | None = None  # see limit()
        self.child_save_bytes = child_save_bytes
        self.write_errors = 0  # failed writes of the file
        self.evicted = 0  # keys forgotten to stay under the limits
        self.child_saves = 0  # saves written by a child
        self._root = self.path.parent if root is None else Path(root)
        self._clock = clock
        self._wall = wall  # names a corrupt file set aside
        # key -> its piece of the file, b',"key":value' (the first piece's comma is left
        # out when written), least recently set first: the dict's order (an OrderedDict
        # walked 20 times slower)
        self._items: dict[str, bytes] | None = None
        self._sum = 0  # bytes of the pieces
        self._dirty = False
        self._call: Any = None
        self._failing: set[str] = set()  # kinds of write error logged in this outage
        self._blocked = False  # an unreadable file could not be set aside: never replace it
        self._child: Child | None = None  # the child writing the file now
        self._waiters: list[Deferred[None]] = []
        self._said_full = False
        self._said_fork = False
        self._closed = False
        # set_later()'s values, not yet encoded: key -> value, least recently set first
        self._later: dict[str, Any] = {}
        self.dropped = 0  # set_later() values that turned out not to be JSON

    # -- reading ----------------------------------------------------------------------

    def get(self, key: str, default: Any = None) -> Any:
        """A copy of the value of ``key``, or ``default``."""
        piece = self._data().get(key) if isinstance(key, str) else None
        return default if piece is None else _value(key, piece)

    def __getitem__(self, key: str) -> Any:
        piece = self._data().get(key) if isinstance(key, str) else None
        if piece is None:
            raise KeyError(key)
        return _value(key, piece)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key in self._data()

    @property
    def size(self) -> int:
        """The size in bytes of the file as it is written now (``max_bytes`` bounds it)."""
        self._data()
        return _file_size(self._sum)

    @property
    def saving(self) -> bool:
        """Whether a child is writing the file now."""
        return self._child is not None

    def __len__(self) -> int:
        return len(self._data())

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._data()))

    def keys(self) -> list[str]:
        """The keys, least recently set first."""
        return list(self._data())

    def items(self) -> list[tuple[str, Any]]:
        """``(key, copy of the value)`` pairs, least recently set first."""
        return [(k, _value(k, piece)) for k, piece in self._data().items()]

    # -- changing ---------------------------------------------------------------------

    def limit(self, max_keys: int | None) -> None:
        """Keep at most ``max_keys`` keys (None: no limit but ``max_bytes``).  With a
        limit, ``set()`` never fails for size: past ``max_keys``, or past ``max_bytes``,
        the least recently set keys are forgotten.  Cheap to call before every ``set()``.
        """
        if max_keys == self.max_keys:
            return
        if max_keys is not None and max_keys < 1:
            raise ValueError(f"a store keeps at least 1 key, not {max_keys}")
        self.max_keys = max_keys
        if self._items is not None and self._evict():
            self._changed()

    def set(self, key: str, value: Any) -> None:
        """Keep ``value`` (a copy) under ``key``, as the most recently set key.

        :raises TypeError: ``key`` is not a str, or ``value`` is not JSON-serialisable.
        :raises ValueError: ``value`` cannot be JSON (NaN, a cycle), or the file would
            pass ``max_bytes`` (with a :meth:`limit`: only if this key alone would).
            The store is unchanged.
        """
        if not isinstance(key, str):
            raise TypeError(f"store keys are str, not {type(key).__name__}")
        later = self._later
        if later and key in later:
            del later[key]  # this value is newer
        piece = _piece(key, _encode(value))
        items = self._items if self._items is not None else self._data()
        old = items.get(key)
        total = self._sum + len(piece) - (0 if old is None else len(old))
        # _file_size(total) > max_bytes, written out (this runs for every line a
        # plugin like seen remembers)
        over = 3 + max(0, total - 1) > self.max_bytes
        max_keys = self.max_keys
        if over and (max_keys is None or _file_size(len(piece)) > self.max_bytes):
            raise ValueError(f"the store {self.path} would pass {self.max_bytes} bytes")
        if old is not None:
            del items[key]  # to the end: the most recently set
        items[key] = piece
        self._sum = total
        if max_keys is not None and (over or len(items) > max_keys):
            self._evict()
        self._changed()

    __setitem__ = set

    def set_later(self, key: str, value: Any) -> None:
        """:meth:`set`, with the value encoded at the next save or read of the store
        rather than now: for a plugin that sets a key on every channel line (``seen``),
        most of whose values are replaced before the file is written.

        The caller must not change ``value`` afterwards, and must only pass values JSON
        can write (a dict of str, int, finite float, bool, None...): one that turns out
        not to be is dropped then, logged and counted in :attr:`dropped`, since there is
        no caller left to raise to.  At most :data:`LATER_MAX` values wait; the next one
        encodes them all.  A read (``get``, ``keys``, ``len``...) sees them as set.

        :raises TypeError: ``key`` is not a str.
        """
        if not isinstance(key, str):
            raise TypeError(f"store keys are str, not {type(key).__name__}")
        later = self._later
        if key in later:
            del later[key]  # to the end: the most recently set
        later[key] = value
        if len(later) >= LATER_MAX:
            self._settle()
        self._changed()

    def _settle(self) -> None:
        """Encode and keep the values :meth:`set_later` left waiting, oldest first."""
        later, self._later = self._later, {}
        if self._items is None:
            self._data()
        for key, value in later.items():
            try:
                self.set(key, value)
            except (TypeError, ValueError) as e:
                self.dropped += 1
                log.error("the store %s: dropped the value of %r: %s", self.path, key, e)

    def delete(self, key: str) -> None:
        """Forget ``key``; a missing key is no error."""
        if not isinstance(key, str):
            raise TypeError(f"store keys are str, not {type(key).__name__}")
        old = self._data().pop(key, None)
        if old is not None:
            self._sum -= len(old)
            self._changed()

    def __delitem__(self, key: str) -> None:
        self.delete(key)

    def _evict(self) -> int:
        """Forget the least recently set keys past ``max_keys`` and ``max_bytes``.

        Past ``max_keys``, :data:`EVICT_SHARE` of it goes at once (at least one key):
        finding the oldest key of a dict walks past the slots its deleted keys left,
        so a key at a time would cost a walk per new speaker in a full store.  The most
        recently set key always stays."""
        items = self._items
        if self.max_keys is None or items is None:
            return 0
        over_keys = len(items) - self.max_keys
        over_bytes = _file_size(self._sum) - self.max_bytes
        if over_keys <= 0 and over_bytes <= 0:
            return 0
        need = over_keys + max(1, int(self.max_keys * EVICT_SHARE)) - 1 if over_keys > 0 else 0
        victims: list[str] = []
        freed = 0
        most = len(items) - 1
        for key, piece in items.items():
            if (len(victims) >= need and freed >= over_bytes) or len(victims) >= most:
                break
            victims.append(key)
            freed += len(piece)
        for key in victims:
            del items[key]
        self._sum -= freed
        self.evicted += len(victims)
        if victims and not self._said_full:
            self._said_full = True
            log.info(
                "the store %s is full (%d keys, %d bytes): forgetting the least recently"
                " set keys (said once)",
                self.path,
                len(items),
                _file_size(self._sum),
            )
        return len(victims)

    # -- the file ---------------------------------------------------------------------

    def flush(self) -> None:
        """Write the file now if anything changed (a large one in a child, which may
        still be writing on return: :attr:`saving`, :meth:`idle`); on an error, retry
        later."""
        self._save(in_loop=False)

    def close(self) -> None:
        """Wait for a child still saving, write what changed since in the loop (whatever
        the size), and stop the timers."""
        self._closed = True
        self.wait()
        self._save(in_loop=True)
        self._cancel()
        if self._dirty:
            log.error(
                "the store %s could not be saved: %d key(s) lost", self.path, len(self._items or ())
            )

    def wait(self) -> None:
        """Block until the child saving the file (if any) is done, and take its result.
        For :meth:`close` (where the loop no longer matters) and tests."""
        child = self._child
        if child is None:
            return
        try:
            _, status = os.waitpid(child.pid, 0)
        except ChildProcessError:
            status = -1
        self._ended(child, status)

    def idle(self) -> Deferred[None]:
        """A Deferred that fires when no child is saving the file (found by the timer)."""
        if self._child is None:
            return succeed(None)
        d: Deferred[None] = Deferred()
        self._waiters.append(d)
        return d

    def _save(self, in_loop: bool) -> None:
        self._cancel()
        if self._later:
            self._settle()
        if not self._dirty or self._items is None or self._child is not None:
            return  # nothing to do, or the end of the child's save schedules the next
        try:
            if self._blocked:
                raise PermissionError(
                    f"{self.path} could not be read or set aside; not replacing it"
                )
            self._dirty = False
            if in_loop or not self._in_child():
                self._write()
        except OSError as e:
            self._dirty = True
            self._failed(e)
            return
        if self._child is None:
            self._saved()

    def _failed(self, e: OSError) -> None:
        self.write_errors += 1
        kind = type(e).__name__ if e.errno is None else f"errno {e.errno}"
        if kind not in self._failing:
            self._failing.add(kind)
            log.warning(
                "cannot save the store %s (kept in memory, retrying every %gs): %s",
                self.path,
                self.flush_delay,
                e.strerror or e,
            )
        if not self._closed:
            self._schedule()

    def _saved(self) -> None:
        if self._failing:
            self._failing.clear()
            log.info("saved the store %s again", self.path)

    def _write(self) -> None:
        """Write the file to a new temporary file, fsync, rename over the file: here."""
        assert self._items is not None
        dir_fd = safe_open.open_dir(self._root, self.path.parent, create=True, mode=_DIR_MODE)
        try:
            temp, fd = safe_open.create_temp(dir_fd, self.path.name, _FILE_MODE)
            try:
                try:
                    write_pieces(fd, list(self._items.values()))
                    os.fsync(fd)
                finally:
                    os.close(fd)
                os.replace(temp, self.path.name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
            except OSError:
                unlink(dir_fd, temp)
                raise
            sync_dir(dir_fd)
        finally:
            os.close(dir_fd)

    def _in_child(self) -> bool:
        """Fork a child that writes the file; False if the file is for the loop (small)
        or ``fork`` failed (said once): then the caller writes it."""
        limit = self.child_save_bytes
        if limit is None or _file_size(self._sum) < limit or not hasattr(os, "fork"):
            return False
        assert self._items is not None
        dir_fd = safe_open.open_dir(self._root, self.path.parent, create=True, mode=_DIR_MODE)
        try:
            temp, out = safe_open.create_temp(dir_fd, self.path.name, _FILE_MODE)
        except BaseException:
            os.close(dir_fd)
            raise
        try:
            pid = os.fork()
        except OSError as e:
            unlink(dir_fd, temp)
            os.close(out)
            os.close(dir_fd)
            if not self._said_fork:
                self._said_fork = True
                log.warning(
                    "cannot fork to save the store %s (%s): saving in the loop",
                    self.path,
                    e.strerror or e,
                )
            return False
        if pid == 0:
            child_save(self._items, out, dir_fd, temp, self.path.name)
        os.close(out)
        self._child = Child(pid, dir_fd, temp)
        self.child_saves += 1
        self._child.call = self._clock.callLater(REAP_INTERVAL, self._poll)
        return True

    def _poll(self) -> None:
        """The timer: has the child ended?"""
        child = self._child
        if child is None:
            return
        child.call = None
        try:
            pid, status = os.waitpid(child.pid, os.WNOHANG)
        except ChildProcessError:  # reaped by someone else: its result is unknown
            pid, status = child.pid, -1
        if pid == 0:
            child.call = self._clock.callLater(REAP_INTERVAL, self._poll)
            return
        self._ended(child, status)

    def _ended(self, child: Child, status: int) -> None:
        """The child is reaped: ``status`` as ``waitpid`` gives it (-1: unknown)."""
        self._child = None
        code = os.waitstatus_to_exitcode(status) if status >= 0 else None
        child.finish(done=code == 0)
        if code == 0:
            self._saved()
            if self._dirty and self._call is None and not self._closed:
                self._schedule()
        else:
            self._dirty = True
            if code is not None and 0 < code < CHILD_FAILED:
                error = OSError(code, os.strerror(code))
            else:
                how = "an unknown end" if code is None else f"status {code}"
                error = OSError(f"the child writing it failed ({how})")
            self._failed(error)
        waiters, self._waiters = self._waiters, []
        for d in waiters:
            d.callback(None)

    def _data(self) -> dict[str, bytes]:
        if self._items is None:
            self._items = self._load()
            self._sum = sum(len(piece) for piece in self._items.values())
            if self._evict():
                self._changed()
        if self._later:
            self._settle()
        return self._items

    def _load(self) -> dict[str, bytes]:
        try:
            dir_fd = safe_open.open_dir(self._root, self.path.parent)
        except (FileNotFoundError, NotADirectoryError):
            return {}
        except OSError as e:  # a symbolic link in the way, a folder we may not read
            self._blocked = True
            log.error(
                "the store %s cannot be read (%s): starting empty, changes are kept in memory only",
                self.path,
                e.strerror or e,
            )
            return {}
        try:
            return self._read(dir_fd)
        finally:
            os.close(dir_fd)

    def _read(self, dir_fd: int) -> dict[str, bytes]:
        for name in listdir(dir_fd):
            if safe_open.is_temp_of(name, self.path.name):
                unlink(dir_fd, name)  # left by a crash while saving
        try:
            fd = safe_open.open_in(dir_fd, self.path.name, os.O_RDONLY, path=self.path)
        except FileNotFoundError:
            return {}
        except OSError as e:
            return self._set_aside(dir_fd, f"cannot be read ({e.strerror or e})")
        try:
            with open(fd, "rb") as f:
                raw = f.read()
        except OSError as e:
            return self._set_aside(dir_fd, f"cannot be read ({e.strerror or e})")
        try:
            obj = json.loads(raw)
        except (ValueError, RecursionError) as e:  # UnicodeDecodeError is a ValueError
            return self._set_aside(dir_fd, f"is not JSON ({e})")
        if not isinstance(obj, dict):
            return self._set_aside(dir_fd, f"holds a JSON {type(obj).__name__}, not an object")
        try:
            return {k: _piece(k, _encode(v)) for k, v in obj.items()}
        except ValueError as e:  # NaN or Infinity, which json.loads accepts
            return self._set_aside(dir_fd, f"holds a value that is not JSON ({e})")

    def _set_aside(self, dir_fd: int, why: str) -> dict[str, bytes]:
        name = self.path.name
        aside = f"{name}.corrupt-{int(self._wall())}"
        n = 1
        while safe_open.lexists(dir_fd, aside):
            aside = f"{name}.corrupt-{int(self._wall())}-{n}"
            n += 1
        try:
            os.rename(name, aside, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
        except OSError as e:
            self._blocked = True
            log.error(
                "the store %s %s and cannot be moved aside (%s): starting empty, "
                "changes are kept in memory only",
                self.path,
                why,
                e.strerror or e,
            )
            return {}
        log.warning("the store %s %s: moved to %s, starting empty", self.path, why, aside)
        return {}

    def _changed(self) -> None:
        self._dirty = True
        if self._call is None:
            self._schedule()

    def _schedule(self) -> None:
        self._cancel()
        self._call = self._clock.callLater(self.flush_delay, self._timer)

    def _timer(self) -> None:
        self._call = None
        self.flush()

    def _cancel(self) -> None:
        call, self._call = self._call, None
        if call is not None and call.active():
            call.cancel()


class Stores:
    """One :class:`Store` per (plugin, network) under ``data_dir`` (no link below it is
    followed)."""

    def __init__(
        self,
        data_dir: str | Path,
        clock: Any,
        *,
        flush_delay: float = 5.0,
        max_bytes: int = MAX_BYTES,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.data_dir = Path(os.path.abspath(data_dir))
        self.flush_delay = flush_delay
        self.max_bytes = max_bytes
        self._clock = clock
        self._wall = wall
        self._stores: dict[tuple[str, str | None], Store] = {}

    def path(self, plugin: str, network: str | None) -> Path:
        """The file of ``plugin``'s store for ``network`` (``None``: not per network).

        Escaped names cannot leave ``data_dir``; :func:`~logbot.logs.paths.resolve_under`
        checks it all the same (and would raise :class:`~logbot.logs.paths.UnsafePath`).
        Network names are letters, digits, ``.``, ``_`` and ``-`` (the config checks
        it), so a network folder only meets a network-less file of the same name for a
        network called ``<plugin>.json``.
        """
        name = paths.escape_component(plugin) + ".json"
        rel = name if network is None else f"{paths.escape_component(network)}/{name}"
        return paths.resolve_under(self.data_dir, rel)

    def get(self, plugin: str, network: str | None) -> Store:
        key = (plugin, network)
        store = self._stores.get(key)
        if store is None:
            store = self._stores[key] = Store(
                self.path(plugin, network),
                self._clock,
                flush_delay=self.flush_delay,
                max_bytes=self.max_bytes,
                wall=self._wall,
                root=self.data_dir,
            )
        return store

    def flush_all(self) -> None:
        for store in self._stores.values():
            store.flush()

    def close_all(self) -> None:
        for store in self._stores.values():
            store.close()
