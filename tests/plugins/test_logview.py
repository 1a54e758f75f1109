"""LogView: reading back what the real writer wrote, newest first, within its bounds.

The logs are written by :class:`~logbot.logs.writer.LogWriter` on a ``task.Clock`` (and
gzipped as housekeeping leaves them), so the parser is tested against the bot's own
output, in both formats.
"""

from __future__ import annotations

import gzip
import logging
import os
from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Self

import pytest

from logbot.config.settings import LogOptions
from logbot.logs import paths
from logbot.logs.record import LogRecord
from logbot.logs.writer import LogWriter
from logbot.plugins.logview import BLOCK, LoggedLine, LogView
from logbot.reactor.task import Clock

NET = "net"
BASE = datetime(2026, 11, 27, 12, 0, 0, tzinfo=UTC)
NOW = (BASE + timedelta(hours=1)).timestamp()  # the view's wall clock: 2026-11-27 13:00Z

BOTH = LogOptions(formats=("text", "jsonl"))
TEXT = LogOptions(formats=("text",))
JSONL = LogOptions(formats=("jsonl",))


def rec(
    when: datetime,
    text: str | None = "hi",
    nick: str | None = "alice",
    type: str = "message",
    channel: str = "#c",
    **kw: Any,
) -> LogRecord:
    kw.setdefault("user", None if nick is None else "~" + nick)
    kw.setdefault("host", "host.example")
    return LogRecord(when, "server", type, NET, channel, nick, text=text, **kw)


def write(
    root: Path, options: LogOptions, records: Iterable[LogRecord], folded: str = "#c"
) -> None:
    """Write ``records`` with the real writer (records in time order), each at its own
    time on the writer's clock: days of history, as they were logged."""
    now = [NOW]
    writer = LogWriter(Clock(), root=root, wall=lambda: now[0])
    try:
        for r in records:
            now[0] = r.time.timestamp()
            writer.write(r, folded, options)
    finally:
        writer.close()


def view(root: Path, **kw: Any) -> LogView:
    kw.setdefault("wall", lambda: NOW)
    return LogView(root, NET, **kw)


def texts(lines: list[LoggedLine]) -> list[str | None]:
    return [line.text for line in lines]


def day_file(root: Path, day: str, fmt: str = "text", channel: str = "#c") -> Path:
    return root / NET / channel / f"{day}{paths.SUFFIXES[fmt]}"


def gzip_file(path: Path) -> Path:
    """What housekeeping leaves: ``<name>.gz`` and no ``<name>``."""
    gz = path.with_name(path.name + ".gz")
    gz.write_bytes(gzip.compress(path.read_bytes()))
    path.unlink()
    return gz


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "logs"


# -- the formats ------------------------------------------------------------------------


@pytest.mark.parametrize("options", [TEXT, JSONL, BOTH], ids=["text", "jsonl", "both"])
def test_newest_first_with_the_human_form(root: Path, options: LogOptions) -> None:
    write(
        root,
        options,
        [
            rec(BASE, "first"),
            rec(BASE + timedelta(seconds=1), "waves", type="action"),
            rec(BASE + timedelta(seconds=2), "noticed", type="notice"),
            rec(BASE + timedelta(seconds=3), None, nick="bob", type="join", channel="#c"),
            rec(BASE + timedelta(seconds=4, milliseconds=750), "last", nick="bob"),
        ],
    )
    lines = view(root).recent("#c", options)
    assert [(x.type, x.nick, x.text) for x in lines] == [
        ("message", "bob", "last"),
        ("action", "alice", "waves"),
        ("message", "alice", "first"),
    ]
    assert [x.line for x in lines] == [
        "[2026-11-27 12:00:04] <bob> last",
        "[2026-11-27 12:00:01] * alice waves",
        "[2026-11-27 12:00:00] <alice> first",
    ]
    assert lines[0].time.replace(microsecond=0) == BASE + timedelta(seconds=4)
    assert lines[0].time.utcoffset() == timedelta(0)
    notice = view(root).recent("#c", options, types=("notice",))
    assert [x.line for x in notice] == ["[2026-11-27 12:00:02] -alice- noticed"]


