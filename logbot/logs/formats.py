"""The two log line formats: ``text`` for people and ``jsonl`` for programs.

``text`` is one line per record, ``<time><sep><body>``, in one of the layouts of
:data:`TEXT_LAYOUTS`: Limnoria's ChannelLogger (the default), irssi's autolog or ZNC's
log module, exactly as each writes, because the point of a text log is the tools that
already read those (irclog2html, pisg: tests/logs/test_text_readers.py runs both).
So the time is in the channel's timezone without an offset (no reader finds a time
followed by ``+01:00``), and a body per record type in that logger's words
(``<nick> hello``, ``*** nick <nick!user@host> has joined #c``).  A log is
read line by line, so a CR, LF or NUL that slipped into a field is written as
``\\r``, ``\\n``, ``\\0`` (two characters, no space).  And a log is read in a
terminal (``cat``, ``tail -f``, ``less -R``), where anyone on the channel could
otherwise set the window title, clear the screen, hide text or write the
operator's clipboard (OSC 52) with an escape sequence: so every other C0 control
character, DEL and every C1 one (U+0080..U+009F, which some terminals obey like ESC)
is written as ``\\xHH`` (lower-case hex), except the mIRC formatting codes (bold,
colour, hex colour, reset, monospace, reverse, italic, strikethrough, underline),
which terminals ignore and log readers such as irclog2html render.

The escaping can be undone: a backslash that is already in the text is doubled when,
and only when, what follows it would otherwise read as one of these escapes (another
backslash, ``r``, ``n``, ``0``, ``x``, or an escaped character).  So ``\\o/`` and
``C:\\Users`` stay as they were, and reading ``\\\\`` as ``\\``, ``\\r``, ``\\n``,
``\\0``, ``\\xHH`` as the characters they stand for, and any other backslash as
itself gives back the text exactly.

``jsonl`` is one JSON object per line with every field of the record, the time
to the millisecond, so nothing is lost to the ``text`` rendering; ``time_ms`` follows
``time`` with the same instant in Unix milliseconds, for programs that cannot read an
offset (jq); when a server-time stamp was not used (``record.server_time``), it follows
``time_source`` with why; a line recovered from history after a gap follows with
``"replayed":true`` and its ``replay_source``; a QUIT of a netsplit or JOIN of a
netjoin with ``"netsplit"`` or ``"netjoin"`` and the two servers.  ``schema.py``
publishes its JSON Schema.  The netsplit and netjoin summaries are text only.

Both run for every logged line (the bench aims at 150K lines/s), hence the
shortcuts: a dict from type to a small function, the text escapes skipped for a line
with nothing to escape (``in`` and ``str.isprintable``, both C loops: an ordinary line
pays about 0.1 us for the check and nothing more; one with colour codes or ``\\o/``
0.2 us more for a regex search; ``bench/bench_formats.py``), a one-entry cache of the last
timestamp's rendering (lines come in bursts from the same second), and the JSON
object assembled from pre-encoded keys with the C string encoder ``json`` itself
uses.  The output is byte for byte that of ``json.dumps(obj, ensure_ascii=False,
separators=(",", ":"))``; the tests check that.
"""

from __future__ import annotations

import datetime
import functools
import json
import re
from collections.abc import Callable
from json.encoder import encode_basestring  # the C version when _json is there

from logbot.logs.record import MARKERS, SUMMARIES, TYPES, LogRecord

__all__ = [
    "ESCAPED",
    "FORMATTERS",
    "MIRC_CODES",
    "TEXT_LAYOUTS",
    "format_jsonl",
    "format_text",
    "text_body",
    "text_formatter",
]

# ---------------------------------------------------------------------- text

