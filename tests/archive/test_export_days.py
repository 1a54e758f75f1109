"""``logbot archive export``'s core (:mod:`logbot.archive.handover`): the bot's files
indexed, then exported, are the bot's files again, byte for byte, in every text
layout; private logs only when asked; the date bounds; days that exist are skipped
(or merged); a link planted in OUT is not followed; a day of 100,000 lines is read a
page at a time; irclog2html reads what is exported.  And the record round trip:
a stored jsonl record -> LogRecord -> format_jsonl is the record again."""

from __future__ import annotations

import json
import os
import random
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from logbot.archive.handover import PAGE_LINES, ExportRefused, export_days
from logbot.archive.handover.records import jsonl_line, record_from_jsonl, schema_order
from logbot.archive.index import Index
from logbot.archive.index.reads import ChannelInfo
from logbot.archive.model import Line
from logbot.bot import netsplits
from logbot.config.settings import Config
from logbot.logs import splits
from logbot.logs.formats import format_jsonl
from logbot.logs.schema import load_schema
from tests.archive.handover_logs import DAYS, NET, files, make_logs
from tests.logs.test_text_readers import irclog2html


@pytest.fixture
def logs(tmp_path: Path) -> Iterator[tuple[Config, Index]]:
    config, index = make_logs(tmp_path)
    yield config, index
    index.close()


@pytest.mark.parametrize("layout", ["limnoria", "irssi", "znc"])
def test_an_export_of_the_index_is_the_bot_files_byte_for_byte(tmp_path: Path, layout: str) -> None:
    config, index = make_logs(tmp_path, layout)
    with index:
        report = export_days(index, config, tmp_path / "out", NET, private=True)
    original = files(tmp_path / "logs")
    assert files(tmp_path / "out") == original
    assert report.written == len(original) // 2 and not report.failed and not report.skipped
    assert sum(report.lines.values()) == sum(n.count(b"\n") for k, n in original.items()
                                             if k.endswith(".jsonl"))  # fmt: skip
    assert report.unrendered == 0


def test_private_logs_only_when_asked_or_named(tmp_path: Path, logs: tuple[Config, Index]) -> None:
    config, index = logs
    export_days(index, config, tmp_path / "a", NET)
    assert {Path(k).parent.name for k in files(tmp_path / "a")} == {"#chan", "#other"}
    export_days(index, config, tmp_path / "b", NET, ["ALICE", "#CHAN"])
    assert {Path(k).parent.name for k in files(tmp_path / "b")} == {"#chan", "alice"}
    export_days(index, config, tmp_path / "c", NET, private=True)
    assert {Path(k).parent.name for k in files(tmp_path / "c")} == {"#chan", "#other", "alice"}


def test_since_and_until_bound_the_days_both_included(
    tmp_path: Path, logs: tuple[Config, Index]
) -> None:
    config, index = logs
    day = date.fromisoformat
    export_days(index, config, tmp_path / "out", NET, ["#chan"], since=day(DAYS[1]))
    assert sorted(files(tmp_path / "out")) == [
        f"{NET}/#chan/{d}.{ext}" for d in DAYS[1:] for ext in ("jsonl", "log")
    ]
    report = export_days(
        index, config, tmp_path / "one", NET, since=day(DAYS[1]), until=day(DAYS[1])
    )
    assert sorted(files(tmp_path / "one")) == [
        f"{NET}/{c}/{DAYS[1]}.{ext}" for c in ("#chan", "#other") for ext in ("jsonl", "log")
    ]
    assert report.written == 2


def test_existing_days_are_skipped_then_merged_with_merge(
    tmp_path: Path, logs: tuple[Config, Index]
) -> None:
    config, index = logs
    out = tmp_path / "out"
    export_days(index, config, out, NET, ["#chan"])
    before = files(out)
    day = out / NET / "#chan" / DAYS[0]
    for ext in ("jsonl", "log"):  # the bot was down: its first five lines not logged
        path = day.with_suffix(f".{ext}")
        path.write_bytes(b"".join(path.read_bytes().splitlines(keepends=True)[5:]))
    cut = files(out)
    report = export_days(index, config, out, NET, ["#chan"])
    assert report.written == 0 and not report.failed and files(out) == cut
    assert [(c, d) for c, d, _ in report.skipped] == [("#chan", d) for d in DAYS]

    report = export_days(index, config, out, NET, ["#chan"], merge=True)
    # Every day existed: each is merged, only the lines missing are added, in place.
    assert report.merged == 3 and report.written == 0 and not report.failed
    assert report.lines["#chan"] == 5
    assert files(out) == before


