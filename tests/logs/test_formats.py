"""The text and jsonl line formats: exact lines per type, timezones, one line always,
no terminal control character in a text line (and the escaping undone gives the text)."""

from __future__ import annotations

import datetime
import json
import re
from dataclasses import replace
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from logbot.logs.formats import FORMATTERS, format_jsonl, format_text
from logbot.logs.record import MARKERS, SUMMARIES, TYPES, LogRecord

UTC = datetime.UTC
BERLIN = ZoneInfo("Europe/Berlin")
WINTER = datetime.datetime(2026, 11, 27, 9, 15, 0, 123456, tzinfo=UTC)  # 10:15 in Berlin
SUMMER = datetime.datetime(2026, 7, 1, 8, 0, 5, tzinfo=UTC)  # 10:00 in Berlin

JSON_KEYS = [
    "time",
    "time_ms",
    "time_source",
    "type",
    "network",
    "channel",
    "nick",
    "user",
    "host",
    "account",
    "text",
    "msgid",
    "tags",
]


def rec(type_: str, **fields: Any) -> LogRecord:
    base: dict[str, Any] = {
        "time": WINTER,
        "time_source": "server",
        "type": type_,
        "network": "libera",
        "channel": "#chan",
        "nick": "alice",
        "user": "al",
        "host": "example.org",
    }
    base.update(fields)
    return LogRecord(**base)


T = "2026-11-27T10:15:00  "  # the default layout: local time, no offset, two spaces

TEXT_CASES = [
    (rec("message", text="hello"), "<alice> hello"),
    (rec("message", text="\x02bold\x02 \x0304red\x03"), "<alice> \x02bold\x02 \x0304red\x03"),
    (rec("action", text="waves"), "* alice waves"),
    (rec("notice", text="hi all"), "-alice- hi all"),
    (rec("join"), "*** alice <alice!al@example.org> has joined #chan"),
    (rec("join", user=None, host=None), "*** alice <alice!?@?> has joined #chan"),
    (rec("part", text="bye"), "*** alice <alice!al@example.org> has left #chan (bye)"),
    (rec("part"), "*** alice <alice!al@example.org> has left #chan"),
    (rec("part", text=""), "*** alice <alice!al@example.org> has left #chan"),
    (
        rec("quit", text="Ping timeout"),
        "*** alice <alice!al@example.org> has quit IRC (Ping timeout)",
    ),
    (rec("quit", text=""), "*** alice <alice!al@example.org> has quit IRC"),
    (rec("nick", target="alicia"), "*** alice is now known as alicia"),
    (rec("kick", nick="op", target="bob", text="spam"), "*** bob was kicked by op (spam)"),
    (rec("kick", nick="op", target="bob"), "*** bob was kicked by op"),
    (rec("mode", nick="op", text="+o bob"), "*** op sets mode: +o bob"),
    (rec("topic", text="new topic"), '*** alice changes topic to "new topic"'),
    (
        rec("topic_info", nick=None, user=None, host=None, text="the topic"),
        '*** topic for #chan is "the topic"',
    ),
    (
        rec("topic_info", nick="bob", user=None, host=None, text="the topic"),
        '*** topic for #chan is "the topic" (set by bob)',
    ),
    (rec("chghost", target="newuser@new.host"), "*** alice changed host to newuser@new.host"),
    (rec("setname", text="Alice A."), '*** alice changed realname to "Alice A."'),
    (rec("away", text="lunch"), "*** alice is away (lunch)"),
    (rec("back"), "*** alice is back"),
    (
        rec("connect", nick=None, user=None, host=None, text="connected to irc.libera.chat:6697"),
        "*** logbot: connected to irc.libera.chat:6697",
    ),
    (
        rec("disconnect", nick=None, user=None, host=None, text="disconnected: EOF"),
        "*** logbot: disconnected: EOF",
    ),
    (
        rec("gap", nick=None, user=None, host=None, text="not logged from 10:00 to 10:05"),
        "*** logbot: not logged from 10:00 to 10:05",
    ),
    (
        rec("recovered", nick=None, user=None, host=None, text="events between 10:00 and 10:05"),
        "*** logbot: events between 10:00 and 10:05",
    ),
    (
        rec("opted_out", text="a line from an opted-out user"),
        "*** logbot: a line from an opted-out user",
    ),
    (
        rec("renamed_to", target="#new", text="typo fix"),
        "*** #chan was renamed to #new by alice (typo fix)",
    ),
    (rec("renamed_to", nick=None, target="#new"), "*** #chan was renamed to #new"),
    (
        rec("renamed_from", target="#old", text="typo fix"),
        "*** #chan was renamed from #old by alice (typo fix)",
    ),
]
#: The text-only summaries of a netsplit and a netjoin (logbot.bot.netsplits).
SUMMARY_CASES = [
    (
        rec("netsplit", nick=None, text="alice, bob, carol", target="irc.hub irc.leaf"),
        "*** netsplit: irc.hub <-> irc.leaf: alice, bob, carol have quit",
    ),
    (
        rec("netsplit", nick=None, text="alice", target="*.net *.split"),
        "*** netsplit: *.net <-> *.split: alice has quit",
    ),
    (
        rec("netjoin", nick=None, text="alice, bob", target="irc.hub irc.leaf"),
        "*** netjoin: irc.hub <-> irc.leaf: alice, bob have come back",
    ),
    (
        rec("netjoin", nick=None, text="\x1b[2J", target="irc.hub"),  # an escape, one server
        "*** netjoin: irc.hub <-> ?: \\x1b[2J has come back",
    ),
]