@pytest.mark.parametrize("layout", ["limnoria", "irssi", "znc"])
def test_every_text_layout_reads_back_alike(root: Path, layout: str) -> None:
    """!last and !grep on a text-only channel in each layout: the same lines in the
    same words (irssi's time is to the minute)."""
    options = replace(TEXT, text_layout=layout)
    write(
        root,
        options,
        [
            rec(BASE, "first"),
            rec(BASE + timedelta(seconds=1), "waves", type="action"),
            rec(BASE + timedelta(seconds=2), "noticed", type="notice"),
            rec(BASE + timedelta(seconds=3), None, nick="bob", type="join"),
        ],
    )
    lines = view(root).recent("#c", options, types=("message", "action", "notice", "join"))
    stamp = "12:00:00" if layout == "irssi" else "12:00:0{}"
    assert [x.line for x in lines] == [
        f"[2026-11-27 {stamp.format(3)}] " + join
        for join in {
            "limnoria": ["*** bob <bob!~bob@host.example> has joined #c"],
            "irssi": ["-!- bob [~bob@host.example] has joined #c"],
            "znc": ["*** Joins: bob (~bob@host.example)"],
        }[layout]
    ] + [
        f"[2026-11-27 {stamp.format(2)}] -alice- noticed",
        f"[2026-11-27 {stamp.format(1)}] * alice waves",
        f"[2026-11-27 {stamp.format(0)}] <alice> first",
    ]
    assert [x.text for x in view(root).recent("#c", options, words=["WAV"])] == ["waves"]


def test_lines_skipped_unparsed_are_only_lines_that_could_not_match(root: Path) -> None:
    """A text line without the words or the nick in its bytes is skipped before it is
    parsed (!grep and !last read megabytes): never one that matches after folding."""
    write(
        root,
        TEXT,
        [
            rec(BASE, "K\u212a: the Kelvin sign casefolds to k", nick="Alice"),
            rec(BASE + timedelta(seconds=1), "in brackets", nick="bob[m]"),
            rec(BASE + timedelta(seconds=2), "HELLO there", nick="carol"),
        ],
    )
    v = view(root)
    assert texts(v.recent("#c", TEXT, words=["kk"])) == ["K\u212a: the Kelvin sign casefolds to k"]
    assert texts(v.recent("#c", TEXT, words=["hello", "THERE"])) == ["HELLO there"]
    assert texts(v.recent("#c", TEXT, nick="ALICE")) == ["K\u212a: the Kelvin sign casefolds to k"]
    rfc1459 = str.maketrans("[]\\~", "{}|^")
    found = v.recent("#c", TEXT, nick="BOB{M}", fold=lambda s: s.lower().translate(rfc1459))
    assert texts(found) == ["in brackets"]
    assert v.recent("#c", TEXT, nick="nobody") == []


def test_a_text_log_begun_by_an_older_logbot_reads_on(root: Path) -> None:
    """Days written in the layout before (ISO 8601 with the offset), by irssi's layout,
    and in today's default: !last walks back through all of them."""
    folder = root / NET / "#c"
    folder.mkdir(parents=True)
    (folder / "2026-11-25.log").write_text("2026-11-25T13:00:00+01:00 <alice> two days ago\n")
    (folder / "2026-11-26.log").write_text("12:00 <alice> yesterday\n")
    (folder / "2026-11-27.log").write_text(
        "2026-11-27T12:00:00+00:00 <alice> before the upgrade\n"  # a file is finished in
        "2026-11-27T12:00:01+00:00 * alice upgrades\n"  # the layout it was begun in
    )
    lines = view(root).recent("#c", TEXT, limit=10)
    assert [x.line for x in lines] == [
        "[2026-11-27 12:00:01] * alice upgrades",
        "[2026-11-27 12:00:00] <alice> before the upgrade",
        "[2026-11-26 12:00:00] <alice> yesterday",
        "[2026-11-25 12:00:00] <alice> two days ago",
    ]


