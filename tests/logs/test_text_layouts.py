"""The text layouts: the lines of each (the README's samples), read back whatever they
hold, in any time format the config allows, and a file never mixed.

How irclog2html and pisg read these lines is tests/logs/test_text_readers.py.
"""

from __future__ import annotations

import logging
import re
import string
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from logbot.config.settings import LogOptions
from logbot.config.text_layout import check_time_format
from logbot.logs.formats import TEXT_LAYOUTS, format_text, text_formatter
from logbot.logs.record import MARKERS, SUMMARIES, TYPES, LogRecord
from logbot.logs.textread import TextReader, layout_of, unescape
from logbot.logs.writer import LogWriter

REPO = Path(__file__).resolve().parents[2]
BERLIN = ZoneInfo("Europe/Berlin")
T0 = datetime(2026, 12, 6, 13, 3, 0, tzinfo=UTC)  # 14:03 in Berlin


def _rec(second: int, kind: str, nick: str | None, **kw: Any) -> LogRecord:
    if nick is not None:
        kw.setdefault("user", "~" + nick)
        kw.setdefault("host", "host.example")
    return LogRecord(T0 + timedelta(seconds=second), "server", kind, "libera", "#chan", nick, **kw)


_GAP = (
    "reconnected to irc.example.net:6697 as logbot; events between 2026-12-06T13:03:17+00:00"
    " and 2026-12-06T13:04:17+00:00 were not seen"
)
_RECOVERED = _GAP.replace(
    "were not seen", "were recovered from the server's history (12 lines, chathistory)"
)
#: One record of every kind, in the README's samples (timezone: Europe/Berlin).
SAMPLES = [
    _rec(0, "message", "alice", text="hello"),
    _rec(1, "action", "alice", text="waves"),
    _rec(2, "notice", "alice", text="a notice"),
    _rec(3, "join", "bob"),
    _rec(4, "part", "bob", text="reason"),
    _rec(5, "quit", "bob", text="reason"),
    _rec(6, "nick", "alice", target="alicia"),
    _rec(7, "kick", "alicia", target="bob", text="reason"),
    _rec(8, "mode", "alicia", text="+o bob"),
    _rec(9, "topic", "alicia", text="the topic"),
    _rec(10, "topic_info", "alicia", user=None, host=None, text="the topic"),
    _rec(11, "chghost", "bob", target="~bob@new.host"),
    _rec(12, "setname", "bob", text="Bob B"),
    _rec(13, "away", "bob", text="lunch"),
    _rec(14, "back", "bob"),
    _rec(15, "message", "logbot", text="alice: pong"),
    _rec(16, "connect", "logbot", text="connected to irc.example.net:6697"),
    _rec(17, "disconnect", "logbot", text="disconnected (Connection lost)"),
    _rec(77, "gap", "logbot", text=_GAP),
    _rec(78, "recovered", "logbot", text=_RECOVERED),
    _rec(79, "opted_out", None, text="a line from a user who opted out of logging was not logged"),
    # a rename (the old name's log, then the new one's), a netsplit, a netjoin
    _rec(80, "renamed_to", "alicia", target="#newchan", text="a better name"),
    replace(
        _rec(80, "renamed_from", "alicia", target="#chan", text="a better name"), channel="#newchan"
    ),  # fmt: skip
    _rec(81, "netsplit", None, text="bob, carol", target="irc.hub.example irc.leaf.example"),
    _rec(82, "netjoin", None, text="bob, carol", target="irc.hub.example irc.leaf.example"),
]


def test_the_samples_hold_every_kind() -> None:
    assert {r.type for r in SAMPLES} == TYPES | SUMMARIES


def _readme_samples() -> dict[str, list[str]]:
    """The README's sample block of each layout: the indented lines under its heading."""
    readme = (REPO / "README.md").read_text()
    section = readme.split("### The `text` format", 1)[1].split("\n### ", 1)[0]
    heading_then_block = r"(?m)^#### `(\w+)`.*\n(?:(?!    ).*\n)*((?:    .*\n)+)"
    return {
        name: [line[4:] for line in block.splitlines()]
        for name, block in re.findall(heading_then_block, section)
    }


