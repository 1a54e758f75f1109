"""The text layouts as the readers read them: irclog2html and pisg, run on a real log.

The README says the text log is for irclog2html and pisg; an older layout (ISO 8601
with an offset) was read by neither, and no test had run them.  Here, for each layout,
a log of every event kind logbot writes is made the way the bot makes it (IRC lines
through the IRC core and :class:`RecordMaker`, the bot's own lines as the bot words
them, all through :class:`LogWriter`), then run through

* ``irclog2html`` (PyPI, the ``test`` extra), the real command, whose HTML gives each
  line a class: ``text``, ``action``, ``join``, ``part``, ``nickchange``,
  ``servermsg`` or ``other`` (no class), and an anchor when it found the time;
* ``pisg`` (Debian's, installed by ``.ci/run``) with the format the layout claims,
  whose statistics (``StatsDump``) say what it counted: lines, actions, joins, kicks,
  ops given, topics, nick changes.

Every actor has a nick of their own, so each count names the line it came from.  The
expected tables are the README's ("Which reader reads what"): a change to a layout
that costs a reader a line fails here.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from logbot.bot.netsplits import summaries
from logbot.config.settings import LogOptions
from logbot.irc import events as ev
from logbot.irc.core import IRCConnection
from logbot.irc.flood import FloodControl
from logbot.logs.events_to_records import RecordMaker
from logbot.logs.policy import OPTED_OUT_TEXT
from logbot.logs.record import LogRecord
from logbot.logs.writer import LogWriter
from logbot.reactor.task import Clock

START = datetime(2026, 12, 6, 14, 3, 0, tzinfo=UTC).timestamp()
SERVER = ":irc.example.net"

#: (kind, the IRC line that makes it, the nick it is counted for), in log order.
EVENTS: list[tuple[str, str, str]] = [
    ("topic_info", f"{SERVER} 332 logbot #chan :the topic we found", "tess"),
    ("", f"{SERVER} 333 logbot #chan tess!~tess@t.example 1796000000", ""),
    ("", f"{SERVER} 353 logbot = #chan :logbot @kim @moe @tom mia ace nora pat kyle", ""),
    ("", f"{SERVER} 366 logbot #chan :End of /NAMES list.", ""),
    ("message", ":mia!~mia@m.example PRIVMSG #chan :hello there, how is everyone", "mia"),
    ("action", ":ace!~ace@a.example PRIVMSG #chan :\x01ACTION waves at everyone\x01", "ace"),
    ("notice", ":nora!~nora@n.example NOTICE #chan :a notice to the channel", "nora"),
    ("join", ":jay!~jay@j.example JOIN #chan", "jay"),
    ("part", ":pat!~pat@p.example PART #chan :off to lunch", "pat"),
    ("join", ":quinn!~quinn@q.example JOIN #chan", "quinn"),
    ("quit", ":quinn!~quinn@q.example QUIT :see you tomorrow", "quinn"),
    ("join", ":nico!~nico@c.example JOIN #chan", "nico"),
    ("nick", ":nico!~nico@c.example NICK nicolas", "nico"),
    ("kick", ":kim!~kim@k.example KICK #chan kyle :spamming", "kim"),
    ("mode", ":moe!~moe@o.example MODE #chan +o mia", "moe"),
    ("topic", ":tom!~tom@t.example TOPIC #chan :a new topic for the channel", "tom"),
    ("join", ":hal!~hal@h.example JOIN #chan", "hal"),
    ("chghost", ":hal!~hal@h.example CHGHOST ~hal new.example", "hal"),
    ("setname", ":hal!~hal@new.example SETNAME :Hal H.", "hal"),
    ("away", ":hal!~hal@new.example AWAY :gone fishing", "hal"),
    ("back", ":hal!~hal@new.example AWAY", "hal"),
    # One RENAME, two lines (the old log's and the new one's: here in one file).
    ("renamed_to", ":rex!~rex@r.example RENAME #chan #newchan :a better name", "rex"),
    ("renamed_from", "", "rex"),
]
#: The bot's own lines, as network.py and replay.py word them.
MARKERS = [
    ("connect", "connected to irc.example.net:6697"),
    ("disconnect", "disconnected (Connection lost)"),
    (
        "gap",
        "reconnected to irc.example.net:6697 as logbot; events between"
        " 2026-12-06T13:03:30+00:00 and 2026-12-06T13:03:40+00:00 were not seen",
    ),
    (
        "recovered",
        "reconnected to irc.example.net:6697 as logbot; events between"
        " 2026-12-06T13:03:40+00:00 and 2026-12-06T13:03:50+00:00 were recovered from the"
        " server's history (3 lines, chathistory)",
    ),
    ("opted_out", OPTED_OUT_TEXT),
]
#: A netsplit and a netjoin, summed up as logbot.bot.netsplits does: (kind, nicks).
SUMMARIES = [("netsplit", ["sid", "sue"]), ("netjoin", ["sid", "sue"])]
#: Every kind the log holds, in the order written ("own": a message of the bot's).
KINDS = (
    [k for k, _, _ in EVENTS if k] + ["own"] + [k for k, _ in MARKERS] + [k for k, _ in SUMMARIES]
)


def every_kind(root: Path, layout: str) -> Path:
    """A day's log of ``#chan`` in ``layout`` with one line of each of :data:`KINDS`."""
    conn = IRCConnection("logbot", flood=FloodControl(enabled=False))
    conn.connection_made(0.0)
    clock = iter(range(10_000))
    maker = RecordMaker("net", wall=lambda: START + next(clock))
    records: list[LogRecord] = []
    welcome = [
        f"{SERVER} 001 logbot :Welcome",
        f"{SERVER} 005 logbot CHANTYPES=# PREFIX=(ov)@+ :are supported",
        ":logbot!~logbot@b.example JOIN #chan",
    ]
    lines = welcome + [line for _, line, _ in EVENTS if line]
    for event in conn.receive_data("".join(f"{x}\r\n" for x in lines).encode(), 0.0):
        if isinstance(event, ev.Joined) and event.nick == "logbot":
            continue  # the bot's own join: the bot writes its connect line instead
        records += [r for _, r in maker.records(event, conn.state)]
    own = maker.marker("connect", "#chan", "")  # only for its time and channel
    records.append(
        LogRecord(own.time, "local", "message", "net", "#chan", "logbot", text="mia: pong")
    )
    for kind, text in MARKERS:
        records.append(maker.marker(kind, "#chan", text, nick="logbot"))
    for kind, nicks in SUMMARIES:
        when = maker.marker(kind, "#chan", "").time
        records += summaries(kind, "irc.hub.example irc.leaf.example", "net", "#chan", nicks,
                             when, "local")  # fmt: skip
    assert [r.type for r in records] == [k if k != "own" else "message" for k in KINDS]
    writer = LogWriter(Clock(), root=root, wall=lambda: START)
    options = LogOptions(formats=("text",), text_layout=layout)
    for record in records:
        writer.write(record, "#chan", options)
    writer.close()
    (path,) = (root / "net" / "#chan").iterdir()
    return path


