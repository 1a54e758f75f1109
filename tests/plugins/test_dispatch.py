"""Recognising commands and making replies safe: pure functions, with hypothesis."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from logbot.irc.casemap import MAPPINGS
from logbot.plugins.dispatch import Invocation, parse_command
from logbot.plugins.replies import LoopGuard, ReplyError, TokenBuckets, reply_lines


def parse(text: str, private: bool = False, prefix: str = "!"):  # type: ignore[no-untyped-def]
    return parse_command(text, prefix=prefix, nick="Log[bot]", private=private)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("!seen bob", Invocation("seen", "bob", ("bob",), "prefix")),
        ("!SEEN  bob  carol ", Invocation("seen", "bob  carol", ("bob", "carol"), "prefix")),
        ("log[bot]: seen bob", Invocation("seen", "bob", ("bob",), "address")),
        ("LOG[BOT], hello", Invocation("hello", "", (), "address")),
        ("Log[bot]:hello", Invocation("hello", "", (), "address")),
        ("Log[bot]: !last 3", Invocation("last", "3", ("3",), "address")),
        ("!", None),
        ("!!", None),
        ("! seen", None),
        ("seen bob", None),
        ("Log[bot] hello", None),
        ("Log[bot]:", None),
        ("Log[bots]: hello", None),
        ("!s\u00e9en", None),
        ("!-x", None),
    ],
)
def test_commands_in_channels(text: str, expected: Invocation | None) -> None:
    assert parse(text) == expected


def test_private_messages_need_no_prefix() -> None:
    assert parse("seen bob", private=True) == Invocation("seen", "bob", ("bob",), "private")
    assert parse("!seen bob", private=True).how == "prefix"
    assert parse("  hello", private=True).name == "hello"
    assert parse("", private=True) is None


def test_the_nick_is_compared_with_the_servers_casemapping() -> None:
    rfc = MAPPINGS["rfc1459"]

    def fold(s: str) -> str:
        return s.translate(rfc)

    assert (
        parse_command("log{bot}: hi", prefix="!", nick="Log[bot]", private=False, fold=fold)
        is not None
    )
    assert parse_command("log{bot}: hi", prefix="!", nick="Log[bot]", private=False) is None


@given(st.text(), st.booleans(), st.text(min_size=1, max_size=3))
def test_parse_never_raises_and_names_are_words(text: str, private: bool, prefix: str) -> None:
    found = parse(text, private, prefix)
    if found is not None:
        assert found.name == found.name.lower() and " " not in found.name
        assert found.args == tuple(found.argtext.split())


# -- replies ---------------------------------------------------------------------------


def test_reply_types() -> None:
    assert reply_lines(None, max_lines=5, max_line_bytes=400) == []
    assert reply_lines("", max_lines=5, max_line_bytes=400) == []
    assert reply_lines(("a", "b"), max_lines=5, max_line_bytes=400) == ["a", "b"]
    for bad in (42, b"bytes", ["ok", 3], {"a": 1}.items()):
        with pytest.raises(ReplyError):
            reply_lines(bad, max_lines=5, max_line_bytes=400)


def test_formatting_stays_and_other_controls_go() -> None:
    text = "\x02bold\x02 \x0304red\x03 \x1ditalic\x1d\x01\x07\x1b[31m\tx\x7f"
    assert reply_lines(text, max_lines=5, max_line_bytes=400) == [
        "\x02bold\x02 \x0304red\x03 \x1ditalic\x1d[31m x"
    ]


@given(st.lists(st.text(), max_size=8) | st.text(), st.integers(1, 10), st.integers(10, 450))
def test_no_reply_line_breaks_the_wire(reply, max_lines: int, max_bytes: int) -> None:  # type: ignore[no-untyped-def]
    lines = reply_lines(reply, max_lines=max_lines, max_line_bytes=max_bytes)
    assert len(lines) <= max_lines
    for line in lines:
        assert not set(line) & {"\r", "\n", "\0", "\x01"}
        assert line and line == line.rstrip()
        assert len(line.encode()) <= max_bytes or line.endswith("more lines not shown)")


def test_token_buckets() -> None:
    buckets = TokenBuckets(burst=2, per=10.0)
    assert [buckets.allow("a", 0.0) for _ in range(3)] == [True, True, False]
    assert buckets.allow("b", 0.0)
    assert not buckets.allow("a", 9.0)
    assert buckets.allow("a", 10.1)
    assert not buckets.allow("a", 10.2)
    assert buckets.allow("a", 40.0) and buckets.allow("a", 40.0) and not buckets.allow("a", 40.0)


def test_token_buckets_stay_bounded() -> None:
    buckets = TokenBuckets(burst=1, per=1.0, max_keys=100)
    for n in range(1000):
        assert buckets.allow(n, n * 0.001)
    assert len(buckets._buckets) <= 100


def test_loop_guard() -> None:
    guard = LoopGuard(repeats=2, window=30.0)
    assert guard.allow("#a", "x", 0) and guard.allow("#a", "x", 1)
    assert not guard.allow("#a", "x", 2)
    assert guard.allow("#b", "x", 2) and guard.allow("#a", "y", 2)
    assert guard.allow("#a", "x", 30.5)
    small = LoopGuard(repeats=1, window=1.0, max_keys=10)
    for n in range(100):
        small.allow("#a", str(n), float(n))
    assert len(small._sent) <= 10