def test_jsonl_gives_every_type_in_the_text_wording(root: Path) -> None:
    write(
        root,
        BOTH,
        [
            rec(BASE, None, nick="bob", type="join"),
            rec(BASE + timedelta(seconds=1), "bye", nick="bob", type="part"),
            rec(BASE + timedelta(seconds=2), "x", nick="alice", type="nick", target="alicia"),
        ],
    )
    lines = view(root).recent("#c", BOTH, types=("join", "part", "nick"))
    assert [x.line for x in lines] == [
        "[2026-11-27 12:00:02] *** alice is now known as alicia",
        "[2026-11-27 12:00:01] *** bob <bob!~bob@host.example> has left #c (bye)",
        "[2026-11-27 12:00:00] *** bob <bob!~bob@host.example> has joined #c",
    ]
    # the text file's lines of every kind read back, in the same words
    from_text = view(root).recent("#c", TEXT, types=("join", "part", "nick"))
    assert [(x.type, x.nick, x.line) for x in from_text] == [
        (x.type, x.nick, x.line) for x in lines
    ]


@pytest.mark.parametrize("options", [TEXT, JSONL], ids=["text", "jsonl"])
def test_odd_texts_survive(root: Path, options: LogOptions) -> None:
    odd = ["<b> not a nick", "* star", "two  spaces ", "", "\x02bold\x02 é 日本", "a > b"]
    write(
        root,
        options,
        [rec(BASE + timedelta(seconds=i), t, nick="a-b[c]") for i, t in enumerate(odd)],
    )
    lines = view(root).recent("#c", options, limit=100)
    assert texts(lines) == odd[::-1]
    assert {x.nick for x in lines} == {"a-b[c]"}


def test_text_keeps_the_escapes_jsonl_the_text(root: Path) -> None:
    write(root, BOTH, [rec(BASE, "one\ntwo")])
    assert texts(view(root).recent("#c", JSONL)) == ["one\ntwo"]
    assert texts(view(root).recent("#c", TEXT)) == ["one\\ntwo"]
    assert view(root).recent("#c", JSONL)[0].line == "[2026-11-27 12:00:00] <alice> one\\ntwo"


def test_missing_nick_and_formats(root: Path) -> None:
    write(root, BOTH, [rec(BASE, "who?", nick=None)])
    for options in (TEXT, JSONL):
        [line] = view(root).recent("#c", options)
        assert line.nick is None and line.line.endswith("<?> who?")
    assert view(root).recent("#c", LogOptions(formats=())) == []
    assert view(root).recent("#c", BOTH, limit=0) == []


def test_missing_folders_give_nothing(root: Path) -> None:
    assert view(root).recent("#c", BOTH) == []
    write(root, BOTH, [rec(BASE)])
    assert view(root).recent("#other", BOTH) == []
    assert LogView(root, "othernet", wall=lambda: NOW).recent("#c", BOTH) == []


# -- days -------------------------------------------------------------------------------


@pytest.mark.parametrize("options", [TEXT, JSONL], ids=["text", "jsonl"])
def test_walks_back_day_by_day_within_max_days(root: Path, options: LogOptions) -> None:
    write(root, options, [rec(BASE - timedelta(days=d), f"day-{d}") for d in (9, 4, 2, 0)])
    assert texts(view(root).recent("#c", options, limit=10)) == ["day-0", "day-2", "day-4", "day-9"]
    assert texts(view(root, max_days=5).recent("#c", options, limit=10)) == [
        "day-0",
        "day-2",
        "day-4",
    ]
    assert texts(view(root, max_days=4).recent("#c", options, limit=10)) == ["day-0", "day-2"]
    assert texts(view(root, max_days=1).recent("#c", options, limit=10)) == ["day-0"]
    # a later "today" starts later: nothing written since is fine
    later = view(root, wall=lambda: NOW + 3 * 86400, max_days=4)
    assert texts(later.recent("#c", options, limit=10)) == ["day-0"]