def test_every_type_has_a_text_case() -> None:
    assert {r.type for r, _ in TEXT_CASES} == TYPES
    assert {r.type for r, _ in SUMMARY_CASES} == SUMMARIES


@pytest.mark.parametrize(("record", "body"), SUMMARY_CASES, ids=lambda x: getattr(x, "type", ""))
def test_summary_line(record: LogRecord, body: str) -> None:
    assert format_text(record, BERLIN) == T + body + "\n"


@pytest.mark.parametrize(("record", "body"), SUMMARY_CASES[:1])
def test_a_summary_is_never_a_jsonl_line(record: LogRecord, body: str) -> None:
    """The jsonl has the QUITs and JOINs themselves; the writer never asks for this."""
    with pytest.raises(ValueError, match="unknown log record type 'netsplit'"):
        format_jsonl(record, BERLIN)


@pytest.mark.parametrize(("record", "body"), TEXT_CASES, ids=lambda x: getattr(x, "type", ""))
def test_text_line(record: LogRecord, body: str) -> None:
    assert format_text(record, BERLIN) == T + body + "\n"


@pytest.mark.parametrize(
    ("time", "tz", "stamp"),
    [
        (WINTER, BERLIN, "2026-11-27T10:15:00"),
        (SUMMER, BERLIN, "2026-07-01T10:00:05"),
        (WINTER, UTC, "2026-11-27T09:15:00"),
        (SUMMER, ZoneInfo("UTC"), "2026-07-01T08:00:05"),
        (WINTER.astimezone(BERLIN), UTC, "2026-11-27T09:15:00"),
    ],
)
def test_text_time_in_the_channel_timezone(
    time: datetime.datetime, tz: datetime.tzinfo, stamp: str
) -> None:
    assert format_text(rec("message", time=time, text="x"), tz) == f"{stamp}  <alice> x\n"


def test_time_cache_is_keyed_on_time_and_zone() -> None:
    record = rec("message", text="x")
    assert format_text(record, BERLIN).startswith("2026-11-27T10:15:00  ")
    assert format_text(record, UTC).startswith("2026-11-27T09:15:00  ")
    later = replace(record, time=WINTER + datetime.timedelta(seconds=1))
    assert format_text(later, UTC).startswith("2026-11-27T09:15:01  ")
    assert json.loads(format_jsonl(record, BERLIN))["time"] == "2026-11-27T10:15:00.123+01:00"
    assert json.loads(format_jsonl(record, UTC))["time"] == "2026-11-27T09:15:00.123+00:00"
    assert json.loads(format_jsonl(later, UTC))["time"] == "2026-11-27T09:15:01.123+00:00"


