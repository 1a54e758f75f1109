"""The published jsonl schema (``logbot/logs/jsonl.schema.json``) against what the jsonl
format writes: every record type, with and without each optional key, and a log the
bot wrote, validate; every key written is described, in the order written; the lines
a reader must not get are refused (so the schema says something); and ``time_ms`` is
the instant ``time`` shows, in any zone and year."""

from __future__ import annotations

import datetime
import json
from dataclasses import replace
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from logbot.config.settings import LogOptions
from logbot.logs.formats import format_jsonl
from logbot.logs.policy import apply_policy
from logbot.logs.record import MARKERS, REJECTED, TYPES, LogRecord, restamped
from logbot.logs.schema import SCHEMA_ID, SCHEMA_VERSION, load_schema, schema_text
from tests.logs.demo_log import records, run_demo

UTC = datetime.UTC
BERLIN = ZoneInfo("Europe/Berlin")
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=UTC)
WHEN = datetime.datetime(2026, 11, 27, 9, 15, 0, 123456, tzinfo=UTC)
RAW = "2026-11-27T09:15:00.123Z"
SCHEMA = load_schema()
VALIDATOR = Draft202012Validator(SCHEMA)
PROPERTIES = list(SCHEMA["properties"])


def check(obj: dict[str, Any]) -> None:
    """Valid, and every key described, in the schema's order (the order written)."""
    error = best_match(VALIDATOR.iter_errors(obj))
    assert error is None, f"{error.message} at {list(error.absolute_path)}: {obj}"
    assert [key for key in PROPERTIES if key in obj] == list(obj), list(obj)


# What each type carries when the bot writes it (events_to_records.py, policy.py,
# network.py and replay.py build these).
SPOKEN: dict[str, dict[str, Any]] = {
    "message": {"text": "hello"},
    "action": {"text": "waves"},
    "notice": {"text": "hi all"},
    "join": {},
    "part": {"text": "bye"},
    "quit": {"text": "Ping timeout"},
    "kick": {"nick": "op", "target": "bob", "text": "spam"},
    "nick": {"target": "alicia"},
    "mode": {"nick": "op", "text": "+o bob"},
    "topic": {"text": "the topic"},
    "topic_info": {"nick": None, "user": None, "host": None, "account": None, "text": "t"},
    "chghost": {"target": "al@new.host"},
    "setname": {"text": "Alice A."},
    "away": {"text": "lunch"},
    "back": {},
    "renamed_to": {"target": "#new", "text": "typo fix"},
    "renamed_from": {"target": "#old", "text": None},
}
OWN: dict[str, dict[str, Any]] = {
    "connect": {"nick": "logbot", "text": "connected to irc.libera.chat:6697 as logbot"},
    "disconnect": {"text": "disconnected (Connection lost)"},
    "gap": {"nick": "logbot", "text": "events between ... were not seen", "target": RAW},
    "recovered": {"nick": "logbot", "text": "events between ... were recovered"},
}


def record_of(kind: str) -> LogRecord:
    if kind in SPOKEN:
        fields: dict[str, Any] = {
            "nick": "alice",
            "user": "~al",
            "host": "example.org",
            "account": "alice",
            "msgid": "m1",
            "tags": {"time": RAW, "msgid": "m1", "account": "alice", "+draft/x": None},
        }
        return LogRecord(WHEN, "server", kind, "libera", "#chan", **(fields | SPOKEN[kind]))
    if kind == "opted_out":  # made the way the bot makes it, from a line of alice's
        options = LogOptions(opt_out=("alice",))
        hidden = apply_policy(record_of("message"), options, False, str.lower)
        assert hidden is not None and hidden.type == "opted_out"
        return hidden
    return LogRecord(WHEN, "local", kind, "libera", "#chan", **OWN[kind])


SPLIT = {"quit": "netsplit", "join": "netjoin"}
VARIANTS = {
    "plain": lambda r: r,
    "server_time_rejected": lambda r: restamped(r, WHEN + datetime.timedelta(days=2), "behind"),
    "replayed": lambda r: replace(r, replayed="znc.in/playback"),
    "rejected_and_replayed": lambda r: replace(
        restamped(r, WHEN, "invalid"), replayed="chathistory"
    ),
    "statusmsg": lambda r: replace(r, target="@#chan") if r.type in SPOKEN else r,
    # a netsplit's QUIT, a netjoin's JOIN (logbot.bot.netsplits); other types never
    "split": lambda r: (
        replace(r, split=(SPLIT[r.type], "irc.hub irc.leaf")) if r.type in ("quit", "join") else r
    ),
    "no_tags_nor_account": lambda r: replace(r, tags={}, account=None, msgid=None),
}


def test_every_record_type_is_covered() -> None:
    assert SPOKEN.keys() | OWN.keys() | {"opted_out"} == TYPES


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("kind", sorted(TYPES))
@pytest.mark.parametrize("tz", [UTC, BERLIN], ids=["UTC", "Berlin"])
def test_every_record_type_validates(kind: str, variant: str, tz: datetime.tzinfo) -> None:
    record = VARIANTS[variant](record_of(kind))
    obj = json.loads(format_jsonl(record, tz))
    check(obj)
    assert ("server_time" in obj) == (record.server_time is not None)
    assert ("replayed" in obj) == (record.replayed is not None)
    assert ("target" in obj) == (record.target is not None)
    assert ("netsplit" in obj or "netjoin" in obj) == (record.split is not None)


