"""A stored jsonl record back into the lines the bot wrote from it.

Why a module of its own: the archive keeps each line as its jsonl record (a dict);
an export must give back the very lines of the bot's files, so the record is turned
back into the :class:`~logbot.logs.record.LogRecord` it was written from
(:func:`record_from_jsonl`), and that record goes through the bot's own formatters.

* **jsonl**: the record itself, never a rewording of it.  The LogRecord's
  :func:`~logbot.logs.formats.format_jsonl` line is written when it reads back as the
  stored record, key for key (then it is byte for byte the bot's line, in the bot's key
  order, even from a store that keeps no key order, such as PostgreSQL's ``jsonb``).
  A record that does not make the same line (a key of a later schema, a field of an
  unexpected type) is written as it is, compact JSON, its keys in the schema's order
  (``properties`` of ``jsonl.schema.json``; unknown keys after them): nothing of it is
  lost or reworded.
* **text**: rendered from the LogRecord in the channel's layout, its time in the
  channel's zone; but where the zone's offset at that instant is not the offset the
  record was written with (the zone was changed since), in the record's own offset:
  the text line then says the time its jsonl line says, and lies in the same day.
  A QUIT or JOIN of a netsplit (its ``netsplit``/``netjoin`` key) is not a text line:
  the bot wrote one summary per channel when the batch ended
  (:mod:`logbot.logs.splits`).  The jsonl keeps no trace of where the batch ended, so
  a summary is written where a run of such lines (same kind, servers and ``batch``
  tag) ends, with the time of its first line: the place the bot's is in, unless
  another line came in the middle of the batch.  A record that cannot be rendered
  (an unknown type, a damaged field) gets no text line and is counted.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping
from datetime import datetime, tzinfo
from typing import Any

from logbot.logs.formats import format_jsonl, text_formatter
from logbot.logs.record import LogRecord
from logbot.logs.schema import load_schema
from logbot.logs.splits import summaries

__all__ = ["DayRenderer", "jsonl_line", "record_from_jsonl", "schema_order"]

_OPTIONAL_STR = ("nick", "user", "host", "account", "text", "target", "msgid")
_SPLIT_KINDS = ("netsplit", "netjoin")
_COMPACT = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


@functools.cache
def schema_order() -> tuple[str, ...]:
    """The jsonl keys in the order the bot writes them (the schema's ``properties``)."""
    return tuple(load_schema()["properties"])


def _str(obj: Mapping[str, Any], key: str) -> str:
    value = obj.get(key)
    if type(value) is not str:
        raise ValueError(f"{key!r} is not a string: {value!r}")
    return value


def _maybe_str(obj: Mapping[str, Any], key: str) -> str | None:
    value = obj.get(key)
    if value is not None and type(value) is not str:
        raise ValueError(f"{key!r} is not a string or null: {value!r}")
    return value


def record_from_jsonl(obj: Mapping[str, Any]) -> LogRecord:
    """The LogRecord a jsonl record was written from: ``format_jsonl`` of it, in the
    zone of the record's ``time``, is the record's line again (``time_ms`` follows
    from ``time``).  A netsplit's QUIT or netjoin's JOIN is ``only`` jsonl, as the bot
    makes it.

    :raises ValueError: not a record of the schema (a field missing or of another
        type, a time without an offset)."""
    when = datetime.fromisoformat(_str(obj, "time"))
    if when.tzinfo is None:
        raise ValueError(f"'time' has no offset: {obj['time']!r}")
    tags = obj.get("tags")
    if not isinstance(tags, dict) or not all(
        type(k) is str and (v is None or type(v) is str) for k, v in tags.items()
    ):
        raise ValueError(f"'tags' is not an object of strings: {tags!r}")
    fields = {key: _maybe_str(obj, key) for key in _OPTIONAL_STR}
    replayed = None
    if "replayed" in obj:
        if obj["replayed"] is not True:
            raise ValueError(f"'replayed' is not true: {obj['replayed']!r}")
        replayed = _str(obj, "replay_source")
    split = None
    for kind in _SPLIT_KINDS:
        if kind in obj:
            split = (kind, _str(obj, kind))
    server_time = _maybe_str(obj, "server_time")
    return LogRecord(
        when,
        _str(obj, "time_source"),
        _str(obj, "type"),
        _str(obj, "network"),
        _str(obj, "channel"),
        fields["nick"],
        fields["user"],
        fields["host"],
        fields["account"],
        fields["text"],
        fields["target"],
        fields["msgid"],
        tags,
        server_time,
        _maybe_str(obj, "server_time_rejected") if server_time is not None else None,
        replayed,
        split,
        "jsonl" if split is not None else None,
    )


def jsonl_line(obj: Mapping[str, Any], record: LogRecord | None, tz: tzinfo) -> str:
    """The line (with its ``\\n``) of the stored record ``obj``: the bot's line from
    ``record`` (:func:`record_from_jsonl` of it, None if it had none) when that line
    is ``obj``, else ``obj`` as compact JSON in the schema's key order."""
    if record is not None:
        try:
            line = format_jsonl(record, tz)
        except (ValueError, TypeError):
            line = None
        if line is not None and json.loads(line) == obj:
            return line
    order = schema_order()
    known = {key: obj[key] for key in order if key in obj}
    rest = {key: value for key, value in obj.items() if key not in known}
    return _COMPACT.encode(known | rest) + "\n"


def zone_of(when: datetime, tz: tzinfo) -> tzinfo:
    """``tz`` where it gives ``when`` the offset ``when`` has, else ``when``'s own
    zone (see the module docstring: the channel's zone changed since)."""
    if when.astimezone(tz).utcoffset() == when.utcoffset():
        return tz
    own = when.tzinfo
    assert own is not None
    return own


class _Run:
    """A run of a netsplit's QUITs (a netjoin's JOINs) in one channel: its summary."""

    __slots__ = ("key", "nicks", "record")

    def __init__(self, key: tuple[str, str, str | None], record: LogRecord) -> None:
        self.key = key
        self.record = record  # the first: its time, network, channel
        self.nicks: list[str] = []


class DayRenderer:
    """One channel's day, a record at a time: :meth:`add` returns the lines of each
    format the record makes (the text line of a netsplit's summary comes with the
    first line after its run), :meth:`finish` those still held.

    ``formats``: those to render (``text``, ``jsonl``); ``layout``: the text layout
    and time format; ``tz``: the channel's zone.  ``unrendered`` counts the records
    that got no text line (unknown type, damaged)."""

    def __init__(
        self, formats: tuple[str, ...], layout: tuple[str, str | None], tz: tzinfo
    ) -> None:
        self.formats = formats
        self.tz = tz
        self.text: Callable[[LogRecord, tzinfo], str] = text_formatter(*layout)
        self.unrendered = 0
        self._run: _Run | None = None

    def add(self, obj: Mapping[str, Any]) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {fmt: [] for fmt in self.formats}
        try:
            record: LogRecord | None = record_from_jsonl(obj)
        except (ValueError, TypeError):
            record = None
        tz = self.tz if record is None else zone_of(record.time, self.tz)
        if "jsonl" in out:
            out["jsonl"].append(jsonl_line(obj, record, tz))
        if "text" in out:
            self._text(record, tz, out["text"])
        return out

    def finish(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {fmt: [] for fmt in self.formats}
        if "text" in out:
            self._summary(out["text"])
        return out

    def _text(self, record: LogRecord | None, tz: tzinfo, lines: list[str]) -> None:
        if record is not None and record.split is not None:
            key = (*record.split, record.tags.get("batch"))
            run = self._run
            if run is None or run.key != key:
                self._summary(lines)
                run = self._run = _Run(key, record)
            if record.nick is not None:
                run.nicks.append(record.nick)
            return
        self._summary(lines)
        if record is None:
            self.unrendered += 1
            return
        try:
            lines.append(self.text(record, tz))
        except (ValueError, TypeError, KeyError):
            self.unrendered += 1

    def _summary(self, lines: list[str]) -> None:
        run, self._run = self._run, None
        if run is None or not run.nicks:
            return
        first = run.record
        kind, servers = run.key[0], run.key[1]
        tz = zone_of(first.time, self.tz)
        for summary in summaries(
            kind, servers, first.network, first.channel, run.nicks, first.time, first.time_source
        ):
            lines.append(self.text(summary, tz))
