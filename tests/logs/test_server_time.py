"""Server-time stamps that cannot be trusted: issue 14, item 9 ("no silent loss").

One line stamped 2999-01-01 used to send every later line of its channel to
``2999-01-01.log`` (a channel's date only moves forward), and one stamped 9999-12-31
raised ``OverflowError`` out of the writer, losing the line.  Now a stamp further than
``server_time_tolerance`` from the local clock (or one no date arithmetic can handle)
decides neither the file nor the text stamp: the local time does, and the JSONL keeps
the server's stamp as ``server_time``, with ``server_time_rejected`` saying why.

Real files under ``tmp_path``; the writer's wall clock and the record maker's are
injected (``now``), timers run on a ``task.Clock``; the IRC events come from the real
sans-I/O core fed real lines.
"""

from __future__ import annotations

import json
import logging
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from logbot.config.settings import LogOptions
from logbot.irc import events as ev
from logbot.irc.core import IRCConnection
from logbot.irc.flood import FloodControl
from logbot.irc.message import escape_tag_value
from logbot.logs.events_to_records import RecordMaker
from logbot.logs.formats import format_jsonl, format_text
from logbot.logs.record import REJECTED, LogRecord, restamped
from logbot.logs.rotation import (
    EARLIEST_USABLE,
    LATEST_USABLE,
    day_end,
    local_date,
    rejection,
    trust_window,
)
from logbot.logs.writer import LogWriter
from logbot.reactor.task import Clock

NOW = datetime(2026, 12, 6, 12, 0, 0, tzinfo=UTC)
NOW_TAG = "2026-12-06T12:00:00.000Z"
DAY = "2026-12-06"
WRITER_LOG = "logbot.logs.writer"


class Wall:
    """An injected wall clock: ``wall()`` is seconds since the epoch."""

    def __init__(self, start: datetime = NOW) -> None:
        self.now = start.timestamp()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def wall() -> Wall:
    return Wall()


@pytest.fixture
def writer(root: Path, wall: Wall) -> Iterator[LogWriter]:
    w = LogWriter(Clock(), root=root, wall=wall)
    yield w
    w.close()


def server(raw: str, text: str, channel: str = "#c", network: str = "net") -> LogRecord:
    """A message as the record maker makes it from a line with ``@time=<raw>``."""
    when = ev.parse_server_time(raw)
    assert when is not None, raw
    return LogRecord(
        when, "server", "message", network, channel, "nick", text=text, tags={"time": raw}
    )


def files(root: Path, channel: str = "#c", network: str = "net") -> list[str]:
    folder = root / network / channel
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def text_lines(root: Path, name: str, channel: str = "#c") -> list[str]:
    return (root / "net" / channel / name).read_text().split("\n")[:-1]


def jsonl(root: Path, name: str, channel: str = "#c") -> list[dict[str, Any]]:
    path = root / "net" / channel / name
    # split at LF only: a JSON string may hold U+0085 or U+2028, which splitlines() cuts at
    return [json.loads(line) for line in path.read_text().split("\n")[:-1]]


# -- the regressions: a future stamp pins the file, year 9999 loses the line --------------


def test_a_far_future_stamp_does_not_pin_the_channels_file(writer: LogWriter, root: Path) -> None:
    o = LogOptions()
    assert writer.hold()  # as the IRC client brackets each read from the server
    writer.write(server("2999-01-01T00:00:00.000Z", "from 2999"), "#c", o)
    writer.write(server(NOW_TAG, "normal"), "#c", o)
    writer.release()
    writer.write(server("2026-12-06T12:00:01.000Z", "normal too"), "#c", o)
    assert files(root) == [f"{DAY}.jsonl", f"{DAY}.log"]
    assert text_lines(root, f"{DAY}.log") == [
        "2026-12-06T12:00:00  <nick> from 2999",  # our clock's time, not the server's
        "2026-12-06T12:00:00  <nick> normal",
        "2026-12-06T12:00:01  <nick> normal too",
    ]
    first, second, third = jsonl(root, f"{DAY}.jsonl")
    assert first["time"] == "2026-12-06T12:00:00.000+00:00"
    assert first["time_source"] == "local"
    assert first["server_time"] == "2999-01-01T00:00:00.000Z"
    assert first["server_time_rejected"] == "ahead"
    assert first["tags"] == {"time": "2999-01-01T00:00:00.000Z"}
    assert second["time_source"] == third["time_source"] == "server"
    assert "server_time" not in second and "server_time_rejected" not in second