#: The mIRC formatting codes, kept as received: bold, colour, hex colour, reset,
#: monospace, reverse, italic, strikethrough, underline.  Terminals ignore them.
MIRC_CODES = "\x02\x03\x04\x0f\x11\x16\x1d\x1e\x1f"
#: What the text format writes escaped: C0 but the mIRC codes, DEL, C1.
ESCAPED = "".join(
    c for c in map(chr, [*range(0x20), 0x7F, *range(0x80, 0xA0)]) if c not in MIRC_CODES
)
_ESCAPES = {c: f"\\x{ord(c):02x}" for c in ESCAPED} | {"\r": "\\r", "\n": "\\n", "\0": "\\0"}
_CLASS = "".join(f"\\x{ord(c):02x}" for c in ESCAPED)
_CONTROL = re.compile(f"[{_CLASS}]")
# A backslash that would read as the start of an escape: doubled (see the docstring).
_AMBIGUOUS_BACKSLASH = re.compile(f"\\\\(?=[\\\\rn0x{_CLASS}])")


def _escape_one(match: re.Match[str]) -> str:
    return _ESCAPES[match[0]]


def _double(match: re.Match[str]) -> str:
    return "\\\\"


def _mask(r: LogRecord) -> str:
    user = "?" if r.user is None else r.user
    host = "?" if r.host is None else r.host
    return f"{r.nick or '?'}!{user}@{host}"


def _reason(text: str | None) -> str:
    return f" ({text})" if text else ""


def _by(r: LogRecord) -> str:
    """`` by nick`` of a rename, or nothing when no one is named (a rename learnt from
    the server's FAIL on joining the old name, or by someone who opted out)."""
    return f" by {r.nick}" if r.nick else ""


def _servers(r: LogRecord) -> tuple[str, str]:
    """The two servers of a netsplit or netjoin summary (``target``: ``"a b"``)."""
    first, _, second = (r.target or "").partition(" ")
    return first or "?", second or "?"


def _split(r: LogRecord, verb: str) -> str:
    """A netsplit or netjoin summary in Limnoria's shape: ``*** netsplit: a <-> b:
    alice, bob have quit`` (nicks hold no comma, so one nick is one name)."""
    first, second = _servers(r)
    text = r.text or ""
    return f"*** {r.type}: {first} <-> {second}: {text} {'have' if ', ' in text else 'has'} {verb}"


# A missing text is written as nothing, a missing nick or target as "?".
_BODIES: dict[str, Callable[[LogRecord], str]] = {
    "message": lambda r: f"<{r.nick or '?'}> {r.text or ''}",
    "action": lambda r: f"* {r.nick or '?'} {r.text or ''}",
    "notice": lambda r: f"-{r.nick or '?'}- {r.text or ''}",
    "join": lambda r: f"*** {r.nick or '?'} <{_mask(r)}> has joined {r.channel}",
    "part": lambda r: f"*** {r.nick or '?'} <{_mask(r)}> has left {r.channel}{_reason(r.text)}",
    "quit": lambda r: f"*** {r.nick or '?'} <{_mask(r)}> has quit IRC{_reason(r.text)}",
    "nick": lambda r: f"*** {r.nick or '?'} is now known as {r.target or '?'}",
    "kick": lambda r: f"*** {r.target or '?'} was kicked by {r.nick or '?'}{_reason(r.text)}",
    "mode": lambda r: f"*** {r.nick or '?'} sets mode: {r.text or ''}",
    "topic": lambda r: f'*** {r.nick or "?"} changes topic to "{r.text or ""}"',
    "topic_info": lambda r: (
        f'*** topic for {r.channel} is "{r.text or ""}"' + (f" (set by {r.nick})" if r.nick else "")
    ),
    "chghost": lambda r: f"*** {r.nick or '?'} changed host to {r.target or '?'}",
    "setname": lambda r: f'*** {r.nick or "?"} changed realname to "{r.text or ""}"',
    "away": lambda r: f"*** {r.nick or '?'} is away{_reason(r.text)}",
    "back": lambda r: f"*** {r.nick or '?'} is back",
    "renamed_to": lambda r: (
        f"*** {r.channel} was renamed to {r.target or '?'}{_by(r)}{_reason(r.text)}"
    ),
    "renamed_from": lambda r: (
        f"*** {r.channel} was renamed from {r.target or '?'}{_by(r)}{_reason(r.text)}"
    ),
    "netsplit": lambda r: _split(r, "quit"),
    "netjoin": lambda r: _split(r, "come back"),
}
for _marker in MARKERS:
    _BODIES[_marker] = lambda r: f"*** logbot: {r.text or ''}"