def test_out_must_be_new_empty_or_a_log_root(tmp_path: Path, logs: tuple[Config, Index]) -> None:
    config, index = logs
    out = tmp_path / "out"
    (out / ".git").mkdir(parents=True)
    (out / ".git" / "config").write_text("hidden: left alone")
    export_days(index, config, out, NET, ["#other"])  # empty but for hidden files
    export_days(index, config, out, NET, ["#chan"])  # a log root now
    (out / "notes.txt").write_text("mine")
    with pytest.raises(ExportRefused, match="notes.txt"):
        export_days(index, config, out, NET)
    with pytest.raises(ExportRefused, match="overlap"):
        export_days(index, config, tmp_path / "logs" / "sub", NET)
    with pytest.raises(ExportRefused, match="no network"):
        export_days(index, config, tmp_path / "new", "efnet")
    with pytest.raises(ExportRefused, match="no channel"):
        export_days(index, config, tmp_path / "new", NET, ["#nowhere"])
    assert not (tmp_path / "new").exists()


def test_a_link_planted_in_out_is_not_followed(tmp_path: Path, logs: tuple[Config, Index]) -> None:
    config, index = logs
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    out = tmp_path / "out"
    (out / NET).mkdir(parents=True)
    os.symlink(elsewhere, out / NET / "#chan")  # a folder: the days fail, nothing there
    victim = tmp_path / "victim.sh"
    victim.write_text("#!/bin/sh\n")
    (out / NET / "#other").mkdir()
    os.symlink(victim, out / NET / "#other" / f"{DAYS[1]}.log")  # a file: the day exists
    report = export_days(index, config, out, NET)
    assert [(c, d) for c, d, _ in report.failed] == [("#chan", d) for d in DAYS]
    assert all("link" in why for _, _, why in report.failed)
    assert [(c, d) for c, d, _ in report.skipped] == [("#Other", DAYS[1])]
    assert list(elsewhere.iterdir()) == [] and victim.read_text() == "#!/bin/sh\n"
    assert sorted(p.name for p in (out / NET / "#other").iterdir()) == [f"{DAYS[1]}.log"]


def test_irclog2html_reads_an_exported_text_file(
    tmp_path: Path, logs: tuple[Config, Index]
) -> None:
    config, index = logs
    export_days(index, config, tmp_path / "out", NET, ["#chan"], until=date(2026, 3, 9))
    log = tmp_path / "out" / NET / "#chan" / f"{DAYS[0]}.log"
    rows = irclog2html(log, tmp_path)
    assert len(rows) == len(log.read_text().splitlines()) > 20
    assert None not in [time for time, _ in rows]
    assert rows[0] == ("2026-03-09T00:00:00", "text")


# -- a day of 100,000 lines ------------------------------------------------------------

BIG = 100_000
_BIG_DAY = "2026-03-10"


class BigStore:
    """A store of one channel with one day of :data:`BIG` lines, made when asked for
    (so the test measures the export, not the store): each page's size is checked,
    and the lines alive at once are counted (:meth:`made`, :meth:`freed`)."""

    def __init__(self) -> None:
        self.pages: list[tuple[int, int | None]] = []
        start = datetime(2026, 3, 9, 23, 0, tzinfo=UTC)
        self.start_ms = int(start.timestamp() * 1000)
        self.alive = self.most_alive = 0

    def networks(self) -> list[str]:
        return [NET]

    def channels(self, network: str) -> list[ChannelInfo]:
        return [ChannelInfo(NET, "#big", "#big", _BIG_DAY, _BIG_DAY, BIG)]

    def days(self, network: str, channel: str) -> list[tuple[str, int]]:
        return [(_BIG_DAY, BIG)]

    def line(self, n: int) -> str:
        ms = self.start_ms + n * 500
        when = datetime.fromtimestamp(ms / 1000, UTC) + timedelta(hours=1)
        stamp = when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}+01:00"
        return (
            f'{{"time":"{stamp}","time_ms":{ms},"time_source":"local","type":"message",'
            f'"network":"{NET}","channel":"#big","nick":"n{n % 97}","user":"~u","host":"h",'
            f'"account":null,"text":"line number {n} of the big day","msgid":null,"tags":{{}}}}'
        )

    def made(self) -> None:
        self.alive += 1
        self.most_alive = max(self.most_alive, self.alive)

    def freed(self) -> None:
        self.alive -= 1

    def day_lines(
        self, network: str, channel: str, day: str, after: int = 0, limit: int | None = None
    ) -> list[Line]:
        self.pages.append((after, limit))
        assert limit is not None and limit <= PAGE_LINES
        stop = min(BIG, after + limit)
        return [_Counted(self, n, json.loads(self.line(n))) for n in range(after + 1, stop + 1)]