@pytest.mark.parametrize(
    ("text", "body"),
    [
        ("a\r\nPRIVMSG #x :b", "<alice> a\\r\\nPRIVMSG #x :b"),
        ("nul\0here", "<alice> nul\\0here"),
        ("\n", "<alice> \\n"),
    ],
)
def test_text_escapes_line_breaks(text: str, body: str) -> None:
    line = format_text(rec("message", text=text), UTC)
    assert line == "2026-11-27T09:15:00  " + body + "\n"


# Written down here rather than imported, so that a slip in the module's own sets shows.
MIRC = "\x02\x03\x04\x0f\x11\x16\x1d\x1e\x1f"  # bold colour hex reset mono rev it strike ul
CONTROLS = [chr(c) for c in (*range(0x20), 0x7F, *range(0x80, 0xA0)) if chr(c) not in MIRC]
_ESCAPE = re.compile(r"\\(\\|r|n|0|x[0-9a-f]{2})")


def unescape(body: str) -> str:
    """The README's rule read backwards: ``\\\\``, ``\\r``, ``\\n``, ``\\0``, ``\\xHH`` are
    the characters they stand for, any other backslash is itself."""
    named = {"\\": "\\", "r": "\r", "n": "\n", "0": "\0"}
    return _ESCAPE.sub(lambda m: named.get(m[1]) or chr(int(m[1][1:], 16)), body)


@pytest.mark.parametrize(
    ("text", "body"),
    [
        # what an ordinary user could make an operator's terminal do with `cat`/`tail -f`
        ("\x1b]0;owned\x07title", "\\x1b]0;owned\\x07title"),  # OSC: window title
        ("\x1b[2J\x1b[Hclear", "\\x1b[2J\\x1b[Hclear"),  # clear the screen, cursor home
        ("shown\x1b[8mhidden\x1b[0m", "shown\\x1b[8mhidden\\x1b[0m"),  # concealed text
        # OSC 52 (set the clipboard) ended by ST, ESC \: the last backslash is left alone
        ("\x1b]52;c;cm0gLXJmIH4K\x1b\\", "\\x1b]52;c;cm0gLXJmIH4K\\x1b\\"),
        ("\x9b2J\x9d0;t\x9c", "\\x9b2J\\x9d0;t\\x9c"),  # the same with C1 CSI, OSC, ST
        ("bell\x07 bs\x08 tab\t vt\x0b del\x7f", "bell\\x07 bs\\x08 tab\\x09 vt\\x0b del\\x7f"),
        ("\x01VERSION\x01", "\\x01VERSION\\x01"),  # a stray CTCP delimiter
        ("a\r\nb\0", "a\\r\\nb\\0"),  # as before
    ],
)
def test_text_escapes_terminal_control_sequences(text: str, body: str) -> None:
    line = format_text(rec("message", text=text), UTC)
    assert line == "2026-11-27T09:15:00  <alice> " + body + "\n"
    assert unescape(body) == text


def test_text_escapes_every_field_not_only_the_text() -> None:
    record = rec("join", nick="e\x1b[2J", user="u\x9b", host="h\x07", channel="#c\x1b]0;x")
    line = format_text(record, UTC)
    assert line.endswith(" e\\x1b[2J <e\\x1b[2J!u\\x9b@h\\x07> has joined #c\\x1b]0;x\n"), line


def test_text_keeps_the_mirc_formatting_codes() -> None:
    text = "".join(f"{code}x" for code in MIRC) + "\x0304,01red\x03 \x04ff0000hex\x04"
    assert format_text(rec("message", text=text), UTC).endswith(f"<alice> {text}\n")


