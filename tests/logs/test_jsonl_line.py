"""The jsonl line's shortcuts (formats.py): the tags object through json's C encoder,
or the Python fallback where there is none, is json.dumps()'s; tags that are not a
dict take the slow path and come out the same; ``time_ms`` is cached for one time only."""

from __future__ import annotations

import datetime
import json
from types import MappingProxyType

from hypothesis import given
from hypothesis import strategies as st

from logbot.logs import formats
from logbot.logs.formats import format_jsonl
from logbot.logs.record import LogRecord

UTC = datetime.UTC
WHEN = datetime.datetime(2026, 11, 27, 9, 15, 0, 123456, tzinfo=UTC)
TAGS = st.dictionaries(st.text(), st.one_of(st.none(), st.text()), max_size=5)


@given(TAGS.filter(bool))
def test_both_tag_encoders_write_what_json_dumps_writes(tags: dict[str, str | None]) -> None:
    want = json.dumps(tags, ensure_ascii=False, separators=(",", ":"))
    assert "".join(formats._tags(tags, 0)) == want
    assert "".join(formats._TAGS(tags, 0)) == want


def test_tags_that_are_not_a_dict_are_written_the_same() -> None:
    plain = LogRecord(WHEN, "server", "message", "n", "#c", "a", text="x", tags={"k": "v"})
    proxied = LogRecord(
        WHEN, "server", "message", "n", "#c", "a", text="x", tags=MappingProxyType({"k": "v"})
    )
    assert format_jsonl(proxied, UTC) == format_jsonl(plain, UTC)
    assert json.loads(format_jsonl(proxied, UTC))["tags"] == {"k": "v"}


def test_time_ms_is_not_taken_from_the_cache_for_another_time() -> None:
    """One line after another: each its own time_ms, the cache keyed on the time (an
    equal time in another zone is the same instant, and hits)."""
    later = WHEN + datetime.timedelta(milliseconds=1)
    for when, ms in [
        (WHEN, 1795770900123),
        (later, 1795770900124),
        (WHEN.astimezone(datetime.timezone(datetime.timedelta(hours=-5))), 1795770900123),
        (later, 1795770900124),
    ]:
        record = LogRecord(when, "local", "join", "n", "#c", "a")
        assert json.loads(format_jsonl(record, UTC))["time_ms"] == ms