def test_the_schema_is_draft_2020_12_with_its_version_in_its_id() -> None:
    Draft202012Validator.check_schema(SCHEMA)
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert SCHEMA["$id"] == SCHEMA_ID == f"urn:logbot:jsonl:{SCHEMA_VERSION}"
    assert schema_text().endswith("}\n")
    for example in SCHEMA["examples"]:
        check(example)


def test_the_schema_names_what_the_code_knows() -> None:
    """Its enums are the code's sets, and what it requires is what every line has."""
    assert {choice["const"] for choice in SCHEMA["properties"]["type"]["anyOf"]} == TYPES
    assert set(SCHEMA["properties"]["server_time_rejected"]["enum"]) == REJECTED
    (markers,) = [  # the rule for the bot's own lines: no user, host, account, msgid
        rule["if"]["properties"]["type"]["enum"]
        for rule in SCHEMA["allOf"]
        if "user" in rule["then"].get("properties", {})
    ]
    assert set(markers) == MARKERS
    plain = json.loads(format_jsonl(record_of("join"), UTC))
    assert SCHEMA["required"] == list(plain)


def _line(kind: str = "message", **changes: Any) -> dict[str, Any]:
    obj: dict[str, Any] = json.loads(format_jsonl(record_of(kind), BERLIN))
    for key, value in changes.items():
        if value is KeyError:
            obj.pop(key, None)
        else:
            obj[key] = value
    return obj


REFUSED = {
    "no time_ms": _line(time_ms=KeyError),
    "time_ms with a fraction": _line(time_ms=1795770900123.5),
    "time_ms a string": _line(time_ms="1795770900123"),
    "time_ms past 2^53": _line(time_ms=2**63),
    "time in Z": _line(time="2026-11-27T09:15:00Z"),
    "time without offset": _line(time="2026-11-27T10:15:00.123"),
    "time with a space": _line(time="2026-11-27 10:15:00.123+01:00"),
    "unknown type": _line(type="privmsg"),
    "unknown time_source": _line(time_source="ntp"),
    "server_time alone": _line(server_time=RAW),
    "server_time used": _line(server_time=RAW, server_time_rejected="ahead"),
    "unknown rejection": _line(time_source="local", server_time=RAW, server_time_rejected="x"),
    "replayed alone": _line(replayed=True),
    "replayed false": _line(replayed=False, replay_source="chathistory"),
    "message without text": _line(text=None),
    "message without nick": _line(nick=None),
    "kick without target": _line("kick", target=KeyError),
    "nick with a null target": _line("nick", target=None),
    "marker with a user": _line("connect", user="~logbot"),
    "marker without text": _line("gap", text=None),
    "opted_out naming a nick": _line("opted_out", nick="alice"),
    "opted_out with tags": _line("opted_out", tags={"account": "alice"}),
    "opted_out with a target": _line("opted_out", target="alice"),
    "a tag not a string": _line(tags={"n": 1}),
    "tags null": _line(tags=None),
    "network null": _line(network=None),
    "no msgid": _line(msgid=KeyError),
    "netsplit on a message": _line(netsplit="a b"),
    "netjoin on a quit": _line("quit", netjoin="a b"),
    "netsplit not a string": _line("quit", netsplit=["a", "b"]),
    "rename without target": _line("renamed_to", target=KeyError),
}


@pytest.mark.parametrize("name", REFUSED)
def test_lines_a_reader_must_not_get_are_refused(name: str) -> None:
    assert not VALIDATOR.is_valid(REFUSED[name]), REFUSED[name]


def test_new_optional_keys_do_not_break_version_1() -> None:
    """The compatibility promise: a key added later (after ``time``) still validates."""
    obj = _line()
    check(obj)
    assert VALIDATOR.is_valid(obj | {"nick_color": 3, "future": {"any": ["thing"]}})


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return run_demo(tmp_path_factory.mktemp("demo") / "demo")


def test_a_log_the_bot_wrote_validates(demo: Path) -> None:
    lines = records(demo)
    assert {"connect", "join", "message", "action", "nick", "topic", "mode", "part"} <= {
        obj["type"] for obj in lines
    }
    for obj in lines:
        check(obj)


ZONES = [
    UTC,
    BERLIN,
    ZoneInfo("America/St_Johns"),  # -03:30
    ZoneInfo("Asia/Kathmandu"),  # +05:45
    ZoneInfo("Pacific/Kiritimati"),  # +14:00
    ZoneInfo("Australia/Lord_Howe"),  # half an hour of DST
]


@given(
    st.datetimes(
        min_value=datetime.datetime(2, 1, 1),
        max_value=datetime.datetime(9998, 12, 31),
        timezones=st.sampled_from(ZONES),
    ),
    st.sampled_from(ZONES),
)
def test_time_ms_is_the_instant_time_shows(when: datetime.datetime, tz: datetime.tzinfo) -> None:
    """In every zone and year (LMT offsets in seconds, before 1970 included): ``time``
    read with its offset, and ``time_ms`` counted from the epoch, are one instant, the
    record's time cut to the millisecond."""
    record = LogRecord(when, "local", "message", "n", "#c", "alice", text="x")
    obj = json.loads(format_jsonl(record, tz))
    shown = datetime.datetime.fromisoformat(obj["time"])
    assert EPOCH + datetime.timedelta(milliseconds=obj["time_ms"]) == shown
    assert datetime.timedelta(0) <= when - shown < datetime.timedelta(milliseconds=1)
    check(obj)
