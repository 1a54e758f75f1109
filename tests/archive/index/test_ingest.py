"""Reading the files into the index: complete lines only, each once, in order, whatever
the rotation, the compressor, a second process or a damaged file does."""

from __future__ import annotations

import gzip
import json
import logging
import os
import time
from pathlib import Path

import pytest

from logbot.archive.index import Index
from logbot.archive.model import Query
from tests.archive.index.files import append, day_file, gzip_file, lines, record, texts


def test_every_record_is_indexed_with_its_place(root: Path, index: Index) -> None:
    append(day_file(root), [record(i, text=f"line {i}") for i in range(3)])
    append(day_file(root, "2026-01-03"), [record(0, day="2026-01-03", text="next day")])
    assert index.update(root) == 4
    assert texts(index) == [(1, "line 0"), (2, "line 1"), (3, "line 2")]
    assert texts(index, day="2026-01-03") == [(1, "next day")]
    assert index.update(root) == 0  # nothing new: nothing twice
    assert index.days("net", "#chan") == [("2026-01-02", 3), ("2026-01-03", 1)]


def test_a_last_line_without_newline_waits(root: Path, index: Index) -> None:
    path = day_file(root)
    whole = lines([record(0, text="one"), record(1, text="two")])
    cut = len(lines([record(0, text="one")])) + 10
    append(path, whole[:cut])
    assert index.update(root) == 1
    assert texts(index) == [(1, "one")]
    append(path, whole[cut:])
    assert index.update(root) == 1
    assert texts(index) == [(1, "one"), (2, "two")]


def test_bad_lines_are_counted_and_warned_once_per_file(
    root: Path, index: Index, caplog: pytest.LogCaptureFixture
) -> None:
    path = day_file(root)
    no_time = record(2)
    del no_time["time"]
    bad = [
        b"not json",
        b"[1, 2]",
        json.dumps(no_time).encode(),
        json.dumps(record(3, time_ms="soon")).encode(),
        json.dumps(record(4, channel="")).encode(),
        b"{" * 100000,  # deeper than the JSON parser recurses
        b"\xff\xfe not utf-8",
    ]
    append(path, lines([record(0, text="good")]) + b"\n".join(bad) + b"\n")
    with caplog.at_level(logging.WARNING, "logbot.archive.index"):
        assert index.update(root) == 1
        append(path, b"still not json\n" + lines([record(1, text="good again")]))
        assert index.update(root) == 1
    assert index.bad_lines == len(bad) + 1
    warnings = [r for r in caplog.records if "not jsonl records" in r.getMessage()]
    assert len(warnings) == 1 and str(path) in warnings[0].getMessage()
    assert texts(index) == [(1, "good"), (2, "good again")]


def test_a_line_longer_than_the_limit_is_skipped_without_being_held(
    root: Path, index: Index, monkeypatch: pytest.MonkeyPatch
) -> None:
    from logbot.archive.index import sources

    monkeypatch.setattr(sources, "MAX_LINE_BYTES", 1000)
    monkeypatch.setattr(sources, "READ_CHUNK", 256)
    long = json.dumps(record(1, text="x" * 5000)).encode()
    path = day_file(root)
    append(path, lines([record(0, text="short")]) + long[:3000])
    assert index.update(root) == 1  # the long line is not complete yet: it waits
    append(path, long[3000:] + b"\n" + lines([record(2, text="after")]))
    assert index.update(root) == 1
    assert texts(index) == [(1, "short"), (2, "after")]
    assert index.bad_lines == 1


def test_gz_files_are_read(root: Path, index: Index) -> None:
    path = day_file(root)
    append(path, [record(i, text=f"old {i}") for i in range(5)])
    gzip_file(path)
    assert index.update(root) == 5
    assert [t for _, t in texts(index)] == [f"old {i}" for i in range(5)]


