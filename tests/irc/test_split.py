from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from logbot.irc.message import parse
from logbot.irc.split import join_lines, prefix_length, split_message, split_text


def test_prefix_length_known_and_assumed() -> None:
    assert prefix_length("bot", "u", "h.net") == len(":bot!u@h.net ")
    assert prefix_length("bot") == len(":bot!") + 10 + len("@") + 63 + len(" ")


def test_short_text_is_one_piece() -> None:
    assert split_text("hello world", 100) == ["hello world"]


def test_prefers_word_boundary() -> None:
    assert split_text("aaa bbb ccc", 8) == ["aaa bbb", "ccc"]


def test_hard_split_of_long_word_on_char_boundary() -> None:
    pieces = split_text("é" * 10, 5)  # 2 bytes each: 2 per piece
    assert pieces == ["éé"] * 5


@pytest.mark.parametrize("text", ["a\r\nb", "a\rb", "a\nb", "a\n\n\nb"])
def test_line_breaks_start_new_messages(text: str) -> None:
    assert split_text(text, 100) == ["a", "b"]


def test_nul_removed_and_empty_dropped() -> None:
    assert split_text("a\0b", 100) == ["ab"]
    assert split_text("\n\r\n", 100) == []


def test_budget_too_small_for_a_character() -> None:
    with pytest.raises(ValueError):
        split_text("€", 2)


@given(
    st.text(st.characters(blacklist_categories=("Cs",))),
    st.integers(min_value=4, max_value=60),
)
def test_split_text_properties(text: str, limit: int) -> None:
    pieces = split_text(text, limit)
    for piece in pieces:
        assert 0 < len(piece.encode()) <= limit
        assert not {"\r", "\n", "\0"} & set(piece)
    # Nothing but dropped separators is lost.
    kept = "".join(pieces).replace(" ", "")
    assert kept == "".join(c for c in text if c not in " \r\n\0")


@given(st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=3000))
def test_relayed_lines_fit_512_and_form_one_command_each(text: str) -> None:
    prefix = ":" + "n" * 9 + "!" + "u" * 10 + "@" + "h" * 63 + " "
    lines = split_message("PRIVMSG", "#chan", text, prefix_len=len(prefix))
    for line in lines:
        assert len((prefix + line).encode()) + 2 <= 512
        msg = parse(line)
        assert msg.command == "PRIVMSG" and msg.params[0] == "#chan"


def test_action_wrap_counts_in_budget() -> None:
    lines = split_message("PRIVMSG", "#c", "x " * 400, prefix_len=100, wrap=("\x01ACTION ", "\x01"))
    assert len(lines) > 1
    for line in lines:
        assert line.startswith("PRIVMSG #c :\x01ACTION ") and line.endswith("\x01")
        assert len(line.encode()) + 100 + 2 <= 512


def test_split_text_stops_after_max_pieces() -> None:
    # A caller that keeps a few lines (a plugin reply) does not split the rest: the
    # whole of a 10 MB reply was split, in time growing with the square of its length.
    assert split_text("aaa bbb ccc\nddd", 3, max_pieces=2) == ["aaa", "bbb"]
    assert split_text("aaa\nbbb\nccc", 100, max_pieces=2) == ["aaa", "bbb"]
    assert split_text("aaa bbb", 3, max_pieces=5) == ["aaa", "bbb"]
    assert len(split_text("word " * 2_000_000, 400, max_pieces=3)) == 3


def _sliced_split(text: str, max_bytes: int) -> list[str]:
    """The split before it walked an offset (it sliced off the rest after each piece)."""
    pieces: list[str] = []
    for line in re.split("\r\n|\r|\n", text.replace("\0", "")):
        data = line.encode("utf-8")
        while len(data) > max_bytes:
            cut = max_bytes
            while cut > 0 and data[cut] & 0xC0 == 0x80:
                cut -= 1
            space = data.rfind(b" ", 0, cut + 1)
            head, data = (
                (data[:space], data[space + 1 :]) if space > 0 else (data[:cut], data[cut:])
            )
            pieces.append(head.decode("utf-8"))
        if data:
            pieces.append(data.decode("utf-8"))
    return [piece for piece in pieces if piece]


@given(
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=400)
    | st.lists(st.sampled_from(["ab", " ", "é", "€", "\n", "xyz "])).map("".join),
    st.integers(min_value=4, max_value=40),
)
def test_split_text_cuts_where_it_did(text: str, limit: int) -> None:
    assert split_text(text, limit) == _sliced_split(text, limit)


def test_join_lines_batches_and_keys_first() -> None:
    assert join_lines(["#a", ("#b", "kb"), "#c"]) == ["JOIN #b,#a,#c kb"]


def test_join_lines_respects_512_and_targmax() -> None:
    channels = [f"#channel{i:03d}" for i in range(200)]
    lines = join_lines(channels)
    assert len(lines) > 1
    assert all(len(line) + 2 <= 512 for line in lines)
    assert [c for line in lines for c in line[5:].split(",")] == channels
    assert len(join_lines(channels[:10], max_targets=4)) == 3
