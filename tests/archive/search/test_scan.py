"""The file scan: real files under tmp_path, jsonl written by hand, text lines in the
limnoria (and irssi) layout, gzip copies, damaged and hostile files."""

from __future__ import annotations

import gzip
import heapq
import json
import os
from pathlib import Path
from typing import Any

import pytest

from logbot.archive.model import Hit, Query
from logbot.archive.search import lines as lines_module
from logbot.archive.search import scan as scan_module
from logbot.archive.search.scan import scan
from logbot.config.loader import load_config

from .conftest import record, write_config, write_jsonl, write_text

CHAN = "net/#chan"


def ms(when: str) -> int:
    return int(record(when)["time_ms"])


def texts(hits: list[Hit]) -> list[Any]:
    return [h.record["text"] for h in hits]


def search(config: Any, **query: Any) -> tuple[list[Hit], Any]:
    context = query.pop("context", 0)
    return scan(config, Query(**query), context=context)


def test_jsonl_text_and_gzip_newest_first_each_line_once(logs: Path, config: Any) -> None:
    # day 1: text only, compressed; day 2: both formats (only the jsonl is read);
    # day 3: jsonl compressed; day 4: a plain file and its .gz being written (plain read)
    write_text(logs / CHAN / "2026-12-01.log", ["2026-12-01T10:00:00  <alice> one"], gz=True)
    write_text(logs / CHAN / "2026-12-02.log", ["2026-12-02T10:00:00  <alice> two (text)"])
    write_jsonl(logs / CHAN / "2026-12-02.jsonl", [record("2026-12-02T10:00:00", "two")])
    write_jsonl(logs / CHAN / "2026-12-03.jsonl", [record("2026-12-03T10:00:00", "three")], gz=True)
    four = [record("2026-12-04T10:00:00", "four")]
    write_jsonl(logs / CHAN / "2026-12-04.jsonl", four)
    (logs / CHAN / "2026-12-04.jsonl.gz").write_bytes(b"\x1f\x8b half written")
    hits, report = search(config)
    assert texts(hits) == ["four", "three", "two", "one"]
    assert [(h.network, h.channel, h.day, h.seq) for h in hits][-1] == (
        "net",
        "#chan",
        "2026-12-01",
        1,
    )
    assert hits[-1].record["time"] == "2026-12-01T10:00:00.000+00:00"
    assert hits[-1].record["time_source"] == "local"
    assert report.files == 4 and report.summary() is None


def test_limit_offset_and_memory_bound(logs: Path, config: Any, monkeypatch: Any) -> None:
    write_jsonl(
        logs / CHAN / "2026-12-06.jsonl",
        [record(f"2026-12-06T10:{n // 60:02d}:{n % 60:02d}", f"line {n}") for n in range(600)],
    )
    most = [0]
    push = heapq.heappush

    def counting(heap: list[Any], item: Any) -> None:
        push(heap, item)
        most[0] = max(most[0], len(heap))

    monkeypatch.setattr(scan_module.heapq, "heappush", counting)
    hits, _ = search(config, limit=3, offset=2)
    assert texts(hits) == ["line 597", "line 596", "line 595"]
    assert [h.seq for h in hits] == [598, 597, 596]
    assert most[0] == 5  # never more than limit + offset hits held


def test_context_lines_come_from_the_hits_file(logs: Path, config: Any) -> None:
    write_text(
        logs / CHAN / "2026-12-06.log",
        [
            "2026-12-06T10:00:00  <alice> a",
            "2026-12-06T10:00:01  *** logbot: connected",  # the bot's: not a record
            "2026-12-06T10:00:02  <bob> b target",
            "2026-12-06T10:00:03  * carol c",
            "2026-12-06T10:00:04  <dave> d target",
        ],
    )
    write_jsonl(logs / CHAN / "2026-12-07.jsonl", [record("2026-12-07T10:00:00", "e")])
    hits, _ = search(config, words="target", context=2)
    assert [(h.seq, [(line.seq, line.record["text"]) for line in h.context]) for h in hits] == [
        (4, [(2, "b target"), (3, "c"), (4, "d target")]),
        (2, [(1, "a"), (2, "b target"), (3, "c"), (4, "d target")]),
    ]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"network": "other"}, ["elsewhere"]),
        ({"channel": "#CHAN"}, ["late", "hello there", "ok"]),
        ({"nick": "BOB"}, ["ok"]),
        ({"types": ("action",)}, ["late"]),
        ({"words": "hello"}, ["hello there"]),
        ({"regex": "^h.*e$"}, ["hello there"]),
        ({"since_ms": ms("2026-12-06T12:00:00")}, ["late"]),
        ({"until_ms": ms("2026-12-06T12:00:00")}, ["elsewhere", "hello there", "ok"]),
    ],
)
def test_each_filter(logs: Path, config: Any, query: dict[str, Any], expected: list[str]) -> None:
    write_jsonl(
        logs / CHAN / "2026-12-06.jsonl",
        [
            record("2026-12-06T09:00:00", "ok", nick="bob"),
            record("2026-12-06T11:00:00", "hello there"),
            record("2026-12-06T13:00:00", "late", type="action"),
        ],
    )
    write_jsonl(
        logs / "other/#x/2026-12-06.jsonl",
        [record("2026-12-06T11:30:00", "elsewhere", network="other", channel="#x")],
    )
    assert texts(search(config, **query)[0]) == expected


def test_files_outside_the_time_window_are_not_opened(logs: Path, config: Any) -> None:
    write_jsonl(logs / CHAN / "2026-12-06.jsonl", [record("2026-12-06T10:00:00", "in")])
    write_text(logs / CHAN / "2026-01-01.log", ["garbage that would count as a bad line"])
    hits, report = search(config, since_ms=ms("2026-12-05T22:40:00"))
    assert texts(hits) == ["in"]
    assert report.files == 1 and report.bad_lines == 0