def test_berlin_day_boundary(root: Path) -> None:
    options = LogOptions(formats=("text", "jsonl"), timezone="Europe/Berlin")
    late = datetime(2026, 1, 1, 22, 30, tzinfo=UTC)  # 23:30 in Berlin, Jan 1
    after = datetime(2026, 1, 1, 23, 30, tzinfo=UTC)  # 00:30 in Berlin, Jan 2
    write(root, options, [rec(late, "before midnight"), rec(after, "after midnight")])
    assert day_file(root, "2026-01-01").exists() and day_file(root, "2026-01-02").exists()
    # 23:45 UTC on Jan 1 is Jan 2 in Berlin: "today" is the file of Jan 2
    wall = datetime(2026, 1, 1, 23, 45, tzinfo=UTC).timestamp()
    for fmt_options in (replace(options, formats=("text",)), options):
        one_day = LogView(root, NET, wall=lambda: wall, max_days=1)
        [line] = one_day.recent("#c", fmt_options, limit=5)
        assert line.line == "[2026-01-02 00:30:00] <alice> after midnight"
        assert line.time.utcoffset() == timedelta(hours=1)
        two_days = LogView(root, NET, wall=lambda: wall, max_days=2)
        assert [x.line for x in two_days.recent("#c", fmt_options, limit=5)] == [
            "[2026-01-02 00:30:00] <alice> after midnight",
            "[2026-01-01 23:30:00] <alice> before midnight",
        ]
    # in UTC the same wall time is still Jan 1: the Jan 2 file is "tomorrow"
    utc = replace(options, timezone="UTC")
    assert texts(LogView(root, NET, wall=lambda: wall, max_days=1).recent("#c", utc)) == [
        "before midnight"
    ]


def test_an_unknown_time_zone_is_utc(root: Path) -> None:
    write(root, JSONL, [rec(BASE)])
    options = replace(JSONL, timezone="Nowhere/Atlantis")
    assert view(root).recent("#c", options)[0].line == "[2026-11-27 12:00:00] <alice> hi"


def test_a_template_spanning_days_is_read_once(root: Path) -> None:
    options = LogOptions(formats=("jsonl",), path="{network}/{channel}/{date:%Y-%m}.log")
    write(root, options, [rec(BASE - timedelta(days=d), f"d{d}") for d in (3, 1, 0)])
    assert texts(view(root).recent("#c", options, limit=10)) == ["d0", "d1", "d3"]


# -- rotated and compressed files -------------------------------------------------------


@pytest.mark.parametrize("fmt", ["text", "jsonl"])
def test_size_rotated_parts_newest_part_last(root: Path, fmt: str) -> None:
    options = LogOptions(formats=(fmt,), rotation="size", max_bytes=400)
    msgs = [f"line {i:03d}" for i in range(60)]
    write(root, options, [rec(BASE + timedelta(seconds=i), m) for i, m in enumerate(msgs)])
    names = sorted(os.listdir(root / NET / "#c"))
    assert len(names) > 5 and names[0] == f"2026-11-27.001{paths.SUFFIXES[fmt]}"
    gzip_file(root / NET / "#c" / names[1])  # a compressed part
    assert texts(view(root).recent("#c", options, limit=100)) == msgs[::-1]
    assert texts(view(root).recent("#c", options, limit=3)) == msgs[:-4:-1]


