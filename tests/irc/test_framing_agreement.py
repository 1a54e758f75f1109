"""Issue 14 (A): the chunk-at-once fast path and the byte-by-byte path of
:class:`~logbot.irc.framing.LineDecoder` must give the same lines for every input and
for every way the input is cut into reads.

Why a second agreement test next to the one in ``test_framing.py``: that one feeds
mostly clean data with now and then one odd byte, which never met the case that made
a bare CR (followed, later in the chunk, by an empty line) start a second command.
Here the data is made of little else than CR, LF, NUL, spaces and colons, and the
limits are small, so that every length edge is reached in a few bytes.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from logbot.irc import events as ev
from logbot.irc.core import IRCConnection
from logbot.irc.flood import FloodControl
from logbot.irc.framing import LineDecoder

# -- the regressions, by hand ------------------------------------------------------------

KICK_IN_A_MESSAGE = b"PING 0\r\nPRIVMSG #x :hi\r:a!b@c KICK #x bot :gone\n\n"


def test_stray_cr_before_an_empty_line_does_not_start_a_second_command() -> None:
    """The issue's example: the CR is stray (no LF after it), so it is removed and the
    KICK stays text of the PRIVMSG, in one read as in one read per byte."""
    want = ["PING 0", "PRIVMSG #x :hi:a!b@c KICK #x bot :gone"]
    assert LineDecoder().feed(KICK_IN_A_MESSAGE) == want
    decoder = LineDecoder()
    assert [line for b in KICK_IN_A_MESSAGE for line in decoder.feed(bytes([b]))] == want


def test_stray_cr_is_removed_wherever_the_chunk_ends() -> None:
    """The same stray CR with none to three empty lines after it, at the end of the
    read or before another line: the fast path's test (one piece per LF) was fooled
    when an empty line ended the read, whose missing piece made up for the extra one
    at the CR."""
    for empties in range(4):
        for after in (b"", b"D\n"):
            data = b"A\nB\rC\n" + b"\n" * empties + after
            want = ["A", "BC", "D"] if after else ["A", "BC"]
            assert LineDecoder().feed(data) == want, data


def test_stray_cr_cannot_make_the_bot_see_a_kick() -> None:
    """End to end: the bot is in #x and a user's message holds ``\\r:... KICK``; the
    connection must report a message, not a kick of the bot."""
    conn = IRCConnection("bot", flood=FloodControl(enabled=False))
    conn.connection_made(0.0)
    conn.data_to_send(0.0)
    conn.receive_data(b":srv 001 bot :Welcome\r\n:bot!b@h JOIN #x\r\n", 1.0)
    events = conn.receive_data(b"PING 1\r\n:u!u@h " + KICK_IN_A_MESSAGE[8:], 2.0)
    assert not any(isinstance(e, ev.Kicked) for e in events)
    [message] = [e for e in events if isinstance(e, ev.Privmsg)]
    assert message.text == "hi:a!b@c KICK #x bot :gone"
    assert conn.state.channel("#x") is not None


def test_nul_padding_counts_toward_the_length_in_one_read_and_in_many() -> None:
    """9,000 NULs before ``PING x``: the line is 9,006 bytes on the wire, longer than
    any valid line.  The tail check (a read that ends inside the line) dropped it,
    the per-line check (the whole line in one read) counted its bytes after removing
    the NULs and kept it: how the bytes were cut decided."""
    data = b"\0" * 9000 + b"PING x\n" + b"PING y\n"
    whole = LineDecoder()
    assert whole.feed(data) == ["PING y"]
    assert whole.dropped_lines == 1
    cut = LineDecoder()
    assert cut.feed(data[:9000]) + cut.feed(data[9000:]) == ["PING y"]
    assert cut.dropped_lines == 1


def test_stray_cr_counts_toward_the_length() -> None:
    decoder = LineDecoder(max_body_bytes=4, max_tag_bytes=8)
    assert decoder.feed(b"ab\rc\r\nab\r\rc\r\n") == ["abc"]
    assert decoder.dropped_lines == 1


# -- every input, every cut ------------------------------------------------------------------

# Streams of three shapes.  Loose bytes: mostly CR and LF, with token separators, the
# start of tags, letters, NUL, runs of CR or NUL (long in bytes, short once removed),
# bytes that are not UTF-8 (the slow decoding) and runs long enough to pass the small
# limits below.  Short clean lines (CRLF, LF, empty lines) with one or two odd pieces
# put in at any byte, a CR more often than not: the fast path runs only on a chunk
# that looks clean, which loose bytes seldom are, and a single stray CR among clean
# lines is what fooled it.  And arbitrary bytes.
_ODD = [b"\r", b"\n", b"\r\n", b"\0", b"\xff", b" ", b":", b"@", b"x" * 7]
_LOOSE = st.lists(
    st.sampled_from([*_ODD, b"\r", b"\n", b"\r", b"a", b"@t=1 ", b"\r" * 9, b"\0" * 9]),
    max_size=60,
).map(b"".join)
_CLEAN_LINE = st.tuples(
    st.lists(st.sampled_from([b"a", b" ", b":", b"@t ", b"\xc3\xa9"]), max_size=3).map(b"".join),
    st.sampled_from([b"\r\n", b"\n", b"\n\n", b"\r\n\r\n", b"\r\n\n"]),
).map(b"".join)


@st.composite
def _clean_with_odd_pieces(draw: st.DrawFn) -> bytes:
    """Clean lines with odd pieces put in after the first (a read's first line is
    completed by the tail path, not by the fast one)."""
    first, *rest = draw(st.lists(_CLEAN_LINE, min_size=2, max_size=8))
    data = b"".join(rest)
    for _ in range(draw(st.integers(1, 2))):
        at = draw(st.integers(0, len(data)))
        piece = draw(st.one_of(st.just(b"\r"), st.sampled_from(_ODD)))
        data = data[:at] + piece + data[at:]
    return first + data


_STREAMS = st.one_of(_LOOSE, _clean_with_odd_pieces(), st.binary(max_size=80))
# (max_body_bytes, max_tag_bytes): tiny (every length edge within a few bytes), uneven,
# and the real ones.
_LIMITS = st.sampled_from([(4, 8), (8, 4), (16, 16), (512, 8191)])


def _cuts(draw: st.DrawFn, data: bytes) -> list[bytes]:
    """``data`` cut into reads at arbitrary places (empty reads included)."""
    points = sorted(draw(st.lists(st.integers(0, len(data)), max_size=12)))
    bounds = [0, *points, len(data)]
    return [data[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]


def _run(decoder: LineDecoder, reads: list[bytes]) -> list[str]:
    lines: list[str] = []
    for read in reads:
        lines += decoder.feed(read)
        assert decoder.buffered <= decoder.max_line_bytes + 1
    return lines


@settings(max_examples=1000, deadline=None)
@given(_STREAMS, _LIMITS, st.data())
def test_whole_bytewise_and_any_cut_agree(
    data: bytes, limits: tuple[int, int], draw: st.DataObject
) -> None:
    """One read, one read per byte and arbitrary reads: the same lines, the same number
    of dropped lines, the same tail held back; and no line holds CR, LF or NUL or is
    blank."""
    bytewise = LineDecoder(*limits)
    want = _run(bytewise, [bytes([b]) for b in data])  # only _accept and the tail check
    whole = LineDecoder(*limits)
    assert _run(whole, [data]) == want
    cut = LineDecoder(*limits)
    assert _run(cut, _cuts(draw.draw, data)) == want
    assert whole.dropped_lines == cut.dropped_lines == bytewise.dropped_lines
    assert whole.buffered == cut.buffered == bytewise.buffered
    for line in want:
        assert not any(c in line for c in "\r\n\0")
        assert line.strip(" ")