@pytest.mark.parametrize(
    "raw",
    [
        "9999-12-31T23:59:59.999Z",
        "9999-12-31T23:59:59-05:00",  # year 10000 in UTC
        "0001-01-01T00:00:00.000Z",
        "0001-01-01T00:00:00+05:00",  # year 0 in UTC
        "2999-01-01T00:00:00.000Z",
        "1970-01-01T00:00:00.000Z",
    ],
)
@pytest.mark.parametrize("zone", ["UTC", "Pacific/Kiritimati", "Pacific/Pago_Pago"])
def test_an_extreme_stamp_is_logged_at_the_local_time_and_never_lost(
    writer: LogWriter, root: Path, raw: str, zone: str
) -> None:
    o = LogOptions(timezone=zone)
    writer.write(server(raw, "extreme"), "#c", o)  # raised OverflowError for year 9999
    writer.write(server(NOW_TAG, "normal"), "#c", o)
    day = local_date(NOW, ZoneInfo(zone)).isoformat()
    assert files(root) == [f"{day}.jsonl", f"{day}.log"]
    stamp = NOW.astimezone(ZoneInfo(zone)).isoformat(timespec="seconds")[:19]  # local, no offset
    assert text_lines(root, f"{day}.log") == [
        f"{stamp}  <nick> extreme",
        f"{stamp}  <nick> normal",
    ]
    extreme, normal = jsonl(root, f"{day}.jsonl")
    assert (extreme["time_source"], extreme["server_time"]) == ("local", raw)
    assert normal["time_source"] == "server"
    assert writer.stats.lines_written == 4 and writer.stats.dropped == 0


def test_a_stamp_far_behind_is_not_used_for_the_file_or_the_text_stamp(
    writer: LogWriter, root: Path
) -> None:
    o = LogOptions()
    writer.write(server("2026-12-01T08:00:00.000Z", "five days late"), "#c", o)
    assert files(root) == [f"{DAY}.jsonl", f"{DAY}.log"]
    assert text_lines(root, f"{DAY}.log") == ["2026-12-06T12:00:00  <nick> five days late"]
    (line,) = jsonl(root, f"{DAY}.jsonl")
    assert line["time_source"] == "local"
    assert line["server_time"] == "2026-12-01T08:00:00.000Z"
    assert line["server_time_rejected"] == "behind"


# -- the tolerance: its boundary, per channel, a window that moves with the clock -------


@pytest.mark.parametrize(
    ("offset", "source"),
    [
        (-86400.0, "server"),  # exactly the tolerance: still trusted
        (86400.0, "server"),
        (-86400.001, "local"),  # a millisecond more: not
        (86400.001, "local"),
        (0.0, "server"),
    ],
)
def test_the_tolerance_is_inclusive_to_the_millisecond(
    writer: LogWriter, root: Path, offset: float, source: str
) -> None:
    raw = (NOW + timedelta(seconds=offset)).isoformat(timespec="milliseconds")
    writer.write(server(raw.replace("+00:00", "Z"), "x"), "#c", LogOptions())
    ((name, lines),) = [(n, jsonl(root, n)) for n in files(root) if n.endswith(".jsonl")]
    assert lines[0]["time_source"] == source
    if source == "local":
        assert name == f"{DAY}.jsonl"
        assert lines[0]["server_time_rejected"] == ("ahead" if offset > 0 else "behind")