class _Counted(Line):
    """A line that tells its store when it is made and when it is freed."""

    def __init__(self, store: BigStore, seq: int, record: dict[str, Any]) -> None:
        super().__init__(seq, record)
        object.__setattr__(self, "store", store)
        store.made()

    def __del__(self) -> None:
        self.store.freed()  # type: ignore[attr-defined]


def test_a_day_of_100000_lines_is_read_and_written_a_page_at_a_time(
    tmp_path: Path, logs: tuple[Config, Index]
) -> None:
    config, _ = logs
    store = BigStore()
    report = export_days(store, config, tmp_path / "out", NET)
    assert report.written == 1 and report.lines["#big"] == BIG and not report.failed
    assert store.pages[0] == (0, PAGE_LINES) and len(store.pages) == BIG // PAGE_LINES + 1
    # Never more than the page read and the one before it (still named) at once.
    assert store.most_alive <= 2 * PAGE_LINES
    jsonl = (tmp_path / "out" / NET / "#big" / f"{_BIG_DAY}.jsonl").read_bytes()
    assert jsonl.count(b"\n") == BIG
    text = (tmp_path / "out" / NET / "#big" / f"{_BIG_DAY}.log").read_bytes()
    assert text.count(b"\n") == BIG
    assert jsonl.startswith(store.line(1).encode() + b"\n")
    assert jsonl.endswith(store.line(BIG).encode() + b"\n")
    assert text.endswith(b"\n2026-03-10T13:53:20  <n90> line number 100000 of the big day\n")


# -- the record round trip --------------------------------------------------------------


def _stored_lines(root: Path) -> list[str]:
    return [
        line
        for path in sorted(root.rglob("*.jsonl"))
        for line in path.read_text(encoding="utf-8").splitlines(keepends=True)
    ]


def test_every_record_the_bot_writes_comes_back_as_its_line(
    tmp_path: Path, logs: tuple[Config, Index]
) -> None:
    examples = [json.dumps(e, ensure_ascii=False, separators=(",", ":")) + "\n"
                for e in load_schema()["examples"]]  # fmt: skip
    lines = examples + _stored_lines(tmp_path / "logs")
    kinds = set()
    for line in lines:
        obj = json.loads(line)
        record = record_from_jsonl(obj)
        tz = record.time.tzinfo
        assert tz is not None
        assert format_jsonl(record, tz) == line
        assert jsonl_line(obj, record, tz) == line
        kinds |= {obj["type"], *(k for k in ("replayed", "server_time", "netsplit") if k in obj)}
    assert {"replayed", "server_time", "netsplit", "gap", "topic_info"} <= kinds


def test_a_record_in_another_key_order_is_written_in_the_bot_s(
    tmp_path: Path, logs: tuple[Config, Index]
) -> None:
    """A store that keeps no key order (PostgreSQL's jsonb) still gives the bot's line."""
    for line in _stored_lines(tmp_path / "logs"):
        obj = json.loads(line)
        items = list(obj.items())
        random.Random(line).shuffle(items)
        shuffled = dict(items)
        record = record_from_jsonl(shuffled)
        assert record.time.tzinfo is not None
        assert jsonl_line(shuffled, record, record.time.tzinfo) == line


def test_a_record_the_bot_could_not_have_written_is_kept_as_it_is() -> None:
    """Unknown keys, an unknown type: nothing lost, the schema's keys in its order."""
    obj: dict[str, Any] = {
        "future": [1, 2],
        "tags": {},
        "type": "reaction",
        "time": "2026-03-10T10:00:00.000+01:00",
        "time_ms": 1773133200000,
        "time_source": "local",
        "network": NET,
        "channel": "#chan",
        "nick": "mia",
        "user": None,
        "host": None,
        "account": None,
        "text": "👍",
        "msgid": None,
    }
    record = record_from_jsonl(obj)
    assert record.time.tzinfo is not None
    line = jsonl_line(obj, record, record.time.tzinfo)
    assert json.loads(line) == obj
    keys = list(json.loads(line))
    assert keys == [k for k in schema_order() if k in obj] + ["future"]
    assert line.startswith('{"time":"2026-03-10T10:00:00.000+01:00","time_ms":')
    with pytest.raises(ValueError):
        record_from_jsonl(obj | {"nick": 3})


def test_a_long_netsplit_summary_takes_several_lines() -> None:
    """logs/splits.py words them for both the export and the bot (bot/netsplits.py)."""
    when = datetime(2026, 3, 10, tzinfo=UTC)
    nicks = [f"n{i}" for i in range(splits.NICKS_PER_LINE + 3)]
    lines = splits.summaries("netsplit", "a b", NET, "#chan", nicks, when, "local")
    assert [len(r.text.split(", ")) for r in lines] == [splits.NICKS_PER_LINE, 3]
    assert netsplits.summaries is splits.summaries