del _marker
assert _BODIES.keys() == TYPES | SUMMARIES, "every record type needs a text body"


def _userhost(r: LogRecord) -> str:
    return f"{'?' if r.user is None else r.user}@{'?' if r.host is None else r.host}"


# irssi's default theme as its autolog writes it (fe-common/core and fe-common/irc
# module-formats.c, default.theme: "-!- " starts an event, [...] holds a host or a
# reason, "[]" when there is none).  irssi has no line for CHGHOST or SETNAME: those
# are worded in its style, without "changed" as the second word (pisg's irssi parser
# takes any "-!- nick changed ..." for a topic change).
_IRSSI_BODIES: dict[str, Callable[[LogRecord], str]] = {
    "message": lambda r: f"<{r.nick or '?'}> {r.text or ''}",
    "action": lambda r: f" * {r.nick or '?'} {r.text or ''}",
    "notice": lambda r: f"-{r.nick or '?'}:{r.channel}- {r.text or ''}",
    "join": lambda r: f"-!- {r.nick or '?'} [{_userhost(r)}] has joined {r.channel}",
    "part": lambda r: f"-!- {r.nick or '?'} [{_userhost(r)}] has left {r.channel} [{r.text or ''}]",
    "quit": lambda r: f"-!- {r.nick or '?'} [{_userhost(r)}] has quit [{r.text or ''}]",
    "nick": lambda r: f"-!- {r.nick or '?'} is now known as {r.target or '?'}",
    "kick": lambda r: (
        f"-!- {r.target or '?'} was kicked from {r.channel} by {r.nick or '?'} [{r.text or ''}]"
    ),
    "mode": lambda r: f"-!- mode/{r.channel} [{r.text or ''}] by {r.nick or '?'}",
    "topic": lambda r: (
        f"-!- {r.nick or '?'} changed the topic of {r.channel} to: {r.text}"
        if r.text
        else f"-!- Topic unset by {r.nick or '?'} on {r.channel}"
    ),
    "topic_info": lambda r: (
        f"-!- Topic for {r.channel}: {r.text or ''}" + (f" [set by {r.nick}]" if r.nick else "")
    ),
    "chghost": lambda r: f"-!- {r.nick or '?'} has changed host to {r.target or '?'}",
    "setname": lambda r: f"-!- {r.nick or '?'} has changed realname to: {r.text or ''}",
    "away": lambda r: f"-!- {r.nick or '?'} is away: {r.text or ''}",
    "back": lambda r: f"-!- {r.nick or '?'} is back",
    # irssi has no channel rename: in its kick's style, "[]" for no reason.
    "renamed_to": lambda r: (
        f"-!- {r.channel} was renamed to {r.target or '?'}{_by(r)} [{r.text or ''}]"
    ),
    "renamed_from": lambda r: (
        f"-!- {r.channel} was renamed from {r.target or '?'}{_by(r)} [{r.text or ''}]"
    ),
    # irssi's own netsplit lines (fe-common/irc/module-formats.c: "netsplit",
    # "netsplit_join"), every nick written (irssi cuts the list short: "+3 more").
    "netsplit": lambda r: "-!- Netsplit {} <-> {} quits: {}".format(*_servers(r), r.text or ""),
    "netjoin": lambda r: f"-!- Netsplit over, joins: {r.text or ''}",
}
for _marker in MARKERS:
    _IRSSI_BODIES[_marker] = lambda r: f"-!- logbot: {r.text or ''}"
del _marker
assert _IRSSI_BODIES.keys() == TYPES | SUMMARIES, "every record type needs an irssi body"