def test_the_tolerance_is_chosen_per_channel(writer: LogWriter, root: Path) -> None:
    trusting = LogOptions(server_time_tolerance=None)  # any usable stamp
    never = LogOptions(server_time_tolerance=0)  # none at all
    minute = LogOptions(server_time_tolerance=60)
    writer.write(server("2999-01-01T00:00:00.000Z", "believed", "#any"), "#any", trusting)
    writer.write(server("9999-12-31T23:59:59.999Z", "unusable", "#any"), "#any", trusting)
    writer.write(server("2026-12-06T12:00:01.000Z", "a second off", "#never"), "#never", never)
    writer.write(server("2026-12-06T12:00:30.000Z", "half a minute", "#min"), "#min", minute)
    writer.write(server("2026-12-06T11:58:00.000Z", "two minutes", "#min"), "#min", minute)
    # null believes 2999 (its file is pinned: that is what null means) but not year 9999
    assert files(root, "#any") == ["2999-01-01.jsonl", "2999-01-01.log"]
    believed, unusable = jsonl(root, "2999-01-01.jsonl", "#any")
    assert believed["time_source"] == "server" and "server_time" not in believed
    assert (unusable["time_source"], unusable["server_time_rejected"]) == ("local", "invalid")
    (off,) = jsonl(root, f"{DAY}.jsonl", "#never")
    assert (off["time_source"], off["server_time_rejected"]) == ("local", "ahead")
    assert off["time"] == "2026-12-06T12:00:00.000+00:00"
    half, two = jsonl(root, f"{DAY}.jsonl", "#min")
    assert half["time_source"] == "server"
    assert (two["time_source"], two["server_time_rejected"]) == ("local", "behind")


@pytest.mark.parametrize("held", [True, False], ids=["held", "not-held"])
def test_the_window_moves_with_the_clock(
    writer: LogWriter, root: Path, wall: Wall, held: bool
) -> None:
    """A server clock that stopped: its stamps are trusted until they fall a day behind."""
    o = LogOptions()

    def write(text: str) -> None:
        if held:
            assert writer.hold()
        writer.write(server(NOW_TAG, text), "#c", o)
        if held:
            writer.release()

    write("on time")
    wall.advance(86400.0)
    write("a day late")  # exactly the tolerance: trusted
    wall.advance(1.0)
    write("a day and a second late")
    wall.advance(-3 * 86400.0)  # our clock steps back two days before NOW
    write("two days early")
    sources = [(r["text"], r["time_source"]) for n in files(root) if n.endswith(".jsonl")
               for r in jsonl(root, n)]  # fmt: skip
    assert sources == [
        ("on time", "server"),
        ("a day late", "server"),
        ("a day and a second late", "local"),
        ("two days early", "local"),
    ]
    # the late line went to its own day (the 7th), not back to the 6th; the early one
    # does not go back to the 4th either: a channel's date only moves forward
    assert files(root) == [f"{DAY}.jsonl", f"{DAY}.log", "2026-12-07.jsonl", "2026-12-07.log"]
    late, early = jsonl(root, "2026-12-07.jsonl")
    assert late["server_time_rejected"] == "behind" and early["server_time_rejected"] == "ahead"
    assert early["time"] == "2026-12-04T12:00:01.000+00:00"


def test_our_own_lines_are_never_restamped(writer: LogWriter, root: Path) -> None:
    """Markers and lines without server-time carry our clock's time: nothing to judge."""
    marker = LogRecord(NOW, "local", "connect", "net", "#c", text="connected")
    writer.write(marker, "#c", LogOptions(server_time_tolerance=0))
    (line,) = jsonl(root, f"{DAY}.jsonl")
    assert line["time_source"] == "local" and "server_time" not in line


def test_untrusted_stamps_are_warned_once_per_network(
    writer: LogWriter, root: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, WRITER_LOG)
    o = LogOptions()
    for network in ("libera", "oftc"):
        for i, raw in enumerate(["2999-01-01T00:00:00.000Z", "1970-01-01T00:00:00.000Z"] * 3):
            channel = f"#c{i % 2}"
            writer.write(server(raw, f"line {i}", channel, network), channel, o)
    warned = [r.getMessage() for r in caplog.records if r.name == WRITER_LOG]
    assert len(warned) == 2, warned
    assert warned[0].startswith("libera: untrusted server-time stamps: 2999-01-01T00:00:00.000Z")
    assert "ahead of the local clock (server_time_tolerance: 86400 s)" in warned[0]
    assert warned[1].startswith("oftc: ")
    assert writer.stats.lines_written == 2 * 6 * 2  # every line, in both formats


# -- the record maker: a time tag that does not parse ----------------------------------


def connection() -> IRCConnection:
    """The real sans-I/O core, registered with server-time, in #c."""
    conn = IRCConnection("bot", flood=FloodControl(enabled=False))
    conn.connection_made(0.0)
    conn.data_to_send(0.0)
    feed(
        conn,
        ":srv CAP * LS :server-time message-tags",
        ":srv CAP * ACK :server-time message-tags",
        ":srv 001 bot :Welcome bot!~b@bot.host",
        ":srv 005 bot CHANTYPES=# PREFIX=(ov)@+ :are supported",
        ":srv 376 bot :End of MOTD",
        ":bot!~b@bot.host JOIN #c",
    )
    return conn