# -- irclog2html ---------------------------------------------------------------------------

_ROW = re.compile(r'<tr(?: id="t([^"]*)")?><(th|td) class="([a-z]+)"')
#: The class irclog2html gives each kind, per layout ("text": a line with a nick column).
IRCLOG2HTML = {
    "limnoria": {
        "message": "text",
        "action": "action",
        "notice": "other",
        "join": "join",
        "part": "part",
        "quit": "part",
        "nick": "nickchange",
        "own": "text",
        "netsplit": "part",  # "... have quit": a quit to irclog2html, as it reads "quit"
    },
    "irssi": {
        "message": "text",
        "action": "action",
        "notice": "other",
        "join": "join",
        "part": "part",
        "quit": "part",
        "nick": "nickchange",
        "own": "text",
        "netsplit": "part",  # "Netsplit a <-> b quits: ..."
    },
    "znc": {
        "message": "text",
        "action": "action",
        "notice": "other",
        "join": "servermsg",  # "*** Joins: nick (user@host)": no "joined" to find
        "part": "servermsg",  # "*** Parts: ...": no "left"
        "quit": "servermsg",  # "*** Quits: ...": no "quit" in lower case
        "nick": "nickchange",
        "own": "text",
        "netsplit": "part",  # Limnoria's wording: "... have quit"
    },
}  # every other kind (renames, a netjoin's "come back" or "joins:" too): "servermsg"