@pytest.mark.parametrize(
    ("text", "body"),
    [
        ("\\o/ C:\\Users\\me \\\x02", "\\o/ C:\\Users\\me \\\x02"),  # nothing to mistake
        ("a literal \\n", "a literal \\\\n"),  # else it would read as a newline
        ("\\r \\0 \\x1b \\\\", "\\\\r \\\\0 \\\\x1b \\\\\\"),
        ("\\\x1b", "\\\\\\x1b"),  # a backslash, then ESC
        ("ends with \\", "ends with \\"),
    ],
)
def test_text_doubles_a_backslash_only_where_it_would_read_as_an_escape(
    text: str, body: str
) -> None:
    assert format_text(rec("message", text=text), UTC).endswith(f"<alice> {body}\n")
    assert unescape(body) == text


@given(
    st.text(
        alphabet=st.sampled_from([*CONTROLS, *MIRC, "\\", "r", "n", "0", "x", "a", "é", "\u00a0"])
    )
    | st.text()
)
def test_text_escaping_is_reversible_and_leaves_no_control_character(text: str) -> None:
    line = format_text(rec("message", text=text), UTC)
    body = line.removeprefix("2026-11-27T09:15:00  <alice> ").removesuffix("\n")
    assert not any(c in body for c in CONTROLS), body
    assert unescape(body) == text


@given(
    st.sampled_from(sorted(TYPES)),
    st.text(),
    st.one_of(st.none(), st.text()),
    st.one_of(st.none(), st.text()),
    st.one_of(st.none(), st.text()),
    st.one_of(st.none(), st.text()),
    st.text(),
)
def test_text_is_always_one_line(
    type_: str,
    nick: str,
    user: str | None,
    host: str | None,
    text: str | None,
    target: str | None,
    channel: str,
) -> None:
    record = rec(type_, nick=nick, user=user, host=host, text=text, target=target, channel=channel)
    line = format_text(record, BERLIN)
    assert line.endswith("\n") and line.count("\n") == 1
    assert not any(c in line[:-1] for c in CONTROLS)
    jline = format_jsonl(record, BERLIN)
    assert jline.endswith("\n") and jline.count("\n") == 1 and "\r" not in jline


def test_missing_fields_are_question_marks_or_nothing() -> None:
    assert format_text(rec("message", nick=None), UTC).endswith(" <?> \n")
    assert format_text(rec("nick", target=None), UTC).endswith(" alice is now known as ?\n")
    line = format_text(rec("join", nick=None), UTC)
    assert line.endswith(" ? <?!al@example.org> has joined #chan\n")


def test_unknown_type_raises() -> None:
    for formatter in FORMATTERS.values():
        with pytest.raises(ValueError, match="unknown log record type"):
            formatter(rec("privmsg", text="x"), UTC)


def test_formatters() -> None:
    assert {"text": format_text, "jsonl": format_jsonl} == FORMATTERS
    assert MARKERS <= TYPES


# --------------------------------------------------------------------- jsonl


def test_jsonl_line() -> None:
    record = rec(
        "message",
        text="héllo \U0001f389",
        account="alice",
        msgid="m1",
        tags={"time": "2026-11-27T09:15:00.123Z", "msgid": "m1", "+draft/x": None},
    )
    line = format_jsonl(record, BERLIN)
    assert line == (
        '{"time":"2026-11-27T10:15:00.123+01:00","time_ms":1795770900123,'
        '"time_source":"server","type":"message",'
        '"network":"libera","channel":"#chan","nick":"alice","user":"al",'
        '"host":"example.org","account":"alice","text":"héllo \U0001f389","msgid":"m1",'
        '"tags":{"time":"2026-11-27T09:15:00.123Z","msgid":"m1","+draft/x":null}}\n'
    )


@pytest.mark.parametrize(("record", "body"), TEXT_CASES, ids=lambda x: getattr(x, "type", ""))
def test_jsonl_keys_and_round_trip(record: LogRecord, body: str) -> None:
    obj = json.loads(format_jsonl(record, BERLIN))
    keys = list(JSON_KEYS)
    if record.target is not None:
        keys.insert(keys.index("text") + 1, "target")
    assert list(obj) == keys
    assert obj["time"] == "2026-11-27T10:15:00.123+01:00"
    assert obj["time_ms"] == 1795770900123
    for key in keys[2:-1]:
        assert obj[key] == getattr(record, key)
    assert obj["tags"] == dict(record.tags)