def feed(conn: IRCConnection, *lines: str) -> list[ev.Event]:
    data = "".join(line + "\r\n" for line in lines).encode("utf-8")
    return conn.receive_data(data, 0.0)


def made(conn: IRCConnection, maker: RecordMaker, *lines: str) -> list[LogRecord]:
    """The records of ``lines``, as the bot makes them (messages the short way)."""
    out: list[LogRecord] = []
    for event in feed(conn, *lines):
        if type(event) is ev.Privmsg:
            pair = maker.message_pair(event, conn.state)  # type: ignore[arg-type]
            out += [] if pair is None else [pair[1]]
        else:
            out += [record for _, record in maker.records(event, conn.state)]
    return out


@pytest.mark.parametrize("raw", ["garbage", "2026-12-06", "2026-12-06T12:00:00", "+24:00"])
def test_a_time_tag_that_does_not_parse_is_kept_with_the_local_time(wall: Wall, raw: str) -> None:
    maker = RecordMaker("net", wall)
    tag = f"@time={escape_tag_value(raw)}"
    records = made(
        connection(),
        maker,
        f"{tag} :alice!a@h PRIVMSG #c :hi",  # the fast path
        f"{tag} :alice!a@h NOTICE #c :note",
        f"{tag} :bob!b@h JOIN #c",  # the general one
        f"{tag} :srv 332 bot #c :the topic",
        f"{tag} :srv 333 bot #c alice!a@h 1700000000",
    )
    assert [r.type for r in records] == ["message", "notice", "join", "topic_info"]
    for record in records:
        assert (record.time, record.time_source) == (NOW, "local")
        assert (record.server_time, record.server_time_rejected) == (raw, "invalid")
        assert record.tags["time"] == raw


def test_a_good_time_tag_or_none_keeps_no_server_time(wall: Wall) -> None:
    maker = RecordMaker("net", wall)
    good, plain, tagged = made(
        connection(),
        maker,
        "@time=2026-12-06T11:59:59.500Z :alice!a@h PRIVMSG #c :stamped",
        ":alice!a@h PRIVMSG #c :no tags",
        "@msgid=x :alice!a@h PRIVMSG #c :other tags",
    )
    assert good.time == NOW - timedelta(seconds=0.5) and good.time_source == "server"
    for record in (good, plain, tagged):
        assert record.server_time is None and record.server_time_rejected is None
    assert plain.time_source == tagged.time_source == "local"


# -- any tag value at all: never raises, never loses the line -----------------------------

OFFSETS = st.builds(
    timezone,
    st.timedeltas(
        min_value=timedelta(hours=-23, minutes=-59), max_value=timedelta(hours=23, minutes=59)
    ),
)
PARSED = st.one_of(
    st.datetimes(timezones=st.just(UTC)),  # year 1 to 9999
    st.datetimes(timezones=OFFSETS),
    st.datetimes(  # near the window's edges
        min_value=datetime(2026, 12, 4), max_value=datetime(2026, 12, 8), timezones=st.just(UTC)
    ),
)
TIME_TAGS = st.one_of(
    st.text(max_size=40),
    st.builds(lambda d: d.isoformat().replace("+00:00", "Z"), PARSED),
    st.builds(
        lambda d, digits: d.strftime("%Y-%m-%dT%H:%M:%S") + "." + digits + "Z",
        PARSED,
        st.text(alphabet="0123456789", min_size=1, max_size=60),  # huge fractions
    ),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=TIME_TAGS, zone=st.sampled_from(["UTC", "Pacific/Kiritimati", "America/Adak"]))
