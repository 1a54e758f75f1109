"""Which log a message goes to, on servers whose channel types are also nick prefixes.

On ngircd (``PREFIX=(qaohv)~&@%+ CHANTYPES=#&+``, no STATUSMSG) a line in ``&local``
belongs to ``&local``: not to "local" (its name with the ``&`` taken for a status
prefix) and not to the speaker's private log.  On InspIRCd (``STATUSMSG=@+``) a line
to ``@#c`` belongs to ``#c`` and keeps ``@#c`` as its record's ``target``, so the
JSON log says it went to the ops only.
"""

from __future__ import annotations

from datetime import UTC, datetime

from logbot.irc import events as ev
from logbot.irc.core import IRCConnection
from logbot.irc.flood import FloodControl
from logbot.logs.events_to_records import RecordMaker
from logbot.logs.formats import format_jsonl, format_text
from logbot.logs.record import LogRecord

ALICE = "alice!~alice@127.0.0.1"
WALL = datetime(2026, 11, 27, 10, 0, tzinfo=UTC).timestamp()


def records(isupport_line: str, *lines: str) -> list[tuple[str, LogRecord]]:
    conn = IRCConnection("bot", flood=FloodControl(enabled=False))
    conn.connection_made(0.0)
    data = "".join(
        f"{line}\r\n" for line in (":srv 001 bot :Welcome bot!~b@h", isupport_line, *lines)
    )
    maker = RecordMaker("net", wall=lambda: WALL)
    out: list[tuple[str, LogRecord]] = []
    for event in conn.receive_data(data.encode(), 0.0):
        if isinstance(event, ev.Privmsg):
            out += maker.records(event, conn.state)
    return out


def test_ngircd_lines_go_to_the_ampersand_and_plus_channels() -> None:
    got = records(
        ":srv 005 bot PREFIX=(qaohv)~&@%+ CHANTYPES=#&+ :are supported",
        f":{ALICE} PRIVMSG &local :hello",
        f":{ALICE} PRIVMSG +modeless :\x01ACTION waves\x01",
        f":{ALICE} NOTICE +modeless :note",
        f":{ALICE} PRIVMSG bot :psst",
    )
    assert [(where, r.channel, r.type, r.text, r.target) for where, r in got] == [
        ("&local", "&local", "message", "hello", None),
        ("+modeless", "+modeless", "action", "waves", None),
        ("+modeless", "+modeless", "notice", "note", None),
        ("alice", "alice", "message", "psst", None),  # private: the policy decides
    ]


def test_a_statusmsg_line_goes_to_its_channel_and_says_to_whom() -> None:
    got = records(
        ":srv 005 bot CHANTYPES=# PREFIX=(ov)@+ STATUSMSG=@+ :are supported",
        f":{ALICE} PRIVMSG @#c :ops only",
        f":{ALICE} PRIVMSG #c :everyone",
    )
    assert [(where, r.channel, r.target) for where, r in got] == [
        ("#c", "#c", "@#c"),
        ("#c", "#c", None),
    ]
    ops_only = got[0][1]
    assert (
        format_text(ops_only, UTC) == "2026-11-27T10:00:00  <alice> ops only\n"
    )  # as irclog2html reads it
    assert '"target":"@#c"' in format_jsonl(ops_only, UTC)