def test_jsonl_summer_and_utc() -> None:
    record = rec("join", time=SUMMER)
    assert json.loads(format_jsonl(record, BERLIN))["time"] == "2026-07-01T10:00:05.000+02:00"
    assert json.loads(format_jsonl(record, UTC))["time"] == "2026-07-01T08:00:05.000+00:00"


EPOCH = datetime.datetime(1970, 1, 1, tzinfo=UTC)


def _reference(record: LogRecord, tz: datetime.tzinfo) -> str:
    obj: dict[str, Any] = {
        "time": record.time.astimezone(tz).isoformat(timespec="milliseconds"),
        "time_ms": (record.time - EPOCH) // datetime.timedelta(milliseconds=1),
        "time_source": record.time_source,
        "type": record.type,
        "network": record.network,
        "channel": record.channel,
        "nick": record.nick,
        "user": record.user,
        "host": record.host,
        "account": record.account,
        "text": record.text,
    }
    if record.target is not None:
        obj["target"] = record.target
    obj["msgid"] = record.msgid
    obj["tags"] = dict(record.tags)
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")) + "\n"


OPT = st.one_of(st.none(), st.text())


@given(
    st.sampled_from(sorted(TYPES)),
    st.text(),
    st.text(),
    OPT,
    OPT,
    OPT,
    OPT,
    OPT,
    OPT,
    OPT,
    st.dictionaries(st.text(), OPT, max_size=4),
    st.datetimes(timezones=st.sampled_from([UTC, BERLIN])),
)
def test_jsonl_is_json_dumps(
    type_: str,
    network: str,
    channel: str,
    nick: str | None,
    user: str | None,
    host: str | None,
    account: str | None,
    text: str | None,
    target: str | None,
    msgid: str | None,
    tags: dict[str, str | None],
    time: datetime.datetime,
) -> None:
    record = LogRecord(
        time, "local", type_, network, channel, nick, user, host, account, text, target, msgid, tags
    )
    line = format_jsonl(record, BERLIN)
    assert line == _reference(record, BERLIN)
    assert json.loads(line)["tags"] == tags


def test_jsonl_falls_back_to_json_for_odd_values() -> None:
    record = rec("message", text="x", tags={"n": 1})
    assert format_jsonl(record, UTC) == _reference(record, UTC)
    with pytest.raises(TypeError):
        format_jsonl(rec("message", text=object()), UTC)


@pytest.mark.parametrize(
    "raw",
    [
        "2026-11-27T10:00:05.123Z",
        "2026-11-27T10:00:05Z",
        "2026-11-27T10:00:05.123456Z",
        "2026-11-27T11:00:05.123+01:00",
        "2026-11-27T10:00:05.1Z",
        "2026-11-27 10:00:05.123Z",
        "2026-11-27T10:00:05,123Z",
    ],
)
@pytest.mark.parametrize("tz", [datetime.UTC, ZoneInfo("Europe/Berlin")])
def test_the_server_time_shortcut_renders_what_isoformat_would(raw: str, tz: Any) -> None:
    when = datetime.datetime.fromisoformat(raw)
    record = LogRecord(when, "server", "message", "n", "#c", "nick", text="x", tags={"time": raw})
    plain = LogRecord(when, "local", "message", "n", "#c", "nick", text="x")
    for fmt in (format_text, format_jsonl):
        got = fmt(record, tz)
        fmt(LogRecord(when.replace(year=2000), "local", "message", "n", "#c"), tz)  # cache
        want = fmt(plain, tz).replace('"time_source":"local"', '"time_source":"server"')
        want = want.replace('"tags":{}', f'"tags":{{"time":"{raw}"}}')
        assert got == want