@example(raw="9999-12-31T23:59:59.999Z", zone="Pacific/Kiritimati")
@example(raw="0001-01-01T00:00:00+23:59", zone="America/Adak")
@example(raw="2026-12-06T12:00:00." + "9" * 60 + "Z", zone="UTC")
def test_no_time_tag_raises_or_loses_a_line(raw: str, zone: str) -> None:
    wall = Wall()
    conn, maker = connection(), RecordMaker("net", wall)
    records = made(
        conn,
        maker,
        f"@time={escape_tag_value(raw)} :alice!a@h PRIVMSG #c :odd",
        f"@time={escape_tag_value(raw)} :bob!b@h JOIN #c",
        f"@time={NOW_TAG} :alice!a@h PRIVMSG #c :normal",
    )
    assert [r.text for r in records] == ["odd", None, "normal"]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        writer = LogWriter(Clock(), root=root, wall=wall)
        o = LogOptions(timezone=zone)
        assert writer.hold()
        for record in records:
            writer.write(record, "#c", o)
        writer.release()
        writer.close()
        assert writer.stats.lines_written == 6 and writer.stats.dropped == 0
        tz = ZoneInfo(zone)
        days = {local_date(NOW + timedelta(days=d), tz).isoformat() for d in (-1, 0, 1)}
        names = files(root)
        assert {n.rsplit(".", 1)[0] for n in names} <= days, names  # no pinned date
        lines = [r for n in names if n.endswith(".jsonl") for r in jsonl(root, n)]
        assert [r["type"] for r in lines] == ["message", "join", "message"]
        for line in lines:
            when = datetime.fromisoformat(line["time"])
            if line["time_source"] == "local":
                assert when == NOW
                if line["tags"]["time"] is None:  # "@time" without a value: nothing to keep
                    assert "server_time" not in line
                    continue
                assert line["server_time"] == line["tags"]["time"]
                assert line["server_time_rejected"] in ("ahead", "behind", "invalid")
            else:
                assert abs(when - NOW) <= timedelta(days=1)
                assert "server_time" not in line
        text = [line for n in names if n.endswith(".log") for line in text_lines(root, n)]
        assert [line.split("  ", 1)[1] for line in text][::2] == ["<alice> odd", "<alice> normal"]


# -- the pieces: the window, the reasons, the JSONL keys -----------------------------------


def test_trust_window() -> None:
    day = timedelta(days=1)
    assert trust_window(NOW, 86400) == (NOW - day, NOW + day)
    assert trust_window(NOW, None) == (EARLIEST_USABLE, LATEST_USABLE)
    assert trust_window(NOW, 1e300) == (EARLIEST_USABLE, LATEST_USABLE)  # no overflow
    lo, hi = trust_window(NOW, 0)
    assert lo > hi  # empty: nothing is trusted
    assert trust_window(NOW, 3000 * 365 * 86400.0) == (EARLIEST_USABLE, NOW + 3000 * 365 * day)
    # the usable range: a day after it and any zone's offset around it still compute
    for edge in (EARLIEST_USABLE, LATEST_USABLE):
        for zone in ("Pacific/Kiritimati", "America/Adak", "UTC"):
            day_end(local_date(edge, ZoneInfo(zone)), ZoneInfo(zone))


def test_rejection() -> None:
    assert rejection(NOW + timedelta(seconds=1), NOW) == "ahead"
    assert rejection(NOW - timedelta(seconds=1), NOW) == "behind"
    assert rejection(datetime(9999, 12, 31, tzinfo=UTC), NOW) == "invalid"
    assert rejection(datetime(1, 1, 1, tzinfo=UTC), NOW) == "invalid"
    assert {"ahead", "behind", "invalid"} == REJECTED


def test_the_jsonl_keys_of_a_restamped_line_are_added_not_renamed() -> None:
    original = server("2999-01-01T00:00:00.000Z", "x")
    record = restamped(original, NOW, "ahead")
    obj = json.loads(format_jsonl(record, UTC))
    head = ["time", "time_ms", "time_source", "server_time", "server_time_rejected"]
    assert list(obj)[:5] == head
    assert list(obj)[5:] == list(json.loads(format_jsonl(original, UTC)))[3:]
    assert (obj["time"], obj["time_source"]) == ("2026-12-06T12:00:00.000+00:00", "local")
    assert (obj["server_time"], obj["server_time_rejected"]) == (
        "2999-01-01T00:00:00.000Z",
        "ahead",
    )
    assert format_text(record, UTC) == "2026-12-06T12:00:00  <nick> x\n"
    # without the tag (an opt-out marker keeps no tags) the parsed stamp is kept
    bare = restamped(LogRecord(original.time, "server", "opted_out", "net", "#c"), NOW, "ahead")
    assert bare.server_time == "2999-01-01T00:00:00+00:00"