def test_without_date_the_live_file_and_its_parts(root: Path) -> None:
    options = LogOptions(
        formats=("text",), path="{network}/{channel}.log", rotation="size", max_bytes=300
    )
    msgs = [f"m{i}" for i in range(30)]
    # over several days: without {date} they all share one file and its parts
    write(root, options, [rec(BASE - timedelta(days=40 - i), m) for i, m in enumerate(msgs)])
    assert (root / NET / "#c.001.log").exists() and (root / NET / "#c.log").exists()
    assert texts(view(root, max_days=1).recent("#c", options, limit=100)) == msgs[::-1]


def test_gzipped_earlier_day(root: Path) -> None:
    write(
        root,
        BOTH,
        [
            rec(BASE - timedelta(days=2), "old"),
            rec(BASE - timedelta(days=1), "yesterday"),
            rec(BASE, "today"),
        ],
    )
    for fmt in ("text", "jsonl"):
        gzip_file(day_file(root, "2026-11-26", fmt))
        gzip_file(day_file(root, "2026-11-25", fmt))
    for options in (TEXT, JSONL):
        assert texts(view(root).recent("#c", options, limit=5)) == ["today", "yesterday", "old"]


def test_a_plain_part_wins_over_its_gz_in_progress(root: Path) -> None:
    write(root, TEXT, [rec(BASE - timedelta(days=1), "yesterday"), rec(BASE, "today")])
    plain = day_file(root, "2026-11-26")
    # gzip still running: a partial .gz next to the whole file
    plain.with_name(plain.name + ".gz").write_bytes(gzip.compress(plain.read_bytes())[:15])
    assert texts(view(root).recent("#c", TEXT)) == ["today", "yesterday"]