def test_damage_is_counted_and_reported_never_raised(
    logs: Path, config: Any, monkeypatch: Any
) -> None:
    monkeypatch.setattr(lines_module, "MAX_LINE_BYTES", 400)
    good = record("2026-12-06T10:00:00", "good")
    path = write_jsonl(logs / CHAN / "2026-12-06.jsonl", [good])
    with path.open("ab") as f:
        f.write(b"{not json\n[1, 2]\n" + b'{"x": "' + b"y" * 500 + b'"}\n' + b"\xff\xfe\n")
        f.write(b"[" * 100 + b"\n")
    packed = gzip.compress(
        "".join(
            json.dumps(record(f"2026-12-05T10:00:0{n}", f"gz {n}")) + "\n" for n in range(3)
        ).encode()
    )
    (logs / CHAN / "2026-12-05.jsonl.gz").write_bytes(packed[: len(packed) - 12])  # cut short
    hits, report = search(config)
    assert texts(hits)[:1] == ["good"]
    assert set(texts(hits)[1:]) <= {"gz 0", "gz 1", "gz 2"}
    assert report.unreadable == ["net/#chan/2026-12-05.jsonl.gz"]
    assert report.bad_lines == 5
    assert report.summary() == ("1 file could not be read to the end; 5 lines could not be read")


def test_links_fifos_and_stray_text_files(logs: Path, tmp_path: Path, config: Any) -> None:
    outside = tmp_path / "outside"
    write_jsonl(outside / "2026-12-06.jsonl", [record("2026-12-06T10:00:00", "secret")])
    (logs / "net").mkdir()
    (logs / "net" / "#linked").symlink_to(outside)
    (logs / "net" / "#chan").mkdir()
    (logs / CHAN / "2026-12-07.jsonl").symlink_to(outside / "2026-12-06.jsonl")
    os.mkfifo(logs / CHAN / "2026-12-08.jsonl")  # opening it would block the scan
    write_text(logs / "stray.log", ["2026-12-06T10:00:00  <x> where am I"])
    write_jsonl(logs / "imported.jsonl", [record("2026-12-06T11:00:00", "placed by itself")])
    hits, report = search(config)
    assert texts(hits) == ["placed by itself"]
    assert report.unplaced == ["stray.log"]
    assert "1 text file outside logging.path was left out" in (report.summary() or "")


def test_the_channels_layout_and_time_zone(tmp_path: Path, logs: Path) -> None:
    config = load_config(write_config(tmp_path, "  text_layout: irssi\n  timezone: Europe/Paris\n"))
    write_text(logs / CHAN / "2026-12-06.log", ["14:03 <alice> bonjour", "14:05 -!- garbage"])
    hits, report = search(config)
    (hit,) = hits
    assert hit.record["time"] == "2026-12-06T14:03:00.000+01:00"
    assert hit.record["time_ms"] == 1796562180000  # 13:03Z
    assert report.bad_lines == 1


def test_a_template_without_a_date(tmp_path: Path, logs: Path) -> None:
    """``{network}/{channel}.log`` with size-rotated parts: a file holds many days,
    the parts come first, each day's lines count from 1."""
    config = load_config(
        write_config(
            tmp_path, '  path: "{network}/{channel}.log"\n  rotation: size\n  max_bytes: 100000\n'
        )
    )
    write_text(logs / "net" / "#chan.001.log", ["2026-12-05T23:59:00  <a> one",
                                                "2026-12-06T00:01:00  <a> two"])  # fmt: skip
    write_text(logs / "net" / "#chan.log", ["2026-12-06T00:02:00  <a> three"])
    hits, _ = search(config)
    assert [(h.record["text"], h.record["channel"], h.day, h.seq) for h in hits] == [
        ("three", "#chan", "2026-12-06", 2),
        ("two", "#chan", "2026-12-06", 1),
        ("one", "#chan", "2026-12-05", 1),
    ]


def test_progress_is_told_files_and_bytes(logs: Path, config: Any) -> None:
    sizes = [
        write_jsonl(logs / CHAN / f"2026-12-0{d}.jsonl", [record(f"2026-12-0{d}T10:00:00")])
        .stat()
        .st_size
        for d in (1, 2)
    ]
    calls: list[tuple[int, int, int, int]] = []
    scan(config, Query(), progress=lambda *a: calls.append(a))
    total = sum(sizes)
    assert calls[0] == (0, 2, 0, total)
    assert calls[-1] == (2, 2, total, total)
    assert [c[0] for c in calls] == sorted(c[0] for c in calls)


def test_a_bad_query_is_refused_before_any_reading(config: Any) -> None:
    with pytest.raises(ValueError, match="bad regular expression"):
        scan(config, Query(regex="(["))


def test_a_jsonl_record_is_what_the_index_takes_for_one() -> None:
    """So that the scan and the index find the same lines and number them alike."""
    from logbot.archive.search.lines import jsonl_record

    good = record("2026-12-06T10:00:00")
    assert jsonl_record(json.dumps(good).encode()) == good
    for bad in (
        {"time_ms": True},
        {"time_ms": 253402300800000},  # after 9999
        {"time_ms": "1"},
        {"network": ""},
        {"channel": None},
        {"type": 5},
        {"time": "yesterday"},
    ):
        assert jsonl_record(json.dumps(good | bad).encode()) is None, bad
    assert jsonl_record(b"[" * 100_000 + b"]" * 100_000) is None  # too deep to parse
    assert jsonl_record(b"\xff{}") is None