def irclog2html(log: Path, tmp: Path) -> list[tuple[str | None, str]]:
    """(the time it found or None, the class) of each line, from the command's HTML."""
    out = tmp / "log.html"
    subprocess.run(
        [sys.executable, "-m", "irclog2html", "-o", str(out), str(log)],
        check=True,
        capture_output=True,
        timeout=60,
    )
    table = out.read_text(encoding="utf-8").split('<table class="irclog">', 1)[1]
    rows = []
    for time, cell, cls in _ROW.findall(table.split("</table>", 1)[0]):
        rows.append((html.unescape(time) or None, "text" if cell == "th" else cls))
    return rows


@pytest.mark.parametrize("layout", ["limnoria", "irssi", "znc"])
def test_irclog2html_reads_the_time_and_the_class_of_every_line(
    tmp_path: Path, layout: str
) -> None:
    log = every_kind(tmp_path / "logs", layout)
    rows = irclog2html(log, tmp_path)
    assert len(rows) == len(KINDS) == len(log.read_text().splitlines())
    expected = [IRCLOG2HTML[layout].get(kind, "servermsg") for kind in KINDS]
    assert [(kind, cls) for kind, (_, cls) in zip(KINDS, rows, strict=True)] == list(
        zip(KINDS, expected, strict=True)
    )
    times = [time for time, _ in rows]
    assert None not in times, "irclog2html found no time in some lines"
    assert times[0].endswith("14:03:00" if layout != "irssi" else "14:03")


def test_irclog2html_read_no_time_and_no_class_in_the_layout_before(tmp_path: Path) -> None:
    """What the issue found, kept as a check that the test above can fail: the layout
    logbot wrote before (still written to finish a file begun in it) is all "other"."""
    log = every_kind(tmp_path / "logs", "limnoria")
    old = tmp_path / "old.log"
    old.write_text(
        "".join(
            f"2026-12-06T{line[11:19]}+00:00 {line[21:]}\n" for line in log.read_text().splitlines()
        )
    )
    rows = irclog2html(old, tmp_path)
    assert len(rows) == len(KINDS) and set(rows) == {(None, "other")}


# -- pisg ----------------------------------------------------------------------------------

#: The pisg format each layout is read with.
PISG_FORMAT = {"limnoria": "supy", "irssi": "irssi", "znc": "energymech"}
#: What pisg counted each kind as, per layout ("-": nothing; see classify()).
PISG = {
    "limnoria": {
        "message": "line",
        "action": "action",
        "join": "-",  # supy counts "*** nick has joined" (Supybot's); Limnoria adds <mask>
        "nick": "nick",
        "kick": "kick",
        "mode": "mode",
        "topic": "topic",
        "own": "line",
    },
    "irssi": {
        "message": "line",
        "action": "action",
        "join": "join",
        "nick": "nick",
        "kick": "kick",
        "mode": "mode",
        "topic": "topic",
        "own": "line",
    },
    "znc": {
        "message": "line",
        "action": "action",
        "join": "join",
        "nick": "nick",
        "kick": "kick",
        "mode": "mode",
        "topic": "topic",
        "own": "line",
    },
}  # every other kind: "-"