# ZNC's log module (modules/log.cpp), which writes "(...)" even for an empty reason and
# no line for the topic shown on join, CHGHOST, SETNAME, AWAY, a rename or a netsplit
# (it logs each QUIT): those, and the bot's own lines, are Limnoria's wording, in the
# same "*** " shape.
_ZNC_BODIES: dict[str, Callable[[LogRecord], str]] = _BODIES | {
    "join": lambda r: f"*** Joins: {r.nick or '?'} ({_userhost(r)})",
    "part": lambda r: f"*** Parts: {r.nick or '?'} ({_userhost(r)}) ({r.text or ''})",
    "quit": lambda r: f"*** Quits: {r.nick or '?'} ({_userhost(r)}) ({r.text or ''})",
    "kick": lambda r: f"*** {r.target or '?'} was kicked by {r.nick or '?'} ({r.text or ''})",
    "topic": lambda r: f"*** {r.nick or '?'} changes topic to '{r.text or ''}'",
}

#: The text layouts: name -> (bodies, the time's strftime format, what follows the
#: time).  ``limnoria`` (the default) is Limnoria's ChannelLogger, whose lines irclog2html
#: and pisg (format ``supy``) read; ``irssi`` its autolog (pisg ``irssi``); ``znc`` the
#: ZNC log module's (pisg ``energymech``).  ``iso`` is what logbot wrote before the
#: layouts, with the offset that kept every reader from finding the time: it is not
#: offered in the config, only kept so that a file begun in it is finished in it.
TEXT_LAYOUTS: dict[str, tuple[dict[str, Callable[[LogRecord], str]], str, str]] = {
    "limnoria": (_BODIES, "%Y-%m-%dT%H:%M:%S", "  "),
    "irssi": (_IRSSI_BODIES, "%H:%M", " "),
    "znc": (_ZNC_BODIES, "[%H:%M:%S]", " "),
    "iso": (_BODIES, "%Y-%m-%dT%H:%M:%S%:z", " "),
}

# (time, tz, text stamp, JSON stamp) of the last time rendered, shared by both formats
# (a line is usually written in both): one isoformat() per time, replaced in one
# assignment.  The text stamp is the JSON one to the second, without the offset, and
# two spaces: what starts a line of the default text layout, as it is.
_stamps: tuple[object, object, str, str] = (None, None, "", "")
_UTC = datetime.UTC  # what rotation.zone("UTC") gives


def _stamp(record: LogRecord, tz: datetime.tzinfo) -> tuple[object, object, str, str]:
    global _stamps
    when = record.time
    raw = record.tags.get("time") if tz is _UTC and record.time_source == "server" else None
    if (
        raw is not None
        and len(raw) == 24
        and raw[23] == "Z"
        and raw[19] == "."
        and raw[10] == "T"
        and raw[13] == raw[16] == ":"
        and raw.isascii()
    ):
        # The server's own "2026-11-27T10:00:05.123Z" is already the UTC rendering:
        # isoformat() would cost more than all the rest of the line's formatting.  It
        # parsed as a time (record.time), so it holds digits and these separators only.
        full = raw[:23] + "+00:00"
    else:
        full = when.astimezone(tz).isoformat(timespec="milliseconds")  # ....123+01:00
    _stamps = (when, tz, full[:19] + "  ", f'"{full}"')  # digits, T, :, ., +: no escapes
    return _stamps


def _escaped(body: str) -> str:
    """``body`` with its backslashes doubled where ambiguous and its control characters
    escaped (see the module docstring); called only when it may hold either."""
    # Searched before any substitution, which costs several times more even when it
    # finds nothing (str.translate with these multi-character escapes has no fast path:
    # 1.3 us for a coloured line); isprintable() is False for every control character
    # (and for a few harmless ones, NBSP, ZWJ...: the search finds nothing, the line
    # is kept).
    if "\\" in body and _AMBIGUOUS_BACKSLASH.search(body) is not None:
        body = _AMBIGUOUS_BACKSLASH.sub(_double, body)  # first: on the text as received
    if not body.isprintable() and _CONTROL.search(body) is not None:
        body = _CONTROL.sub(_escape_one, body)
    return body


