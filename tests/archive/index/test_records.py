"""Line ids: time order, unique even when lines share a millisecond."""

from __future__ import annotations

from pathlib import Path

import pytest

from logbot.archive.index import Index, records
from logbot.archive.index.schema import ID_SHIFT
from logbot.archive.model import Query
from tests.archive.index.files import append, day_file, record


def ids(index: Index) -> list[tuple[int, str]]:
    rows = index._conn.execute("SELECT id, text FROM lines ORDER BY id")
    return [(row[0], row[1]) for row in rows]


def test_lines_of_one_millisecond_get_distinct_ids_in_the_order_indexed(
    root: Path, index: Index
) -> None:
    same = record(0)["time_ms"]
    append(day_file(root, channel="#a"), [record(0, channel="#a", text=f"a{i}") for i in range(3)])
    index.update(root)
    append(day_file(root, channel="#b"), [record(0, channel="#b", text=f"b{i}") for i in range(2)])
    index.update(root)  # taken ids: found and replaced
    got = ids(index)
    assert [i for i, _ in got] == [(same << ID_SHIFT) + n for n in range(5)]
    assert [t for _, t in got] == ["a0", "a1", "a2", "b0", "b1"]
    assert [h.record["text"] for h in index.search(Query())] == ["b1", "b0", "a2", "a1", "a0"]


def test_a_full_millisecond_spills_after_everything(
    root: Path, index: Index, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(records, "_SLOT", 2)  # two lines a millisecond, for the test
    append(day_file(root), [record(5, text="later")])
    index.update(root)
    append(day_file(root, channel="#x"), [record(0, channel="#x", text=f"x{i}") for i in range(4)])
    index.update(root)
    got = ids(index)
    assert len({i for i, _ in got}) == 5  # unique
    assert [t for _, t in got][:3] == ["x0", "x1", "later"]  # the spill goes after
    assert {t for _, t in got[3:]} == {"x2", "x3"}
    assert [line.record["text"] for line in index.day_lines("net", "#x", "2026-01-02")] == [
        "x0",
        "x1",
        "x2",
        "x3",
    ]