def test_compressing_a_file_indexed_halfway_reads_each_line_once(root: Path, index: Index) -> None:
    path = day_file(root)
    append(path, [record(i, text=f"line {i}") for i in range(3)])
    assert index.update(root) == 3
    append(path, [record(i, text=f"line {i}") for i in range(3, 5)])
    packed = gzip_file(path)  # rotated and compressed before the index looked again
    assert index.update(root) == 2
    assert texts(index) == [(i + 1, f"line {i}") for i in range(5)]
    assert index.update(root) == 0
    # a restart: a new object starts from what the database says
    with Index(index.path) as again:
        assert again.update(root) == 0
    assert packed.exists() and not path.exists()


def test_a_gz_copy_beside_its_plain_file_is_not_read_twice(root: Path, index: Index) -> None:
    """The compressor writes X.gz before it deletes X (and keeps X if it changed)."""
    path = day_file(root)
    append(path, [record(i, text=f"line {i}") for i in range(3)])
    (path.with_name(path.name + ".gz")).write_bytes(gzip.compress(path.read_bytes()))
    assert index.update(root) == 3
    append(path, [record(3, text="line 3")])
    assert index.update(root) == 1
    path.unlink()  # the .gz has fewer lines than were read from X: it is read anew
    assert index.update(root) == 3
    assert texts(index) == [(i + 1, f"line {i}") for i in range(3)]  # the .gz's lines
    with Index(index.path.with_name("other.sqlite3")) as fresh:  # the same files, anew
        path.with_name(path.name + ".gz").unlink()
        append(path, [record(i, text=f"line {i}") for i in range(3)])
        (path.with_name(path.name + ".gz")).write_bytes(gzip.compress(path.read_bytes()))
        assert fresh.update(root) == 3


def test_late_lines_beside_a_days_gz_are_both_indexed(root: Path, index: Index) -> None:
    """After a restart a late line can recreate a day whose .gz exists: different files."""
    path = day_file(root)
    append(path, [record(i, text=f"day {i}") for i in range(3)])
    gzip_file(path)
    assert index.update(root) == 3
    append(path, [record(50, text="late")])
    assert index.update(root) == 1
    assert texts(index) == [(1, "day 0"), (2, "day 1"), (3, "day 2"), (4, "late")]
    # the compressor then renames it to a free part, and compresses that
    part = path.with_name("2026-01-02.001.jsonl")
    os.rename(path, part)
    gzip_file(part)
    assert index.update(root) == 0
    rebuilt = Index(index.path.with_name("rebuilt.sqlite3"))
    assert rebuilt.update(root) == 4
    assert texts(rebuilt) == texts(index)  # the same seq for the same line
    rebuilt.close()


def test_size_rotation_keeps_the_order_and_reads_nothing_twice(root: Path, index: Index) -> None:
    live = day_file(root)
    append(live, [record(i, text=f"a{i}") for i in range(3)])
    assert index.update(root) == 3
    append(live, [record(3, text="a3")])  # written, not yet indexed, then rotated:
    os.rename(live, live.with_name("2026-01-02.001.jsonl"))
    append(live, [record(4, text="b4")])
    assert index.update(root) == 2
    assert texts(index) == [(1, "a0"), (2, "a1"), (3, "a2"), (4, "a3"), (5, "b4")]
    gzip_file(live.with_name("2026-01-02.001.jsonl"))
    append(live, [record(5, text="b5")])
    assert index.update(root) == 1
    with Index(index.path.with_name("rebuilt.sqlite3")) as rebuilt:
        rebuilt.update(root)
        assert texts(rebuilt) == texts(index)


