"""A huge reply costs what the reply limits need, not what the plugin returned (issue 15,
item 11).

A 10 MB one-line reply was split whole (and the split took time in the square of the
length: 10 s on this machine, the bot stalled) only to count the lines not shown.  Now
``reply_lines`` reads at most ``MAX_COUNTED_LINES`` lines (and as many times
``max_line_bytes`` characters); past that the count says "N+".  The time is measured by
bench/bench_send_queue.py, not here.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from logbot.plugins import replies
from logbot.plugins.replies import MAX_COUNTED_LINES, reply_lines


@pytest.fixture
def split_sizes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The length of every text ``reply_lines`` hands to ``split_text``."""
    sizes: list[int] = []
    real = replies.split_text

    def recording(text: str, max_bytes: int, *args: Any) -> list[str]:
        sizes.append(len(text))
        return real(text, max_bytes, *args)

    monkeypatch.setattr(replies, "split_text", recording)
    return sizes


def test_a_10_mb_reply_is_read_only_as_far_as_the_limits_need(split_sizes: list[int]) -> None:
    text = " ".join(str(i) for i in range(1_410_000))  # 10 MB of words, one line
    lines = reply_lines(text, max_lines=5, max_line_bytes=400)
    assert len(lines) == 5 and lines[0].startswith("0 1 2 3 ")
    assert lines[-1] == f"({MAX_COUNTED_LINES - 4}+ more lines not shown)"
    assert sum(split_sizes) <= MAX_COUNTED_LINES * 400  # was 10,000,000 characters


def test_a_reply_of_a_million_lines_is_not_read_to_the_end() -> None:
    taken = 0

    def endless() -> Iterator[str]:
        nonlocal taken
        for i in range(1_000_000):
            taken += 1
            yield f"line {i}"

    lines = reply_lines(endless(), max_lines=3, max_line_bytes=400)
    assert lines == ["line 0", "line 1", f"({MAX_COUNTED_LINES - 2}+ more lines not shown)"]
    assert taken <= MAX_COUNTED_LINES + 1  # was 1,000,000 (the list was copied whole)


def test_replies_up_to_the_counted_lines_keep_their_exact_count() -> None:
    text = "\n".join(f"line {i}" for i in range(MAX_COUNTED_LINES))
    assert reply_lines(text, max_lines=5, max_line_bytes=400)[-1] == (
        f"({MAX_COUNTED_LINES - 4} more lines not shown)"
    )
    long_line = "x" * (400 * 10)  # 10 pieces
    assert reply_lines(long_line, max_lines=5, max_line_bytes=400)[-1] == (
        "(6 more lines not shown)"
    )
    assert reply_lines(["a", "b"], max_lines=5, max_line_bytes=400) == ["a", "b"]


def test_a_reply_cut_before_any_line_still_says_so() -> None:
    blank = "a" + " " * (MAX_COUNTED_LINES * 400) + "b"  # the b is past what is read
    assert reply_lines(blank, max_lines=5, max_line_bytes=400) == ["a", "(more lines not shown)"]
    assert reply_lines(blank, max_lines=1, max_line_bytes=400) == ["a"]