@pytest.mark.parametrize("layout", ["limnoria", "irssi", "znc"])
def test_the_readme_shows_every_kind_as_written(layout: str) -> None:
    write = text_formatter(layout)
    assert _readme_samples()[layout] == [write(r, BERLIN).rstrip("\n") for r in SAMPLES]


def test_the_default_is_limnorias_channellogger() -> None:
    """Limnoria writes ``time.strftime("%Y-%m-%dT%H:%M:%S") + "  "`` then its body."""
    assert format_text is text_formatter("limnoria") is text_formatter("limnoria", None)
    line = format_text(SAMPLES[0], BERLIN)
    assert line == "2026-12-06T14:03:00  <alice> hello\n"


# -- read back --------------------------------------------------------------------------

NICKS = st.from_regex(r"[A-Za-z\[\]\\`_^{|}][A-Za-z0-9\[\]\\`_^{|}-]{0,15}", fullmatch=True)
CHANNELS = st.from_regex(r"#[^\s,:\x07\x00]{1,20}", fullmatch=True)
NO_TEXT = {"join", "nick", "chghost", "back"}  # their records carry none


@given(
    st.sampled_from(sorted(TEXT_LAYOUTS)),
    st.sampled_from(sorted(TYPES)),
    st.one_of(st.none(), NICKS),
    st.text(),
    CHANNELS,
    st.datetimes(
        min_value=datetime(1970, 1, 2), max_value=datetime(9998, 12, 30), timezones=st.just(UTC)
    ),
)
def test_every_line_reads_back_as_its_record(
    layout: str, kind: str, nick: str | None, text: str, channel: str, when: datetime
) -> None:
    """Type, nick and text (unescaped) back, the time to the second (irssi: the minute),
    whatever the text holds: what dedupe and !grep need of a text-only log."""
    if kind in NO_TEXT:
        text = ""
    if kind == "topic_info" and layout == "irssi":
        text = text.replace("[", "(")  # "Topic for #c: t [set by x]" would read as a setter
    record = LogRecord(when, "server", kind, "n", channel, nick, "~u", "h", None, text, "target")
    line = text_formatter(layout)(record, BERLIN).removesuffix("\n")
    day = when.astimezone(BERLIN).date()
    got = TextReader((layout, None), BERLIN).read(line, day)
    assert got is not None, line
    assert got.time <= when < got.time + timedelta(seconds=got.span)
    assert got.span == (60 if layout == "irssi" else 1)
    if kind in MARKERS:
        assert (got.type, got.nick, unescape(got.text or "")) == ("marker", None, text)
    else:
        assert (got.type, got.nick) == (kind, nick)
        assert unescape(got.text or "") == text


TIME_FORMATS = [
    "%d %b %Y %H:%M:%S",  # 06 Dec 2026 14:03:07
    "%Y-%m-%d %H:%M",  # two spaces and more: the layout's separator follows
    "%j/%y %I:%M:%S %p",
    "[%F %T]",
    "%a %H:%M:%S%z",  # an offset: the instant whatever the zone
    "%Y-%m-%dT%H:%M:%S.%f",
    "%H%M%S",
    "100%% %R",
    "%Y-%m-%dT%H:%M:%S",  # Limnoria's time, with another layout's separator
]


@pytest.mark.parametrize("fmt", TIME_FORMATS)
@pytest.mark.parametrize("layout", ["limnoria", "irssi", "znc"])
def test_a_time_format_the_config_allows_reads_back(layout: str, fmt: str) -> None:
    assert check_time_format(fmt) is None
    record = LogRecord(datetime(2026, 2, 27, 23, 3, 7, 250000, tzinfo=UTC), "local", "action",
                       "n", "#c", "alice", text="waves")  # fmt: skip
    line = text_formatter(layout, fmt)(record, BERLIN).removesuffix("\n")
    local = record.time.astimezone(BERLIN)
    assert line.startswith(local.strftime(fmt))
    got = TextReader((layout, fmt), BERLIN).read(line, local.date())
    assert got is not None, line
    assert got.time <= record.time < got.time + timedelta(seconds=got.span)
    assert (got.type, got.nick, got.text, got.layout) == ("action", "alice", "waves", (layout, fmt))


