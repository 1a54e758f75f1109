from __future__ import annotations

import pytest
from hypothesis import given
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