#: Time formats cut out of the JSON stamp ``_stamp`` renders anyway for the jsonl line
#: (``"2026-11-27T10:15:00.123+01:00"``, quotes included): (before, start, stop, after).
#: Any other goes through strftime.
_CUTS: dict[str, tuple[str, int, int, str]] = {
    "%H:%M:%S": ("", 12, 20, ""),
    "%H:%M": ("", 12, 17, ""),
    "[%H:%M:%S]": ("[", 12, 20, "]"),
}
_DEFAULT_TIME = "%Y-%m-%dT%H:%M:%S"  # the text stamp _stamp keeps: no cut at all
_ISO_TIME = "%Y-%m-%dT%H:%M:%S%:z"  # the iso layout's (%:z: Python 3.12's strftime only)


def text_body(record: LogRecord, layout: str = "limnoria") -> str:
    """The line ``layout`` writes for ``record`` without its time: escaped, no newline."""
    bodies = TEXT_LAYOUTS[layout][0]
    try:
        body = bodies[record.type](record)
    except KeyError:
        if record.type in bodies:  # a KeyError inside a body: a bug, not a bad type
            raise
        raise ValueError(f"unknown log record type {record.type!r}") from None
    return _escaped(body) if "\\" in body or not body.isprintable() else body


def _renderer(fmt: str, sep: str) -> Callable[[tuple[object, object, str, str]], str]:
    """What renders ``fmt`` and ``sep`` from the stamps tuple of ``_stamp``."""
    if fmt == _DEFAULT_TIME:  # with another separator than the default layout's

        def default(stamps: tuple[object, object, str, str]) -> str:
            return stamps[2][:19] + sep

        return default
    if fmt == _ISO_TIME:

        def iso(stamps: tuple[object, object, str, str]) -> str:
            return stamps[3][1:20] + stamps[3][24:-1] + sep

        return iso
    if fmt in _CUTS:
        before, start, stop, after = _CUTS[fmt]

        def cut(stamps: tuple[object, object, str, str]) -> str:
            return f"{before}{stamps[3][start:stop]}{after}{sep}"

        return cut

    def strftime(stamps: tuple[object, object, str, str]) -> str:
        when, tz = stamps[0], stamps[1]
        assert isinstance(when, datetime.datetime) and isinstance(tz, datetime.tzinfo)
        return when.astimezone(tz).strftime(fmt) + sep

    return strftime


def text_formatter(
    layout: str = "limnoria", time_format: str | None = None
) -> Callable[[LogRecord, datetime.tzinfo], str]:
    """The text format in ``layout`` (one of :data:`TEXT_LAYOUTS`), its time written
    with ``time_format`` (strftime; None: the layout's own): ``<time><sep><body>\\n``,
    one physical line, the time in the ``tz`` it is given.

    One function per (layout, time_format), shared by every channel that asks."""
    return _text_formatter(layout, time_format)


def _body(bodies: dict[str, Callable[[LogRecord], str]], record: LogRecord) -> str:
    """The text layout's body of ``record`` (before escaping).

    :raises ValueError: a record type the layout has no body for."""
    try:
        return bodies[record.type](record)
    except KeyError:
        if record.type in bodies:
            raise  # from inside the body's function
        raise ValueError(f"unknown log record type {record.type!r}") from None


@functools.cache
def _text_formatter(
    layout: str, time_format: str | None
) -> Callable[[LogRecord, datetime.tzinfo], str]:
    """:func:`text_formatter`, made once per (layout, time_format) (hence the cache).

    The default layout's time and separator are the text stamp ``_stamp`` keeps beside
    the jsonl one, used as it is; the other layouts' own times are cut out of the jsonl
    stamp once per time (a cache of the last); any other format runs strftime once per
    time."""
    bodies, own, sep = TEXT_LAYOUTS[layout]
    fmt = own if time_format is None else time_format

    if fmt == _DEFAULT_TIME and sep == "  ":
        plain = bodies["message"] is _BODIES["message"]  # the limnoria layout's

        def format_default(record: LogRecord, tz: datetime.tzinfo) -> str:
            if plain and record.type == "message":  # most lines: the body written out
                body = f"<{record.nick or '?'}> {record.text or ''}"
            else:
                body = _body(bodies, record)
            # _escaped(), written out: every line (a call costs 50 ns)
            if "\\" in body and _AMBIGUOUS_BACKSLASH.search(body) is not None:
                body = _AMBIGUOUS_BACKSLASH.sub(_double, body)
            if not body.isprintable() and _CONTROL.search(body) is not None:
                body = _CONTROL.sub(_escape_one, body)
            stamps = _stamps
            if stamps[0] != record.time or stamps[1] is not tz:
                stamps = _stamp(record, tz)
            return f"{stamps[2]}{body}\n"

        return format_default

    render = _renderer(fmt, sep)
    last: list[object] = [None, ""]  # the stamps tuple last rendered, and its rendering

    def format_other(record: LogRecord, tz: datetime.tzinfo) -> str:
        # (the escaping is written out only in the default layout's formatter)
        body = _escaped(_body(bodies, record))
        stamps = _stamps
        if stamps[0] != record.time or stamps[1] is not tz:
            stamps = _stamp(record, tz)
        if last[0] is not stamps:
            last[:] = (stamps, render(stamps))
        return f"{last[1]}{body}\n"

    return format_other