def test_a_truncated_gz_gives_its_whole_lines(root: Path) -> None:
    write(
        root,
        JSONL,
        [rec(BASE - timedelta(days=1) + timedelta(seconds=i), f"y{i}") for i in range(200)]
        + [rec(BASE, "today")],
    )
    gz = gzip_file(day_file(root, "2026-11-26", "jsonl"))
    gz.write_bytes(gz.read_bytes()[: gz.stat().st_size // 2])
    lines = texts(view(root).recent("#c", JSONL, limit=300))
    assert lines[0] == "today" and lines[-1] == "y0"
    assert 1 < len(lines) < 201
    gz.write_bytes(b"not gzip at all\n")
    assert texts(view(root).recent("#c", JSONL, limit=300)) == ["today"]


# -- damaged lines ----------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["text", "jsonl"])
def test_torn_invalid_and_undecodable_lines_are_skipped(root: Path, fmt: str) -> None:
    options = LogOptions(formats=(fmt,))
    write(root, options, [rec(BASE, "one"), rec(BASE + timedelta(seconds=1), "two")])
    path = day_file(root, "2026-11-27", fmt)
    whole = path.read_bytes()
    first, second = whole.splitlines(keepends=True)
    junk = [
        b"garbage\n",
        b"\xff\xfe invalid utf-8 \xff\n",
        b"\n",
        b"[1, 2]\n",
        b"{}\n",
        b'{"type": "message", "time": "yesterday"}\n',
        b"[" * 100_000 + b"\n",
        b"2026-11-27T12:00:00+00:00 <nospace>\n",
        first.replace(b"one", b"\xff"),
    ]
    path.write_bytes(first + b"".join(junk) + second + second[: len(second) // 2])
    assert texts(view(root).recent("#c", options, limit=10)) == ["two", "one"]
    path.write_bytes(second[:-1])  # only a torn line
    assert view(root).recent("#c", options) == []


def test_a_torn_line_longer_than_a_block(root: Path) -> None:
    write(root, TEXT, [rec(BASE, "whole")])
    path = day_file(root, "2026-11-27")
    with path.open("ab") as f:
        f.write(b"2026-11-27T12:00:01+00:00 <alice> " + b"x" * (3 * BLOCK))
    assert texts(view(root).recent("#c", TEXT)) == ["whole"]


def test_lines_across_block_boundaries(root: Path) -> None:
    msgs = [f"{i}:" + "y" * (i * 37 % 5000) for i in range(300)]
    write(root, BOTH, [rec(BASE + timedelta(milliseconds=i), m) for i, m in enumerate(msgs)])
    for options in (TEXT, JSONL):
        assert texts(view(root).recent("#c", options, limit=1000)) == msgs[::-1]


# -- bounds -----------------------------------------------------------------------------


def test_the_byte_budget_gives_the_newest_lines_found(root: Path) -> None:
    msgs = [f"m{i:05d} " + "z" * 90 for i in range(3000)]  # ~ 400 KB of jsonl
    write(root, JSONL, [rec(BASE + timedelta(seconds=i), m) for i, m in enumerate(msgs)])
    size = day_file(root, "2026-11-27", "jsonl").stat().st_size
    assert size > 5 * BLOCK
    everything = texts(view(root).recent("#c", JSONL, limit=10_000))
    assert everything == msgs[::-1]
    bounded = texts(view(root, max_bytes=2 * BLOCK).recent("#c", JSONL, limit=10_000))
    assert 0 < len(bounded) < len(msgs)
    assert bounded == everything[: len(bounded)]
    # a large file: limit lines come from its end only, within one block
    assert texts(view(root, max_bytes=BLOCK).recent("#c", JSONL, limit=2)) == everything[:2]
    assert view(root, max_bytes=0).recent("#c", JSONL) == []


def test_the_budget_counts_across_days_and_gz(root: Path) -> None:
    write(root, TEXT, [rec(BASE - timedelta(days=1), "x" * 5000), rec(BASE, "small")])
    gzip_file(day_file(root, "2026-11-26"))
    # the gz decompresses past the budget: the walk stops with what it has
    assert texts(view(root, max_bytes=1000).recent("#c", TEXT, limit=5)) == ["small"]
    assert texts(view(root, max_bytes=10_000).recent("#c", TEXT, limit=5)) == ["small", "x" * 5000]


def test_reads_only_the_end_of_a_large_file(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(
        root,
        TEXT,
        [rec(BASE + timedelta(milliseconds=i), f"n{i}" + "q" * 200) for i in range(5000)],
    )
    read: list[int] = []
    real_open = open

    class Counting:
        def __init__(self, f: Any) -> None:
            self.f = f

        def __getattr__(self, name: str) -> Any:
            return getattr(self.f, name)

        def __enter__(self) -> Self:
            return self

        def __exit__(self, *exc: object) -> None:
            self.f.close()

        def read(self, n: int = -1) -> bytes:
            data = self.f.read(n)
            read.append(len(data))
            return data

    monkeypatch.setattr("builtins.open", lambda *a, **kw: Counting(real_open(*a, **kw)))
    lines = view(root).recent("#c", TEXT, limit=3)
    assert [x.text[:5] for x in lines] == ["n4999", "n4998", "n4997"]
    assert sum(read) == BLOCK  # one block of a file of ~1 MB


# -- filters ----------------------------------------------------------------------------


def rfc1459(name: str) -> str:
    return name.lower().translate(str.maketrans("[]\\~", "{}|^"))


@pytest.mark.parametrize("options", [TEXT, JSONL], ids=["text", "jsonl"])
def test_nick_words_and_skip(root: Path, options: LogOptions) -> None:
    write(
        root,
        options,
        [
            rec(BASE, "Hello World", nick="Alice[m]"),
            rec(BASE + timedelta(seconds=1), "hello there", nick="bob"),
            rec(BASE + timedelta(seconds=2), "world peace", nick="alice{M}", type="action"),
            rec(BASE + timedelta(seconds=3), "(a+)+$ a.c", nick="carol"),
            rec(BASE + timedelta(seconds=4), "!last alice", nick="bob"),
        ],
    )
    v = view(root)
    assert texts(v.recent("#c", options, nick="ALICE[M]", fold=rfc1459)) == [
        "world peace",
        "Hello World",
    ]
    assert texts(v.recent("#c", options, nick="ALICE[M]")) == ["Hello World"]
    assert texts(v.recent("#c", options, words=["HELLO"])) == ["hello there", "Hello World"]
    assert texts(v.recent("#c", options, words=["hello", "WORLD"])) == ["Hello World"]
    assert texts(v.recent("#c", options, words=["world"], types=("action",))) == ["world peace"]
    # plain words: no regular expressions
    assert texts(v.recent("#c", options, words=["(a+)+$"])) == ["(a+)+$ a.c"]
    assert v.recent("#c", options, words=["a.b"]) == []
    assert v.recent("#c", options, words=["h.llo"]) == []
    assert texts(v.recent("#c", options, words=["", "peace"])) == ["world peace"]
    skipped = v.recent("#c", options, skip=lambda x: x.text.startswith("!"), limit=2)
    assert texts(skipped) == ["(a+)+$ a.c", "world peace"]
    assert texts(v.recent("#c", options, limit=2)) == ["!last alice", "(a+)+$ a.c"]


def test_filters_see_lines_of_every_day(root: Path) -> None:
    write(
        root,
        JSONL,
        [rec(BASE - timedelta(days=3), "the needle", nick="zed")]
        + [rec(BASE + timedelta(seconds=i), f"hay {i}") for i in range(50)],
    )
    assert [x.line for x in view(root).recent("#c", JSONL, words=["needle"])] == [
        "[2026-11-24 12:00:00] <zed> the needle"
    ]


# -- paths ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "channel", ["#../../etc", "#..", "../..", "#a/../../b", "#\0x", ".", "#" + "é" * 300]
)
def test_hostile_channel_names_stay_under_the_root(
    tmp_path: Path, root: Path, channel: str
) -> None:
    # lines where a naive join would land: outside the root
    for outside in (tmp_path / "etc", tmp_path, tmp_path / "b", root):
        outside.mkdir(parents=True, exist_ok=True)
        (outside / "2026-11-27.log").write_text("2026-11-27T12:00:00+00:00 <mallory> outside\n")
    assert view(root).recent(channel, TEXT) == []
    # the writer's own file for that channel, escaped under the root, is read
    write(root, TEXT, [rec(BASE, "inside", channel=channel)], folded=channel)
    assert texts(view(root).recent(channel, TEXT)) == ["inside"]


def test_unsafe_and_bad_templates_give_nothing(
    root: Path, caplog: pytest.LogCaptureFixture
) -> None:
    write(root, TEXT, [rec(BASE)])
    (root.parent / "2026-11-27.log").write_text("2026-11-27T12:00:00+00:00 <m> escaped\n")
    caplog.set_level(logging.DEBUG, logger="logbot.plugins.logview")
    for template in (
        "../{date:%Y-%m-%d}.log",
        "/etc/{channel}.log",
        "{nope}/{date}.log",
        "{network}/{channel}/{date:%Y-%m-%d}/../../../../{date:%Y-%m-%d}.log",
        "{0}.log",
        "{date.nope}.log",
    ):
        options = replace(TEXT, path=template)
        assert view(root).recent("#c", options) == [], template
    assert "no safe log path" in caplog.text


def test_a_hostile_network_name(root: Path, tmp_path: Path) -> None:
    (tmp_path / "#c").mkdir()
    (tmp_path / "#c" / "2026-11-27.log").write_text("2026-11-27T12:00:00+00:00 <m> out\n")
    assert LogView(root, "..", wall=lambda: NOW).recent("#c", TEXT) == []


def test_unreadable_entries_are_skipped(root: Path) -> None:
    write(root, TEXT, [rec(BASE - timedelta(days=1), "yesterday")])
    day_file(root, "2026-11-27").mkdir()  # a folder where today's file would be
    assert texts(view(root).recent("#c", TEXT)) == ["yesterday"]
    (root / NET / "#d").write_text("a file where a folder should be")
    assert view(root).recent("#d", TEXT) == []