def test_a_truncated_or_replaced_file_is_read_again(
    root: Path, index: Index, caplog: pytest.LogCaptureFixture
) -> None:
    path = day_file(root)
    append(path, [record(i, text=f"old {i}") for i in range(4)])
    assert index.update(root) == 4
    path.unlink()
    append(path, [record(i, text=f"new {i}") for i in range(2)])  # shorter, other inode
    with caplog.at_level(logging.WARNING, "logbot.archive.index"):
        assert index.update(root) == 2
    assert texts(index) == [(1, "new 0"), (2, "new 1")]
    assert "truncated or replaced" in caplog.text
    os.truncate(path, 0)  # same inode, emptied
    append(path, [record(9, text="again")])
    assert index.update(root) == 1
    assert texts(index) == [(1, "again")]
    assert index.count(Query(words="old")) == 0 and index.count(Query(words="new")) == 0


def test_a_file_replaced_by_a_longer_copy_goes_on(root: Path, index: Index) -> None:
    """A restore (a copy with more lines, another inode) is the same file grown."""
    path = day_file(root)
    append(path, [record(i, text=f"line {i}") for i in range(2)])
    assert index.update(root) == 2
    copy = path.with_name("copy.tmp")
    copy.write_bytes(path.read_bytes() + lines([record(2, text="line 2")]))
    os.replace(copy, path)
    assert index.update(root) == 1
    assert [t for _, t in texts(index)] == ["line 0", "line 1", "line 2"]


def test_a_deleted_file_takes_its_lines_out(root: Path, index: Index) -> None:
    old, new = day_file(root, "2026-01-01"), day_file(root)
    append(old, [record(0, day="2026-01-01", text="old")])
    append(new, [record(0, text="new")])
    assert index.update(root) == 2
    old.unlink()  # retention
    index.update(root)
    assert index.days("net", "#chan") == [("2026-01-02", 1)]
    assert index.day_lines("net", "#chan", "2026-01-01") == []


def test_an_empty_root_keeps_the_index(root: Path, index: Index) -> None:
    """An unmounted disk shows an empty folder: that is not every log deleted."""
    path = day_file(root)
    append(path, [record(0)])
    assert index.update(root) == 1
    path.unlink()
    path.parent.rmdir()
    path.parent.parent.rmdir()
    index.update(root)
    assert index.days("net", "#chan") == [("2026-01-02", 1)]
    root.rename(root.with_name("moved"))  # and no root at all
    index.update(root)
    assert index.days("net", "#chan") == [("2026-01-02", 1)]


def test_seq_is_kept_by_a_rebuild(root: Path, index: Index) -> None:
    a, b = day_file(root), day_file(root, channel="#other")
    for i in range(6):  # two channels written and indexed bit by bit
        append(a, [record(i, text=f"a{i}")])
        append(b, [record(i, channel="#other", text=f"b{i}")])
        if i % 2:
            index.update(root)
    gzip_file(b)
    index.update(root)
    before = {(c, day): texts(index, channel=c) for c in ("#chan", "#other") for day in [0]}
    assert index.rebuild(root) == 12
    after = {(c, day): texts(index, channel=c) for c in ("#chan", "#other") for day in [0]}
    assert after == before
    assert before[("#chan", 0)] == [(i + 1, f"a{i}") for i in range(6)]


def test_two_index_objects_on_one_root_never_insert_a_line_twice(
    root: Path, tmp_path: Path
) -> None:
    path = day_file(root)
    first = Index(tmp_path / "shared.sqlite3")
    second = Index(tmp_path / "shared.sqlite3")
    try:
        total = 0
        for i in range(10):
            append(path, [record(i, text=f"line {i}")])
            updater = first if i % 3 else second
            total += updater.update(root, max_lines=1)
            total += (second if updater is first else first).update(root)
        assert total == 10
        assert texts(first) == [(i + 1, f"line {i}") for i in range(10)]
        assert texts(second) == texts(first)
    finally:
        first.close()
        second.close()


def test_max_lines_bounds_one_update(root: Path, index: Index) -> None:
    append(day_file(root), [record(i) for i in range(25)])
    done = []
    while True:
        done.append(index.update(root, max_lines=10))
        if not index.pending:
            break
    assert done[:3] == [10, 10, 5] and sum(done) == 25
    assert [seq for seq, _ in texts(index)] == list(range(1, 26))


