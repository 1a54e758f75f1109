"""What a search prints: the terminal line of each kind of record, colours, context
groups, hostile text kept inert, the JSON line, and the progress bar."""

from __future__ import annotations

import io
import json
import re

import pytest

from logbot.archive.model import Hit, Line, Query
from logbot.archive.search.match import Matcher
from logbot.archive.search.progress import REDRAW_SECONDS, ProgressBar, progress_text
from logbot.archive.search.render import hit_json, hit_lines, record_line, visible
from logbot.logs.record import TYPES
from logbot.reactor import task

from .conftest import record

T = "2026-12-06T14:03:07"
#: Everything a hostile line could try on a terminal: set the title (OSC 0), write the
#: clipboard (OSC 52), clear the screen, move the cursor, a C1 CSI, a bidi override,
#: a bell, mIRC colours.
HOSTILE = (
    "\x1b]0;owned\x07\x1b]52;c;ZXZpbA==\x07\x1b[2J\x1b[H\x9b31m"
    "\u202eevil\u202c \x07\x0304,12red\x03 \x02bold\x02 \r\n\x00"
)
ESCAPES = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u202a-\u202e]")


def hit(r: dict[str, object], seq: int = 1, context: tuple[Line, ...] = ()) -> Hit:
    return Hit("net", "#chan", "2026-12-06", seq, r, context)


@pytest.mark.parametrize(
    ("fields", "shown"),
    [
        ({"type": "message"}, "<alice> hi there"),
        ({"type": "action"}, "* alice hi there"),
        ({"type": "notice"}, "-alice- hi there"),
        ({"type": "join", "text": None}, "*** alice joined"),
        ({"type": "part"}, "*** alice left (hi there)"),
        ({"type": "quit", "text": ""}, "*** alice quit"),
        ({"type": "kick", "target": "bob"}, "*** alice kicked bob (hi there)"),
        ({"type": "nick", "target": "alicia", "text": None}, "*** alice is now known as alicia"),
        ({"type": "mode", "text": "+o bob"}, "*** alice sets mode +o bob"),
        ({"type": "topic"}, "*** alice changed the topic to: hi there"),
        ({"type": "topic_info"}, "*** topic: hi there (set by alice)"),
        ({"type": "chghost", "target": "u@h", "text": None}, "*** alice changed host to u@h"),
        ({"type": "setname"}, "*** alice changed realname to: hi there"),
        ({"type": "away"}, "*** alice is away (hi there)"),
        ({"type": "back", "text": None}, "*** alice is back"),
        ({"type": "gap", "nick": None}, "*** gap: hi there"),
    ],
)
def test_one_line_per_record(fields: dict[str, object], shown: str) -> None:
    r = record(T, "hi there") | fields
    assert record_line(r) == f"net #chan 2026-12-06 14:03:07 {shown}"


def test_every_type_has_a_line() -> None:
    for kind in TYPES:
        line = record_line(record(T, "x", type=kind, target="y"))
        assert line.startswith("net #chan 2026-12-06 14:03:07 ")


def test_hostile_text_never_reaches_the_terminal_raw() -> None:
    r = record(T, HOSTILE, nick="evil\x1b[31m", channel="#c\x1b]0;x\x07")
    for color in (False, True):
        line = record_line(r, color=color, matcher=Matcher(Query(words="evil red")))
        assert "\x1b[31m" not in line and "\x1b[2J" not in line  # theirs, not ours
        plain = re.sub("\x1b\\[[0-9;]*m", "", line)
        assert not ESCAPES.search(plain)  # the only escape sequences are our colours
        assert "\\x1b]0;owned\\x07" in plain
        assert "\\u202eevil" in plain
        assert "red" in plain and "\\x03" not in plain and "04,12" not in plain  # mIRC out
    assert visible("plain text, ünïcode 😀") == "plain text, ünïcode 😀"
    assert visible("lone \ud800 surrogate") == "lone \\ud800 surrogate"


def test_colours_highlight_the_words_and_the_nick() -> None:
    line = record_line(record(T, "a Café here"), color=True, matcher=Matcher(Query(words="cafe")))
    assert "\x1b[1;31mCafé\x1b[0m" in line
    assert re.search("\x1b\\[9?[2-5]malice\x1b\\[0m", line)
    nick = re.compile("\x1b\\[9?[2-5]malice")
    assert nick.findall(record_line(record(T, "other"), color=True)) == nick.findall(line)
    assert "\x1b" not in record_line(record(T, "a Café"), matcher=Matcher(Query(words="cafe")))


def test_context_lines_are_indented_and_dimmed_around_the_hit() -> None:
    lines = [Line(n, record(f"2026-12-06T14:03:0{n}", f"line {n}")) for n in (1, 2, 3)]
    shown = hit_lines(hit(lines[1].record, 2, tuple(lines)))
    assert shown == [
        "  net #chan 2026-12-06 14:03:01 <alice> line 1",
        "net #chan 2026-12-06 14:03:02 <alice> line 2",
        "  net #chan 2026-12-06 14:03:03 <alice> line 3",
    ]
    coloured = hit_lines(hit(lines[1].record, 2, tuple(lines)), color=True)
    assert coloured[0].startswith("  \x1b[2m") and not coloured[1].startswith("\x1b[2m")
    # an index that gives the context without the hit itself: the hit goes in its place
    assert hit_lines(hit(lines[1].record, 2, (lines[0], lines[2]))) == shown


def test_json_is_the_record_with_day_seq_and_context() -> None:
    r = record(T, HOSTILE)
    around = (Line(1, record(T, "before")), Line(2, r))
    text = hit_json(hit(r, 2, around), context=True)
    assert "\n" not in text and "\x9b" not in text and "\u202e" not in text and "\x1b" not in text
    obj = json.loads(text)
    assert obj["text"] == HOSTILE  # escaped, not changed
    assert (obj["day"], obj["seq"]) == ("2026-12-06", 2)
    assert [(c["seq"], c["text"]) for c in obj["context"]] == [(1, "before"), (2, HOSTILE)]
    assert "context" not in json.loads(hit_json(hit(r, 2, around)))


# -- the progress bar ------------------------------------------------------------------------


def test_progress_text() -> None:
    assert progress_text(0, 4, 0, 2048) == "[" + "." * 24 + "] 0/4 files, 0 B/2.0 KiB"
    half = "[" + "#" * 12 + "." * 12 + "]"
    assert progress_text(2, 4, 1024, 2048) == f"{half} 2/4 files, 1.0 KiB/2.0 KiB"
    assert progress_text(0, 0, 0, 0).startswith("[" + "#" * 24 + "]")


def test_the_bar_is_drawn_only_on_a_terminal_and_erased_at_the_end() -> None:
    clock = task.Clock()
    out = io.StringIO()
    bar = ProgressBar(out, tty=False, clock=clock.seconds)
    bar(1, 2, 10, 20)
    bar.close()
    assert out.getvalue() == ""

    bar = ProgressBar(out, tty=True, clock=clock.seconds)
    bar(0, 2, 0, 20)
    bar(1, 2, 10, 20)  # too soon: not redrawn
    clock.advance(REDRAW_SECONDS)
    bar(1, 2, 10, 20)
    bar(2, 2, 20, 20)  # the end is always drawn
    bar.close()
    draws = out.getvalue().split("\r\x1b[K")
    assert draws == ["", progress_text(0, 2, 0, 20), progress_text(1, 2, 10, 20),
                     progress_text(2, 2, 20, 20), ""]  # fmt: skip