PISG_BIN = shutil.which("pisg")
needs_pisg = pytest.mark.skipif(
    PISG_BIN is None, reason="pisg is not installed (.ci/run installs Debian's pisg)"
)
_DUMP = r"""
our ($stats, $lines);
do $ARGV[0] or die "cannot read the dump: $@ $!";
print JSON::PP->new->canonical->encode({
    map { $_ => $stats->{$_} }
    qw(lines actions joins kicked gotkicked gaveops topics nicks parsedlines totallines)
});
"""


def pisg(log: Path, fmt: str, tmp: Path) -> dict[str, Any]:
    """pisg's statistics of ``log`` read with ``fmt`` (its StatsDump, as JSON)."""
    assert PISG_BIN is not None
    dump = tmp / "pisg.dump"
    subprocess.run(
        [PISG_BIN, "-s", "-ch", "#chan", "-ne", "net", "-f", fmt, "-l", str(log),
         "-o", str(tmp / "pisg.html"), "-cf", f"StatsDump={dump}",
         "-cf", "NickTracking=1", "-cf", "ShowMostNicks=1"],
        check=True, capture_output=True, timeout=120, cwd=tmp,
    )  # fmt: skip
    out = subprocess.run(
        ["perl", "-MJSON::PP", "-e", _DUMP, str(dump)],
        check=True,
        capture_output=True,
        timeout=60,
    )
    stats: dict[str, Any] = json.loads(out.stdout)
    return stats


def classify(stats: dict[str, Any], kind: str, nick: str) -> str:
    """What pisg made of the line of ``kind`` said by ``nick`` (its own nick: no
    other line counts for it)."""
    if kind == "nick":
        return "nick" if "nico" in (stats.get("nicks") or {}).get("nicolas", {}) else "-"
    if nick in (stats.get("actions") or {}):
        return "action"
    if nick in (stats.get("lines") or {}):
        return "line"
    if nick in (stats.get("joins") or {}) and kind == "join":
        return "join"
    if nick in (stats.get("kicked") or {}):
        return "kick"
    if nick in (stats.get("gaveops") or {}):
        return "mode"
    if any(t["nick"] == nick for t in stats.get("topics") or []):
        return "topic"
    return "-"


def _actors() -> Iterator[tuple[str, str]]:
    for kind, _, nick in EVENTS:
        if kind:
            yield kind, nick
    yield "own", "logbot"
    for kind, _ in MARKERS:
        yield kind, "logbot:"
    for kind, nicks in SUMMARIES:
        yield kind, nicks[0]


@needs_pisg
@pytest.mark.parametrize("layout", ["limnoria", "irssi", "znc"])
def test_pisg_counts_every_kind_it_has_a_count_for(tmp_path: Path, layout: str) -> None:
    log = every_kind(tmp_path / "logs", layout)
    stats = pisg(log, PISG_FORMAT[layout], tmp_path)
    got = {kind: classify(stats, kind, nick) for kind, nick in _actors() if kind != "join"}
    got["join"] = "join" if (stats.get("joins") or {}).keys() >= {"jay", "quinn"} else "-"
    expected = {kind: PISG[layout].get(kind, "-") for kind in KINDS}
    assert got == expected
    assert stats["lines"] == {"mia": 1, "ace": 1, "logbot": 1}  # notices are not lines
    assert stats["gotkicked"] == {"kyle": 1}
    (topic,) = stats["topics"]
    assert topic["topic"].strip(" \"'") == "a new topic for the channel"
    assert stats["totallines"] == len(KINDS)


@needs_pisg
def test_pisg_found_no_parseable_line_in_the_layout_before(tmp_path: Path) -> None:
    """The issue's "No parseable lines", kept as a check that the test above can fail."""
    log = every_kind(tmp_path / "logs", "limnoria")
    old = tmp_path / "old.log"
    old.write_text(
        "".join(
            f"2026-12-06T{line[11:19]}+00:00 {line[21:]}\n" for line in log.read_text().splitlines()
        )
    )
    for fmt in ("supy", "irssi", "energymech"):
        stats = pisg(old, fmt, tmp_path)
        assert (stats["totallines"], stats["parsedlines"]) == (len(KINDS), 0), fmt