def test_a_time_without_its_date_needs_the_files_day() -> None:
    reader = TextReader(("znc", None), BERLIN)
    assert reader.read("[14:03:07] <alice> hi") is None
    got = reader.read("[14:03:07] <alice> hi", date(2026, 12, 6))
    assert got is not None and got.time == datetime(2026, 12, 6, 13, 3, 7, tzinfo=UTC)


def test_lines_of_other_layouts_and_of_the_layout_before_read_too() -> None:
    """A channel's files may be in any layout logbot wrote (it changed, or an older
    logbot wrote them): each line is read in its own."""
    reader = TextReader(("irssi", None), BERLIN)
    day = date(2026, 12, 6)
    lines = {
        "2026-12-06T14:03:07+01:00 <alice> iso": ("iso", None),
        "2026-12-06T14:03:07  <alice> limnoria": ("limnoria", None),
        "[14:03:07] <alice> znc": ("znc", None),
        "14:03 <alice> irssi": ("irssi", None),
    }
    for line, layout in lines.items():
        got = reader.read(line, day)
        assert got is not None and got.layout == layout
        assert got.time.astimezone(BERLIN).replace(second=0) == datetime(
            2026, 12, 6, 14, 3, tzinfo=BERLIN
        )
        assert layout_of(line, []) == layout
    for junk in ("", "hello", "2026-12-06T14:03:07 <alice> one space, no offset", "14:03  x"):
        assert reader.read(junk, day) is None
        assert layout_of(junk, []) is None


_PIECES = st.one_of(
    st.sampled_from(
        [
            "%Y",
            "%y",
            "%m",
            "%b",
            "%d",
            "%j",
            "%a",
            "%S",
            "%f",
            "%z",
            "%F",
            "%T",
            "%%",
            "%I%p",
            "%H",
            "%M",
        ]
    ),  # fmt: skip
    st.text(alphabet=string.printable + "é", max_size=3).filter(lambda t: "%" not in t),
)


@given(st.lists(_PIECES, max_size=8), st.sampled_from(["limnoria", "irssi", "znc"]))
def test_a_time_format_either_reads_back_or_is_refused(pieces: list[str], layout: str) -> None:
    """Whatever the config lets by, the writer can write and the reader read back."""
    fmt = "".join(pieces) + "%H:%M"
    if check_time_format(fmt) is not None:
        assume(False)
    record = LogRecord(datetime(2026, 12, 6, 13, 3, 7, tzinfo=UTC), "local", "message", "n",
                       "#c", "alice", text="hi")  # fmt: skip
    line = text_formatter(layout, fmt)(record, BERLIN).removesuffix("\n")
    got = TextReader((layout, fmt), BERLIN).read(line, date(2026, 12, 6))
    assert got is not None and got.text == "hi", (fmt, line)
    assert got.time <= record.time < got.time + timedelta(seconds=got.span)


# -- a file is never mixed -------------------------------------------------------------

DAY1 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def _msg(when: datetime, text: str) -> LogRecord:
    return LogRecord(when, "server", "message", "net", "#c", "nick", text=text)


def _lines(root: Path, name: str) -> list[str]:
    return (root / "net" / "#c" / name).read_text().splitlines()


@pytest.fixture
def writer_defaults() -> dict[str, Any]:
    return {"wall": lambda: DAY1.timestamp()}