def test_a_catch_up_in_small_batches_reaches_every_file(root: Path, index: Index) -> None:
    """Files not reached before the limit are looked at next time, without waiting for
    their folder to change or for a sweep."""
    for d in range(1, 7):
        day = f"2026-01-0{d}"
        append(day_file(root, day), [record(i, day=day, text=f"{day} {i}") for i in range(4)])
        if d < 4:
            gzip_file(day_file(root, day))
    past = time.time() - 100
    for folder in (root, root / "net", root / "net" / "#chan"):
        os.utime(folder, (past, past))  # settled: no new listing of its own
    total, updates = 0, 0
    while True:
        total += index.update(root, max_lines=3)
        updates += 1
        if not index.pending:
            break
    assert total == 24 and updates <= 9  # 3 lines each (the last may find none left)
    assert [n for _, n in index.days("net", "#chan")] == [4] * 6


def test_channels_keep_the_latest_spelling_under_one_key(root: Path, index: Index) -> None:
    append(day_file(root, channel="#chan"), [record(0, channel="#Chan"), record(1)])
    append(day_file(root, "2026-01-03"), [record(0, day="2026-01-03", channel="#CHAN")])
    index.update(root)
    (info,) = index.channels("net")
    assert (info.key, info.name, info.first_day, info.last_day, info.lines) == (
        "#chan",
        "#CHAN",
        "2026-01-02",
        "2026-01-03",
        3,
    )
    assert index.networks() == ["net"]


def test_symbolic_links_are_not_followed(root: Path, index: Index, tmp_path: Path) -> None:
    outside = tmp_path / "outside" / "#secret"
    append(outside / "2026-01-02.jsonl", [record(0, channel="#secret")])
    (root / "net").mkdir()
    (root / "net" / "#secret").symlink_to(outside)
    append(day_file(root), [record(0)])
    (root / "net" / "#chan" / "2026-01-03.jsonl").symlink_to(outside / "2026-01-02.jsonl")
    assert index.update(root) == 1
    assert [c.key for c in index.channels("net")] == ["#chan"]


def test_nothing_is_written_under_the_root(root: Path, index: Index) -> None:
    path = day_file(root)
    append(path, [record(0)])
    gzip_file(path)
    append(path, [record(1)])
    before = {p: p.stat().st_mtime_ns for p in root.rglob("*")}
    index.update(root)
    index.rebuild(root)
    assert {p: p.stat().st_mtime_ns for p in root.rglob("*")} == before


def test_hostile_and_unusual_text_is_stored_as_written(root: Path, index: Index) -> None:
    weird = [
        "café ☕ naïve — 日本語",
        "NUL \x00 and escape \x1b[2J",
        'quotes " and \\ backslashes',
        "lone surrogate \ud800 here",
    ]
    raw = b"".join(json.dumps(record(i, text=t)).encode() + b"\n" for i, t in enumerate(weird))
    append(day_file(root), raw)
    assert index.update(root) == 4
    got = [line.record["text"] for line in index.day_lines("net", "#chan", "2026-01-02")]
    assert got == weird  # the record is the line as written; only the indexed copy is cleaned


def test_a_damaged_gz_is_read_as_far_as_it_goes(
    root: Path, index: Index, caplog: pytest.LogCaptureFixture
) -> None:
    path = day_file(root)
    append(path, [record(i, text="x" * 200 + str(i)) for i in range(200)])
    data = gzip.compress(path.read_bytes())
    path.unlink()
    path.with_name(path.name + ".gz").write_bytes(data[: len(data) // 2])
    with caplog.at_level(logging.WARNING, "logbot.archive.index"):
        n = index.update(root)
    assert 0 < n < 200
    assert "damaged" in caplog.text
    assert index.update(root) == 0  # not read again and again
