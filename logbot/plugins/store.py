"""A small persistent key-value store per plugin and network: one JSON file each.

Why it is shaped as it is:

* *Values are JSON, checked at once.*  ``set()`` serialises the value there and then, so
  a value that cannot be saved (a set, an object, NaN, a cycle) fails in the plugin that
  stored it, with a ``TypeError`` or ``ValueError``, and the store is unchanged;
  nothing fails later in a flush that the plugin never sees.  What is kept is that JSON
  text, so ``get()`` returns a fresh copy each time: mutating a returned dict or list
  changes nothing until it is ``set()`` again, and a value comes back as JSON gives it
  (tuples as lists, the keys of a dict as strings).
* *Writes are batched.*  A change schedules one write ``flush_delay`` seconds later on
  the clock (the reactor, a ``task.Clock`` in tests), so a plugin that counts every line
  costs one write per ``flush_delay``, not one per line.  The write is the whole file to
  ``<path>.tmp``, fsync-ed, then renamed over the file: a crash leaves the old or the new
  file, never half of one.  It runs on the reactor thread: the store is for small data,
  and ``max_bytes`` (16 MiB) bounds it; a ``set()`` past that is refused.
* *Errors lose nothing.*  A write that fails (disk full, read-only) is logged once per
  kind of error, counted in :attr:`Store.write_errors` and retried ``flush_delay``
  later, the data kept in memory.  A file that is not a JSON object is renamed aside to
  ``<name>.corrupt-<unix time>`` for a human to look at, and the store starts empty.
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

from logbot.logs import paths

__all__ = ["Store", "Stores"]

log = logging.getLogger("logbot.plugins.store")

# ASCII only: any str (lone surrogates included) survives the trip through the file.
_ENCODER = json.JSONEncoder(ensure_ascii=True, allow_nan=False, separators=(",", ":"))
# json's private ``c_make_encoder`` (None without the C accelerator), which typeshed does
# not declare.
_c_make_encoder: Any = getattr(json.encoder, "c_make_encoder", None)
#: The C encoder behind ``_ENCODER``, made once: ``JSONEncoder.encode`` builds one per
#: call, which was most of the cost of a ``set()`` (``seen`` sets one per channel line).
#: No circular check: a cycle ends in RecursionError, turned into ValueError.
_C_ENCODER = (
    None
    if _c_make_encoder is None
    else _c_make_encoder(
        None,
        _ENCODER.default,
        json.encoder.encode_basestring_ascii,
        None,
        ":",
        ",",
        False,
        False,
        False,
    )
)


def _encode(value: Any) -> str:
    """``_ENCODER.encode(value)``, faster."""
    if type(value) is str:
        return json.encoder.encode_basestring_ascii(value)
    if _C_ENCODER is None or type(value) not in (dict, list):
        return _ENCODER.encode(value)
    try:
        return "".join(_C_ENCODER(value, 0))
    except RecursionError:
        raise ValueError("a value that contains itself cannot be stored") from None


class Store:
    """A mapping of str keys to JSON values, kept in the file ``path``."""

    def __init__(
        self,
        path: Path,
        clock: Any,
        *,
        flush_delay: float = 5.0,
        max_bytes: int = 16 * 1024 * 1024,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.path = Path(path)
        self.flush_delay = flush_delay
        self.max_bytes = max_bytes
        self.write_errors = 0  # failed writes of the file
        self._clock = clock
        self._wall = wall  # names a corrupt file set aside
        self._items: dict[str, str] | None = None  # key -> its value's JSON text
        self._sum = 0  # bytes of the items in the file: each '"key":value,'
        self._dirty = False
        self._call: Any = None
        self._failing: set[str] = set()  # kinds of write error logged in this outage
        self._blocked = False  # an unreadable file could not be set aside: never replace it

    # -- reading ----------------------------------------------------------------------

    def get(self, key: str, default: Any = None) -> Any:
        """A copy of the value of ``key``, or ``default``."""
        text = self._data().get(key) if isinstance(key, str) else None
        return default if text is None else json.loads(text)

    def __getitem__(self, key: str) -> Any:
        text = self._data().get(key) if isinstance(key, str) else None
        if text is None:
            raise KeyError(key)
        return json.loads(text)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key in self._data()

    @property
    def size(self) -> int:
        """The size in bytes of the file as it is written now (``max_bytes`` bounds it)."""
        self._data()
        return _file_size(self._sum)

    def __len__(self) -> int:
        return len(self._data())

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._data()))

    def keys(self) -> list[str]:
        return list(self._data())

    def items(self) -> list[tuple[str, Any]]:
        """``(key, copy of the value)`` pairs."""
        return [(k, json.loads(v)) for k, v in self._data().items()]

    # -- changing ---------------------------------------------------------------------

    def set(self, key: str, value: Any) -> None:
        """Keep ``value`` (a copy) under ``key``.

        :raises TypeError: ``key`` is not a str, or ``value`` is not JSON-serialisable.
        :raises ValueError: ``value`` cannot be JSON (NaN, a cycle), or the file would
            pass ``max_bytes``.  The store is unchanged.
        """
        if not isinstance(key, str):
            raise TypeError(f"store keys are str, not {type(key).__name__}")
        text = _encode(value)
        items = self._data()
        old = items.get(key)
        if old is None:
            total = self._sum + len(_encode(key)) + 2 + len(text)  # '"key":' and ','
        else:
            total = self._sum + len(text) - len(old)
        if _file_size(total) > self.max_bytes:
            raise ValueError(f"the store {self.path} would pass {self.max_bytes} bytes")
        items[key] = text
        self._sum = total
        self._changed()

    __setitem__ = set

    def delete(self, key: str) -> None:
        """Forget ``key``; a missing key is no error."""
        if not isinstance(key, str):
            raise TypeError(f"store keys are str, not {type(key).__name__}")
        items = self._data()
        old = items.pop(key, None)
        if old is not None:
            self._sum -= len(_ENCODER.encode(key)) + 2 + len(old)
            self._changed()

    def __delitem__(self, key: str) -> None:
        self.delete(key)

    # -- the file ---------------------------------------------------------------------

    def flush(self) -> None:
        """Write the file now if anything changed; on an error, retry later."""
        self._cancel()
        if not self._dirty or self._items is None:
            return
        try:
            if self._blocked:
                raise PermissionError(
                    f"{self.path} could not be read or set aside; not replacing it"
                )
            self._write()
        except OSError as e:
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
            self._schedule()
            return
        self._dirty = False
        if self._failing:
            self._failing.clear()
            log.info("saved the store %s again", self.path)

    def close(self) -> None:
        """Flush, and stop the timer."""
        self.flush()
        self._cancel()
        if self._dirty:
            log.error(
                "the store %s could not be saved: %d key(s) lost", self.path, len(self._items or ())
            )

    def _write(self) -> None:
        assert self._items is not None
        data = (
            "{" + ",".join(_ENCODER.encode(k) + ":" + v for k, v in self._items.items()) + "}\n"
        ).encode("ascii")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o644)
        try:
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(tmp, self.path)
        except OSError:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
        try:  # the rename itself survives a crash once the folder is synced
            dir_fd = os.open(self.path.parent, os.O_RDONLY | os.O_DIRECTORY)
        except OSError:
            return
        try:
            os.fsync(dir_fd)
        except OSError:
            pass
        finally:
            os.close(dir_fd)

    def _data(self) -> dict[str, str]:
        if self._items is None:
            self._items = self._load()
            self._sum = sum(len(_ENCODER.encode(k)) + 2 + len(v) for k, v in self._items.items())
        return self._items

    def _load(self) -> dict[str, str]:
        try:
            raw = self.path.read_bytes()
        except (FileNotFoundError, NotADirectoryError):
            return {}
        except OSError as e:
            return self._set_aside(f"cannot be read ({e.strerror or e})")
        try:
            obj = json.loads(raw)
        except (ValueError, RecursionError) as e:  # UnicodeDecodeError is a ValueError
            return self._set_aside(f"is not JSON ({e})")
        if not isinstance(obj, dict):
            return self._set_aside(f"holds a JSON {type(obj).__name__}, not an object")
        try:
            return {k: _ENCODER.encode(v) for k, v in obj.items()}
        except ValueError as e:  # NaN or Infinity, which json.loads accepts
            return self._set_aside(f"holds a value that is not JSON ({e})")

    def _set_aside(self, why: str) -> dict[str, str]:
        aside = self.path.with_name(f"{self.path.name}.corrupt-{int(self._wall())}")
        n = 1
        while os.path.lexists(aside):
            aside = self.path.with_name(f"{self.path.name}.corrupt-{int(self._wall())}-{n}")
            n += 1
        try:
            os.rename(self.path, aside)
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
        log.warning("the store %s %s: moved to %s, starting empty", self.path, why, aside.name)
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


def _file_size(items: int) -> int:
    """``{``, the items joined by ``,`` (``items`` counts a ``,`` after each), ``}\\n``."""
    return 3 + max(0, items - 1)


class Stores:
    """One :class:`Store` per (plugin, network) under ``data_dir``."""

    def __init__(
        self,
        data_dir: str | Path,
        clock: Any,
        *,
        flush_delay: float = 5.0,
        max_bytes: int = 16 * 1024 * 1024,
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
            )
        return store

    def flush_all(self) -> None:
        for store in self._stores.values():
            store.flush()

    def close_all(self) -> None:
        for store in self._stores.values():
            store.close()