def test_a_file_begun_in_another_layout_is_finished_in_it(
    make: Callable[..., LogWriter], root: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Upgraded at noon: the day's file goes on as the older logbot wrote it (so every
    reader reads it whole); the next day's is in the configured layout."""
    folder = root / "net" / "#c"
    folder.mkdir(parents=True)
    (folder / "2026-01-01.log").write_text("2026-01-01T11:00:00+00:00 <nick> before\n")
    w = make()
    o = LogOptions(formats=("text",), server_time_tolerance=None)
    with caplog.at_level(logging.INFO, "logbot.logs.writer"):
        w.write(_msg(DAY1, "after"), "#c", o)
        w.write(_msg(DAY1 + timedelta(days=1), "next day"), "#c", o)
    assert _lines(root, "2026-01-01.log") == [
        "2026-01-01T11:00:00+00:00 <nick> before",
        "2026-01-01T12:00:00+00:00 <nick> after",
    ]
    assert _lines(root, "2026-01-02.log") == ["2026-01-02T12:00:00  <nick> next day"]
    assert "begun in the iso text layout: continued in it; limnoria starts" in caplog.text


def test_a_layout_changed_in_the_config_starts_with_the_next_file(
    make: Callable[..., LogWriter], root: Path
) -> None:
    o = LogOptions(formats=("text",), server_time_tolerance=None)
    w = make()
    w.write(_msg(DAY1, "one"), "#c", o)
    w.close()
    irssi = LogOptions(formats=("text",), server_time_tolerance=None, text_layout="irssi")
    w = make()
    w.write(_msg(DAY1 + timedelta(minutes=1), "two"), "#c", irssi)
    w.write(_msg(DAY1 + timedelta(days=1), "three"), "#c", irssi)
    assert _lines(root, "2026-01-01.log") == [
        "2026-01-01T12:00:00  <nick> one",
        "2026-01-01T12:01:00  <nick> two",
    ]
    assert _lines(root, "2026-01-02.log") == ["12:00 <nick> three"]


def test_with_size_rotation_the_file_is_rotated_at_once(
    make: Callable[..., LogWriter], root: Path
) -> None:
    """Size rotation has no next day to wait for (its path may have no date): the file
    begun in another layout becomes a part, the live file starts in the new one."""
    folder = root / "net" / "#c"
    folder.mkdir(parents=True)
    (folder / "c.log").write_text("2026-01-01T11:00:00+00:00 <nick> before\n")
    o = LogOptions(formats=("text",), server_time_tolerance=None, rotation="size",
                   max_bytes=10_000, path="{network}/{channel}/c.log")  # fmt: skip
    make().write(_msg(DAY1, "after"), "#c", o)
    assert _lines(root, "c.001.log") == ["2026-01-01T11:00:00+00:00 <nick> before"]
    assert _lines(root, "c.log") == ["2026-01-01T12:00:00  <nick> after"]


@pytest.mark.parametrize(
    "content",
    [b"", b"not a log line\n", b"2026-01-01T11:00:00  <nick> torn", b"\n\n"],
    ids=["empty", "foreign", "torn", "blank"],
)
def test_a_file_with_no_line_of_a_known_layout_gets_the_configured_one(
    make: Callable[..., LogWriter], root: Path, content: bytes
) -> None:
    folder = root / "net" / "#c"
    folder.mkdir(parents=True)
    (folder / "2026-01-01.log").write_bytes(content)
    o = LogOptions(formats=("text",), server_time_tolerance=None, text_layout="znc")
    make().write(_msg(DAY1, "x"), "#c", o)
    assert _lines(root, "2026-01-01.log")[-1] == "[12:00:00] <nick> x"


def test_the_last_whole_line_decides_not_a_torn_one(
    make: Callable[..., LogWriter], root: Path
) -> None:
    folder = root / "net" / "#c"
    folder.mkdir(parents=True)
    (folder / "2026-01-01.log").write_bytes(b"[11:00:00] <nick> znc\n2026-01-01T11:00:01  <ni")
    o = LogOptions(formats=("text",), server_time_tolerance=None)
    make().write(_msg(DAY1, "x"), "#c", o)
    assert _lines(root, "2026-01-01.log") == ["[11:00:00] <nick> znc", "[12:00:00] <nick> x"]
