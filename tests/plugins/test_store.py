"""Store and Stores: batched writes on a task.Clock, persistence, damage and errors.

Tests run as root, where a read-only folder stops nothing: a write error is provoked by
a path whose parent is a regular file.
"""

from __future__ import annotations

import json
import logging
import math
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from logbot.logs import paths, safe_open
from logbot.plugins.store import Store, Stores
from logbot.reactor.task import Clock

WALL = 1_790_000_000.0
LOGGER = "logbot.plugins.store"


def make(path: Path, clock: Clock | None = None, **kw: Any) -> Store:
    kw.setdefault("wall", lambda: WALL)
    return Store(path, clock or Clock(), **kw)


def on_disk(path: Path) -> Any:
    return json.loads(path.read_text())


def test_writes_are_batched(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    clock = Clock()
    path = tmp_path / "s.json"
    store = make(path, clock, flush_delay=5.0)
    replaces: list[Any] = []
    real = os.replace
    monkeypatch.setattr(os, "replace", lambda a, b, **kw: (replaces.append(b), real(a, b, **kw)))
    store.set("a", 1)
    clock.advance(2)
    store["b"] = {"x": [1, 2]}
    store.delete("a")
    store.delete("never there")
    assert not path.exists() and len(clock.getDelayedCalls()) == 1
    clock.advance(2.9)
    assert not path.exists()
    clock.advance(0.1)  # 5 s after the first change
    assert on_disk(path) == {"b": {"x": [1, 2]}} and len(replaces) == 1
    assert clock.getDelayedCalls() == []
    clock.advance(60)
    assert len(replaces) == 1  # nothing changed: no write
    store.flush()
    assert len(replaces) == 1
    store["c"] = "now"
    store.flush()  # at once, and the timer is gone
    assert on_disk(path) == {"b": {"x": [1, 2]}, "c": "now"} and len(replaces) == 2
    assert clock.getDelayedCalls() == []
    assert [p.name for p in tmp_path.iterdir()] == ["s.json"]  # no temporary file left


def test_persists_across_instances(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "s.json"  # parent folders are created
    store = make(path)
    store["n"] = 3
    store["s"] = "é 日本 \ud800"  # a lone surrogate too: the file is ASCII JSON
    store["l"] = [1, None, True, 2.5, {"k": []}]
    del store["n"]
    store.close()
    assert path.read_bytes().isascii()
    again = make(path)
    assert again.keys() == ["s", "l"] and len(again) == 2
    assert again.get("s") == "é 日本 \ud800" and again["l"] == [1, None, True, 2.5, {"k": []}]
    assert dict(again.items()) == {"s": "é 日本 \ud800", "l": [1, None, True, 2.5, {"k": []}]}
    assert "s" in again and "n" not in again and 5 not in again
    assert again.get("n") is None and again.get("n", 7) == 7 and again.get(5, 7) == 7
    assert list(again) == ["s", "l"]
    with pytest.raises(KeyError):
        again["n"]


def test_missing_file_is_empty_and_nothing_is_written(tmp_path: Path) -> None:
    clock = Clock()
    store = make(tmp_path / "s.json", clock)
    assert len(store) == 0 and store.keys() == []
    store.close()
    assert not (tmp_path / "s.json").exists() and clock.getDelayedCalls() == []


def test_loaded_lazily(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    store = make(path)
    path.write_text('{"late": 1}')  # written after the Store was made, before first use
    assert store["late"] == 1


def test_returned_values_are_copies(tmp_path: Path) -> None:
    store = make(tmp_path / "s.json")
    value = {"list": [1]}
    store["k"] = value
    value["list"].append(2)  # the caller's object is not the stored one
    got = store["k"]
    got["list"].append(3)  # nor is what get() returns
    assert store["k"] == {"list": [1]}
    store["t"] = (1, 2)
    store["d"] = {1: "one"}
    assert store["t"] == [1, 2] and store["d"] == {"1": "one"}  # as JSON gives them


@pytest.mark.parametrize(
    "value, error",
    [
        ({1, 2}, TypeError),
        (object(), TypeError),
        (b"bytes", TypeError),
        (math.nan, ValueError),
        ([math.inf], ValueError),
        ({(1, 2): 3}, TypeError),
    ],
)
def test_unserialisable_values_are_refused(
    tmp_path: Path, value: Any, error: type[Exception]
) -> None:
    clock = Clock()
    store = make(tmp_path / "s.json", clock)
    store["k"] = "before"
    store.flush()
    with pytest.raises(error):
        store.set("k", value)
    with pytest.raises(error):
        store["new"] = value
    assert store["k"] == "before" and "new" not in store and len(store) == 1
    assert clock.getDelayedCalls() == []  # nothing changed: nothing to write


def test_a_cycle_and_bad_keys_are_refused(tmp_path: Path) -> None:
    store = make(tmp_path / "s.json")
    cycle: list[Any] = []
    cycle.append(cycle)
    with pytest.raises(ValueError):
        store["c"] = cycle
    for key in (1, None, b"k", ("a",)):
        with pytest.raises(TypeError):
            store.set(key, 1)  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            store.delete(key)  # type: ignore[arg-type]
    assert len(store) == 0


def test_max_bytes(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    store = make(path, max_bytes=200)
    store["a"] = "x" * 100
    with pytest.raises(ValueError, match="200 bytes"):
        store["b"] = "y" * 100
    assert "b" not in store
    store["a"] = "x" * 150  # replacing counts the old value out
    with pytest.raises(ValueError):
        store["a"] = "x" * 200
    assert store["a"] == "x" * 150
    del store["a"]
    store["b"] = "y" * 150
    store.flush()
    assert len(path.read_bytes()) == store.size <= 200


def test_max_bytes_is_the_file_size(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    store = make(path, max_bytes=10_000)
    for i in range(50):
        store[f"key {i} é"] = {"v": [i, '\n"', None]}
    store.flush()
    # the running size is exact: it is the size of what is written
    assert store.size == len(path.read_bytes())
    store["big"] = "b" * (10_000 - store.size - len('"big":""') - 1)
    assert store.size == 10_000
    with pytest.raises(ValueError):
        store["one more"] = 0
    store.flush()
    assert len(path.read_bytes()) == 10_000


def test_a_corrupt_file_is_moved_aside(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    for i, bad in enumerate(
        [b"{not json", b"[1, 2]", b'"text"', b"\xff\xfe", b'{"a": NaN}', b"[" * 100_000]
    ):
        folder = tmp_path / str(i)
        folder.mkdir()
        path = folder / "s.json"
        path.write_bytes(bad)
        store = make(path)
        with caplog.at_level(logging.WARNING, logger=LOGGER):
            assert len(store) == 0
        aside = folder / f"s.json.corrupt-{int(WALL)}"
        assert aside.read_bytes() == bad and not path.exists()
        assert "moved to" in caplog.text
        store["fresh"] = True
        store.close()
        assert on_disk(path) == {"fresh": True} and aside.read_bytes() == bad
    # the same second again: a second name, the first one kept
    path = tmp_path / "0" / "s.json"
    path.write_bytes(b"junk")
    assert len(make(path)) == 0
    assert (tmp_path / "0" / f"s.json.corrupt-{int(WALL)}-1").read_bytes() == b"junk"


def test_write_errors_are_counted_logged_once_and_retried(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    clock = Clock()
    blocker = tmp_path / "plugin"
    blocker.write_text("a regular file where the store's folder should be")
    path = blocker / "s.json"
    store = make(path, clock, flush_delay=5.0)
    assert len(store) == 0  # a parent that is a file: an empty store, like a missing file
    caplog.set_level(logging.INFO, logger=LOGGER)
    store["k"] = 1
    clock.advance(5)
    assert store.write_errors == 1 and store["k"] == 1
    assert len(clock.getDelayedCalls()) == 1  # a retry is scheduled
    clock.advance(5)
    store["k2"] = 2
    store.flush()
    assert store.write_errors == 3
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "cannot save the store" in warnings[0].getMessage()
    blocker.unlink()  # room again: the next retry saves everything
    clock.advance(5)
    assert on_disk(path) == {"k": 1, "k2": 2} and store.write_errors == 3
    assert "saved the store" in caplog.text and clock.getDelayedCalls() == []


def test_close_stops_the_timer(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    blocker = tmp_path / "f"
    blocker.write_text("")
    store = make(blocker / "s.json", clock)
    store["k"] = 1
    with caplog.at_level(logging.ERROR, logger=LOGGER):
        store.close()
    assert clock.getDelayedCalls() == [] and store.write_errors == 1
    assert "could not be saved" in caplog.text


def test_an_unreadable_file_is_never_replaced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "s.json"
    path.write_text('{"precious": 1}')
    real_open = safe_open.open_in

    def unreadable(dir_fd: int, name: str, *args: Any, **kw: Any) -> int:
        if name == path.name:
            raise PermissionError(13, "Permission denied")
        return real_open(dir_fd, name, *args, **kw)

    def refuse(*args: Any, **kw: Any) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(safe_open, "open_in", unreadable)
    monkeypatch.setattr(os, "rename", refuse)
    store = make(path)
    store["k"] = 1
    store.flush()
    assert store.write_errors == 1 and store["k"] == 1
    assert path.read_bytes() == b'{"precious": 1}'


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.text()
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(st.text(), json_values, max_size=6), st.lists(st.text(), max_size=3))
def test_round_trip(
    tmp_path_factory: pytest.TempPathFactory, data: dict[str, Any], deleted: list[str]
) -> None:
    path = tmp_path_factory.mktemp("rt") / "s.json"
    clock = Clock()
    store = make(path, clock)
    for k, v in data.items():
        store[k] = v
    for k in deleted:
        store.delete(k)
        data.pop(k, None)
    clock.advance(5)
    again = make(path)
    assert dict(again.items()) == data
    assert again.keys() == list(data)
    assert again.size == (len(path.read_bytes()) if path.exists() else 3)


# -- Stores -----------------------------------------------------------------------------


def test_stores_one_per_plugin_and_network(tmp_path: Path) -> None:
    clock = Clock()
    stores = Stores(tmp_path / "data", clock, flush_delay=1.0)
    a = stores.get("seen", "libera")
    assert stores.get("seen", "libera") is a
    b = stores.get("seen", "oftc")
    g = stores.get("seen", None)
    assert len({id(a), id(b), id(g)}) == 3
    a["x"], b["x"], g["x"] = 1, 2, 3
    assert not (tmp_path / "data").exists()
    stores.flush_all()
    assert on_disk(tmp_path / "data" / "libera" / "seen.json") == {"x": 1}
    assert on_disk(tmp_path / "data" / "oftc" / "seen.json") == {"x": 2}
    assert on_disk(tmp_path / "data" / "seen.json") == {"x": 3}
    a["y"] = 4
    stores.close_all()
    assert on_disk(tmp_path / "data" / "libera" / "seen.json") == {"x": 1, "y": 4}
    assert clock.getDelayedCalls() == []


@pytest.mark.parametrize(
    "plugin, network",
    [
        ("../../evil", "net"),
        ("x", "../../evil"),
        ("..", ".."),
        (".", None),
        ("", ""),
        ("a/b", "c/d"),
        ("p\0", "n\n"),
        ("/abs", "/abs"),
        ("~", "%2E%2E"),
        ("é" * 300, "n"),
    ],
)
def test_stores_escape_hostile_names(tmp_path: Path, plugin: str, network: str | None) -> None:
    data = tmp_path / "data"
    stores = Stores(data, Clock())
    store = stores.get(plugin, network)
    store["k"] = "v"
    stores.flush_all()
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert written == [store.path]
    assert store.path.parent == (
        data if network is None else data / paths.escape_component(network)
    )
    assert store.path.name == paths.escape_component(plugin) + ".json"
    assert os.path.commonpath([data, store.path]) == str(data)
    assert Stores(data, Clock()).get(plugin, network)["k"] == "v"


# -- bounded: limit() (issue 15, item 10) ------------------------------------------------


def test_limit_forgets_the_least_recently_set(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    store = make(path)
    store.limit(3)
    for key in ("a", "b", "c"):
        store[key] = key
    store["a"] = "again"  # set again: now the most recent
    store["d"] = "d"  # one too many: "b" is the least recently set
    assert store.keys() == ["c", "a", "d"] and store.evicted == 1
    store.close()
    assert list(on_disk(path)) == ["c", "a", "d"]  # the order survives a restart
    again = make(path)
    again.limit(2)  # a lower limit applies to what was read
    assert again.keys() == ["a", "d"]


def test_limit_forgets_a_share_at_once(tmp_path: Path) -> None:
    store = make(tmp_path / "s.json")
    store.limit(1000)
    for i in range(1001):
        store[f"k{i}"] = i
    assert len(store) == 991  # 1 % of 1,000 (10 keys) went at once, not one per set
    assert "k10" in store and "k9" not in store and store.evicted == 10


def test_with_a_limit_a_full_store_forgets_instead_of_raising(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    store = make(path, max_bytes=1000)
    store.limit(10_000)  # the bytes bound first
    for i in range(100):
        store[f"key {i}"] = "v" * 30
    assert store.size <= 1000 and "key 99" in store and "key 0" not in store
    with pytest.raises(ValueError):  # alone too large: refused, the store unchanged
        store["huge"] = "x" * 1000
    assert "key 99" in store
    store.close()
    assert len(path.read_bytes()) == store.size <= 1000


def test_limit_takes_one_key_at_least(tmp_path: Path) -> None:
    store = make(tmp_path / "s.json")
    for bad in (0, -1):
        with pytest.raises(ValueError):
            store.limit(bad)
    store.limit(1)
    store["a"], store["b"] = 1, 2
    assert store.keys() == ["b"]
    store.limit(None)
    store["c"] = 3
    assert store.keys() == ["b", "c"]


# -- large saves in a forked child --------------------------------------------------------


def big(store: Store, n: int = 200) -> dict[str, Any]:
    data = {
        f"#chan nick{i}": {"nick": f"Nick{i}", "time": 1.5 + i, "text": "t" * 50} for i in range(n)
    }
    for k, v in data.items():
        store[k] = v
    return data


def test_a_large_save_is_written_by_a_child(tmp_path: Path) -> None:
    clock = Clock()
    path = tmp_path / "s.json"
    store = make(path, clock, child_save_bytes=1024)
    data = big(store)
    clock.advance(5)  # the batched save: a child is forked, the loop goes on
    assert store.saving and store.child_saves == 1
    store["late"] = 1  # changed while the child writes: saved after it
    store.wait()  # blocks in waitpid (what close() does): no sleeping
    assert not store.saving and on_disk(path) == data
    assert [p.name for p in tmp_path.iterdir()] == ["s.json"]
    clock.advance(5)
    store.wait()
    assert on_disk(path) == {**data, "late": 1} and store.child_saves == 2
    assert clock.getDelayedCalls() == [] and store.write_errors == 0


def test_a_child_save_on_a_real_reactor(reactor: Any, run_until: Any, tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    store = Store(path, reactor, child_save_bytes=1024)
    data = big(store)
    store.flush()
    assert store.saving
    run_until(store.idle())  # the poll timer reaps it
    assert on_disk(path) == data and not store.saving
    store.close()


def test_a_failing_child_is_reported_and_retried(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    clock = Clock()
    path = tmp_path / "s.json"
    store = make(path, clock, child_save_bytes=1024)
    data = big(store)
    path.mkdir()  # the rename over it fails in the child: EISDIR
    (path / "x").write_text("")
    store.flush()
    store.wait()
    assert store.write_errors == 1 and "Is a directory" in caplog.text
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.json"]  # no temporary left
    (path / "x").unlink()
    path.rmdir()
    clock.advance(5)  # the retry
    store.wait()
    assert on_disk(path) == data and store.write_errors == 1


def test_close_waits_for_the_child_then_writes_the_rest(tmp_path: Path) -> None:
    clock = Clock()
    path = tmp_path / "s.json"
    store = make(path, clock, child_save_bytes=1024)
    data = big(store)
    store.flush()
    store["last"] = "word"
    store.close()  # an older file never lands after the newer one
    assert on_disk(path) == {**data, "last": "word"}
    assert clock.getDelayedCalls() == [] and [p.name for p in tmp_path.iterdir()] == ["s.json"]


# -- no symbolic link followed below data_dir (issue 15, item 1) ---------------------------


def test_a_link_at_the_old_temporary_name_replaces_nothing(tmp_path: Path) -> None:
    """The store wrote ``seen.json.tmp`` with O_TRUNC: a link there replaced any file."""
    victim = tmp_path / "victim"
    victim.write_bytes(b"#!/bin/sh\nprecious\n")
    data = tmp_path / "data"
    data.mkdir()
    (data / "s.json.tmp").symlink_to(victim)
    store = make(data / "s.json")
    store["k"] = "v"
    store.close()
    assert victim.read_bytes() == b"#!/bin/sh\nprecious\n"
    assert on_disk(data / "s.json") == {"k": "v"} and not (data / "s.json").is_symlink()


def test_a_link_at_the_network_folder_is_not_followed(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "seen.json").write_text('{"planted": 1}')
    data = tmp_path / "data"
    data.mkdir()
    (data / "net").symlink_to(outside)
    stores = Stores(data, Clock())
    store = stores.get("seen", "net")
    assert "planted" not in store  # not read through the link
    store["k"] = 1
    stores.close_all()
    assert [p.name for p in outside.iterdir()] == ["seen.json"]
    assert (outside / "seen.json").read_text() == '{"planted": 1}'
    assert store.write_errors == 1 and "symbolic link" in caplog.text


def test_a_link_at_the_store_file_is_set_aside_unread(tmp_path: Path) -> None:
    secret = tmp_path / "secret.json"
    secret.write_text('{"secret": 1}')
    path = tmp_path / "data" / "s.json"
    path.parent.mkdir()
    path.symlink_to(secret)
    store = make(path)
    assert "secret" not in store
    aside = path.with_name(f"s.json.corrupt-{int(WALL)}")
    assert aside.is_symlink()  # the link itself, kept for a human to look at
    store["k"] = 1
    store.close()
    assert secret.read_text() == '{"secret": 1}' and on_disk(path) == {"k": 1}


def test_temporary_files_a_crash_left_are_removed(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_text('{"k": 1}')
    left = tmp_path / ".s.json.0123456789abcdef.tmp"
    left.write_text("half")
    others = [tmp_path / ".s.json.mine.tmp", tmp_path / ".t.json.0123456789abcdef.tmp"]
    for p in others:
        p.write_text("not the store's")
    assert make(path)["k"] == 1
    assert not left.exists() and all(p.exists() for p in others)


# -- set_later: encoded at the next save or read ------------------------------------------


def test_set_later_values_are_read_saved_and_ordered_as_set(tmp_path: Path) -> None:
    clock = Clock()
    path = tmp_path / "s.json"
    store = make(path, clock, flush_delay=5.0)
    store.set("a", 1)
    store.set_later("b", {"x": 1})
    store.set_later("a", 2)  # a set_later after a set: the newer value
    assert store.get("a") == 2 and store["b"] == {"x": 1}
    assert store.keys() == ["b", "a"]  # least recently set first
    store.set_later("c", 3)
    store.set("c", 4)  # a set after a set_later: the newer value
    clock.advance(5.0)  # the batched save encodes what waited
    assert on_disk(path) == {"b": {"x": 1}, "a": 2, "c": 4}


def test_set_later_waits_for_the_save_and_the_close_writes_it(tmp_path: Path) -> None:
    clock = Clock()
    path = tmp_path / "s.json"
    store = make(path, clock, flush_delay=5.0)
    store.set_later("k", "v")
    assert not path.exists()
    store.close()
    assert on_disk(path) == {"k": "v"}


def test_set_later_holds_at_most_later_max_values(tmp_path: Path) -> None:
    from logbot.plugins.store import LATER_MAX

    store = make(tmp_path / "s.json")
    store.limit(10)
    for i in range(LATER_MAX + 5):
        store.set_later(f"k{i}", i)
        assert len(store._later) < LATER_MAX  # a flood of new keys cannot pile up
    assert len(store) == 10 and store.get(f"k{LATER_MAX + 4}") == LATER_MAX + 4


def test_a_set_later_value_that_is_not_json_is_dropped_and_said(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = make(tmp_path / "s.json")
    with pytest.raises(TypeError):
        store.set_later(1, "v")  # type: ignore[arg-type]
    store.set_later("bad", {"x": {1, 2}})
    store.set_later("nan", math.nan)
    store.set_later("good", 1)
    with caplog.at_level(logging.ERROR, LOGGER):
        assert store.keys() == ["good"]
    assert store.dropped == 2 and "dropped the value of 'bad'" in caplog.text
