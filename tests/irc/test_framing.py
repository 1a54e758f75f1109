from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from logbot.irc.framing import LineDecoder, decode_line, encode_line


def test_crlf_and_lf_and_tail() -> None:
    decoder = LineDecoder()
    assert decoder.feed(b"PING a\r\nPING b\nPING") == ["PING a", "PING b"]
    assert decoder.buffered == 4
    assert decoder.feed(b" c\r") == []
    assert decoder.feed(b"\n") == ["PING c"]
    assert decoder.buffered == 0


def test_byte_by_byte_gives_same_lines() -> None:
    data = "@a=b :n!u@h PRIVMSG #c :héllo\r\nPING x\n".encode()
    decoder = LineDecoder()
    lines = [line for byte in data for line in decoder.feed(bytes([byte]))]
    assert lines == ["@a=b :n!u@h PRIVMSG #c :héllo", "PING x"]


def test_stray_cr_and_nul_are_removed() -> None:
    assert LineDecoder().feed(b"PRIVMSG #c :a\rb\0c\r\n") == ["PRIVMSG #c :abc"]


def test_empty_lines_are_skipped() -> None:
    assert LineDecoder().feed(b"\r\n\n  \r\nPING\r\n") == ["PING"]


def test_decoding_fallbacks_per_line() -> None:
    decoder = LineDecoder()
    data = "a é\n".encode() + b"b \x93q\x94\n" + b"c \x81\n"
    assert decoder.feed(data) == ["a é", "b \u201cq\u201d", "c \x81"]
    assert decode_line(b"\xff\xfe") == "ÿþ"


def test_body_limit() -> None:
    decoder = LineDecoder()
    ok = b"P" * 512
    assert decoder.feed(ok + b"\r\n") == [ok.decode()]
    assert decoder.feed(b"P" * 513 + b"\r\nPING\r\n") == ["PING"]
    assert decoder.dropped_lines == 1


def test_tag_limit_is_separate() -> None:
    decoder = LineDecoder()
    tags = b"@" + b"a" * 8189 + b" "  # 8191 bytes of tags
    body = b"P" * 512
    assert decoder.feed(tags + body + b"\n") == [(tags + body).decode()]
    assert decoder.feed(b"@" + b"a" * 8190 + b" PING\n") == []
    assert decoder.dropped_lines == 1


def test_unterminated_flood_is_bounded_and_discarded_to_next_newline() -> None:
    decoder = LineDecoder()
    for _ in range(100):
        assert decoder.feed(b"x" * 1000) == []
        assert decoder.buffered <= decoder.max_line_bytes + 1
    assert decoder.dropped_lines == 1
    assert decoder.feed(b"tail of the long line\r\nPING ok\r\n") == ["PING ok"]
    assert decoder.dropped_lines == 1


@given(st.lists(st.binary(max_size=3000), max_size=20))
def test_random_bytes_never_raise_and_stay_bounded(chunks: list[bytes]) -> None:
    decoder = LineDecoder(max_body_bytes=100, max_tag_bytes=100)
    for chunk in chunks:
        for line in decoder.feed(chunk):
            assert "\r" not in line and "\n" not in line and "\0" not in line
        assert decoder.buffered <= decoder.max_line_bytes + 1


def test_encode_line() -> None:
    assert encode_line("PRIVMSG #c :é") == "PRIVMSG #c :é".encode() + b"\r\n"
    for bad in ("a\rb", "a\nb", "a\0b"):
        with pytest.raises(ValueError):
            encode_line(bad)


class _ReferenceDecoder(LineDecoder):
    """The decoder's definition, one line at a time (what ``feed``'s fast path,
    which splits and decodes a whole chunk at once, must agree with)."""

    def feed(self, data: bytes) -> list[str]:
        lines: list[str] = []
        start = 0
        while True:
            end = data.find(b"\n", start)
            if end < 0:
                break
            chunk = data[start:end]
            start = end + 1
            if self._discarding:
                self._discarding = False
                self._buffer.clear()
                continue
            self._buffer += chunk
            raw = bytes(self._buffer)
            self._buffer.clear()
            line = self._accept(raw)
            if line is not None:
                lines.append(line)
        self._keep_tail(data[start:])
        return lines


_CLEAN = [
    b"PRIVMSG #c :hi",
    b":n!u@h PRIVMSG #c :x y",
    b"\r\n",
    b"\xc3\xa9",
    b"\xe2\x9c\x93",
    b"@a=b ",
    b"P" * 40,
]
_DIRTY = [
    b"\n",
    b"\r",
    b"\0",
    b"\x0b\x0c\x1c\x1d\x1e",
    b"\xc2\x85\xe2\x80\xa8",
    b" ",
    b"  ",
    b"\r\n \r\n",
    b"\r\n  PING",
    b"\x93",
    b"\xff",
    b"x" * 90,
]
# Mostly clean data (the fast path), with now and then one byte sequence that is not.
_DATA = st.lists(st.sampled_from(_CLEAN), max_size=40).flatmap(
    lambda clean: st.lists(
        st.tuples(st.integers(0, len(clean)), st.sampled_from(_DIRTY)), max_size=2
    ).map(lambda dirty: _insert(clean, dirty))
)


def _insert(clean: list[bytes], dirty: list[tuple[int, bytes]]) -> bytes:
    pieces = list(clean)
    for at, piece in dirty:
        pieces.insert(at, piece)
    return b"".join(pieces)


@settings(max_examples=400)
@given(
    _DATA,
    st.lists(st.integers(1, 400), max_size=8),
    st.sampled_from([(100, 100), (60, 200), (512, 8191)]),
)
def test_fast_path_agrees_with_line_by_line(
    data: bytes, cuts: list[int], limits: tuple[int, int]
) -> None:
    fast, slow = LineDecoder(*limits), _ReferenceDecoder(*limits)
    got: list[str] = []
    want: list[str] = []
    at = 0
    for size in [*cuts, len(data)]:
        chunk, at = data[at : at + size], at + size
        got += fast.feed(chunk)
        want += slow.feed(chunk)
    assert got == want
    assert fast.dropped_lines == slow.dropped_lines
    assert fast.buffered == slow.buffered


def test_fast_path_chunk_of_utf8_and_ascii_lines() -> None:
    lines = [f":n{i}!u@h PRIVMSG #c :{i} {'é' if i % 3 else 'e'}" for i in range(50)]
    for ending in ("\r\n", "\n"):
        data = "".join(line + ending for line in lines).encode()
        decoder = LineDecoder()
        assert decoder.feed(data[:700]) + decoder.feed(data[700:]) == lines
    ascii_lines = [f"PING {i}" for i in range(20)]
    assert LineDecoder().feed("".join(f"{x}\r\n" for x in ascii_lines).encode()) == ascii_lines