#: The default layout (``limnoria``): ``2026-11-27T10:15:00  <alice> hello``.
format_text = text_formatter()


# --------------------------------------------------------------------- jsonl

_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def _tags(tags: object, level: int = 0) -> list[str]:
    """The ``tags`` object, for a Python without the C encoder (the C one returns the
    same pieces); called only with tags."""
    enc = encode_basestring
    items = tags.items()  # type: ignore[attr-defined]
    pairs = [enc(k) + ":" + ("null" if v is None else enc(v)) for k, v in items]
    return ["{" + ",".join(pairs) + "}"]


def _not_json(value: object) -> object:
    """The C encoder's ``default``: a tag value json has no form for sends the line to
    the slow path (json.dumps, which says what is wrong with it)."""
    raise TypeError(f"not a str: {value!r}")


# The tags object through json's own C encoder (a dict of str to str or None, so no
# circular check): 0.1 us less than joining encode_basestring()s, and what it writes is
# json.dumps()'s by construction.  A value json cannot write raises TypeError, and the
# line goes through json.dumps (which refuses it too).
_c_make_encoder = getattr(json.encoder, "c_make_encoder", None)
_TAGS: Callable[[object, int], list[str]] = (
    _tags
    if _c_make_encoder is None
    else _c_make_encoder(None, _not_json, encode_basestring, None, ":", ",", False, False, True)
)
# Pre-encoded: the type (the check that it is one, too) and the time source.
_KINDS = {kind: f',"type":{encode_basestring(kind)}' for kind in TYPES}
_SOURCES = {source: encode_basestring(source) for source in ("server", "local")}


def _rejected(server_time: str, why: str | None) -> str:
    """The keys after ``time_source`` of a record whose server-time was not used."""
    enc = encode_basestring
    return f',"server_time":{enc(server_time)},"server_time_rejected":{enc(why or "invalid")}'


#: The instant ``time_ms`` counts from.
_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=_UTC)
# (stamps, time_ms) of the last jsonl line: the jsonl format's own cache, keyed on the
# stamps tuple of its time (a new tuple for each new time, as the other layouts' caches
# use it: one identity test), for lines of one time (a quit or nick change written into
# several channels, a burst from a server that stamps to the millisecond).
_millis: tuple[object, int] = (None, 0)


#: Speakers (type, network, channel, nick, user, host, account) whose part of the jsonl
#: line is kept made (``_WHO``); past it the cache starts again.
WHO_CACHE = 4096
_WHO: dict[tuple[str | None, ...], str] = {}


def _epoch_ms(when: datetime.datetime) -> int:
    """``time_ms``: milliseconds since 1970-01-01T00:00Z, rounded down as isoformat()
    truncates, so that it is the instant ``time`` shows.  Integer arithmetic: a float
    timestamp would be a millisecond off for some times (and past the year 2255)."""
    d = when - _EPOCH  # exact in any zone (same tzinfo as _EPOCH: no utcoffset() call)
    return (d.days * 86400 + d.seconds) * 1000 + d.microseconds // 1000


def format_jsonl(record: LogRecord, tz: datetime.tzinfo) -> str:
    """One JSON object and ``\\n``: time (to the millisecond, in ``tz``), time_ms (the
    same instant in milliseconds since the Unix epoch, for tools that cannot read an
    offset), time_source, server_time and server_time_rejected (only when the server's
    stamp was not used), replayed (true) and replay_source (only for a line recovered
    from history), netsplit or netjoin (only for a QUIT or JOIN of one: its two
    servers), type, network, channel, nick, user, host, account, text, target (only
    when not None), msgid, tags, in that order; None is null.  ``time`` stays first:
    readback and logview find it at the line's start without parsing the JSON."""
    global _millis
    kind = _KINDS.get(record.type)
    if kind is None:
        raise ValueError(f"unknown log record type {record.type!r}")
    stamps = _stamps
    if stamps[0] != record.time or stamps[1] is not tz:
        stamps = _stamp(record, tz)
    stamp = stamps[3]
    millis = _millis
    if millis[0] is not stamps:  # _epoch_ms(), written out: nearly every line
        d = record.time - _EPOCH
        ms = (d.days * 86400 + d.seconds) * 1000 + d.microseconds // 1000
        millis = _millis = (stamps, ms)
    enc = encode_basestring  # "null" if None else enc(...), written out: every line
    try:
        nick, user, host, account = record.nick, record.user, record.host, record.account
        text, target, msgid, tags = record.text, record.target, record.msgid, record.tags
        source = _SOURCES.get(record.time_source) or enc(record.time_source)
        if record.server_time is not None:  # a stamp not used: two keys more, then
            source += _rejected(record.server_time, record.server_time_rejected)
        if record.replayed is not None:  # recovered from history: two keys more
            source += f',"replayed":true,"replay_source":{enc(record.replayed)}'
        if record.split is not None:  # a netsplit's QUIT, a netjoin's JOIN: its servers
            source += f",{enc(record.split[0])}:{enc(record.split[1])}"
        # The type and the speaker's fields, as written for the last lines of this
        # speaker in this channel: one lookup instead of six encodings (a channel's
        # talk is a few people saying many lines).
        key = (kind, record.network, record.channel, nick, user, host, account)
        who = _WHO.get(key)
        if who is None:
            who = (
                f'{kind},"network":{enc(record.network)},"channel":{enc(record.channel)}'
                f',"nick":{"null" if nick is None else enc(nick)}'
                f',"user":{"null" if user is None else enc(user)}'
                f',"host":{"null" if host is None else enc(host)}'
                f',"account":{"null" if account is None else enc(account)}'
            )
            if len(_WHO) >= WHO_CACHE:
                _WHO.clear()
            _WHO[key] = who
        # One f-string, no "+": each concatenation copies the whole line again.
        target = "" if target is None else ',"target":' + enc(target)
        return (
            f'{{"time":{stamp},"time_ms":{millis[1]},"time_source":{source}{who}'
            f',"text":{"null" if text is None else enc(text)}{target}'
            f',"msgid":{"null" if msgid is None else enc(msgid)}'
            f',"tags":{"".join(_TAGS(tags, 0)) if tags else "{}"}}}\n'
        )
    except TypeError:  # a field that is not a str: let json render (or refuse) it
        return _JSON.encode(_as_dict(record, tz)) + "\n"


def _as_dict(record: LogRecord, tz: datetime.tzinfo) -> dict[str, object]:
    obj: dict[str, object] = {
        "time": record.time.astimezone(tz).isoformat(timespec="milliseconds"),
        "time_ms": _epoch_ms(record.time),
        "time_source": record.time_source,
    }
    if record.server_time is not None:
        obj["server_time"] = record.server_time
        obj["server_time_rejected"] = record.server_time_rejected or "invalid"
    if record.replayed is not None:
        obj["replayed"] = True
        obj["replay_source"] = record.replayed
    if record.split is not None:
        obj[record.split[0]] = record.split[1]
    obj |= {
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
    return obj


FORMATTERS: dict[str, Callable[[LogRecord, datetime.tzinfo], str]] = {
    "text": format_text,
    "jsonl": format_jsonl,
}
