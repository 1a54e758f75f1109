from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from logbot.irc.message import (
    Message,
    ParseError,
    escape_tag_value,
    format,
    mask_match,
    parse,
    split_userhost,
    unescape_tag_value,
)

# -- strategies for messages that format() accepts ---------------------------

_text = st.text(st.characters(blacklist_characters="\r\n\0", blacklist_categories=("Cs",)))
_word = _text.filter(lambda s: s and " " not in s and not s.startswith(":"))
_tag_key = st.from_regex(r"\+?([a-z0-9.-]{1,8}/)?[A-Za-z0-9-]{1,10}", fullmatch=True)
_tag_value = st.none() | st.text(
    st.characters(blacklist_characters="\0", blacklist_categories=("Cs",))
)
_command = st.from_regex(r"[A-Za-z]{1,12}|[0-9]{3}", fullmatch=True)
_source = _word.filter(lambda s: "\r" not in s)

messages = st.builds(
    Message,
    command=_command,
    params=st.tuples(st.lists(_word, max_size=5), st.lists(_text, max_size=1)).map(
        lambda parts: tuple(parts[0] + parts[1])
    ),
    source=st.none() | _source,
    tags=st.dictionaries(_tag_key, _tag_value, max_size=4),
)


@given(messages)
def test_parse_format_round_trip(msg: Message) -> None:
    assert parse(format(msg)) == msg


@given(st.text())
def test_parse_random_text_raises_only_parse_error(line: str) -> None:
    try:
        parse(line)
    except ParseError:
        pass


@given(_tag_value.filter(lambda v: v is not None))
def test_tag_escape_round_trip(value: str) -> None:
    assert unescape_tag_value(escape_tag_value(value)) == value
    assert not {" ", ";", "\r", "\n"} & set(escape_tag_value(value))


def test_parse_basic_fields() -> None:
    msg = parse("@time=2020-01-01T00:00:00.000Z;+x :nick!u@h privmsg #c :hello world")
    assert msg.tags == {"time": "2020-01-01T00:00:00.000Z", "+x": None}
    assert msg.source == "nick!u@h"
    assert msg.command == "PRIVMSG"
    assert msg.params == ("#c", "hello world")
    assert msg.nick == "nick"


def test_empty_and_missing_tag_values_are_equal() -> None:
    assert parse("@a= FOO") == parse("@a FOO") == Message("FOO", tags={"a": ""})


@pytest.mark.parametrize("line", ["", "   ", "@a=b", "@a=b ", ":src", ":src  ", ": FOO"])
def test_parse_errors(line: str) -> None:
    with pytest.raises(ParseError):
        parse(line)


def test_params_list_is_normalised_to_tuple() -> None:
    assert Message("ping", ["a"]) == Message("PING", ("a",))


@pytest.mark.parametrize(
    "msg",
    [
        Message("PRIVMSG", ("a b", "x")),
        Message("PRIVMSG", ("", "x")),
        Message("PRIVMSG", (":a", "x")),
        Message("PRIVMSG", ("#c", "x\r\nQUIT")),
        Message("PRIVMSG", ("#c", "x\0")),
        Message("PRIV MSG"),
        Message("12"),
        Message("PING", source="a b"),
        Message("PING", source=""),
        Message("PING", tags={"bad key": "x"}),
        Message("PING", tags={"k": "a\0"}),
    ],
)
def test_format_refuses_what_would_not_round_trip(msg: Message) -> None:
    with pytest.raises(ValueError):
        format(msg)


def test_format_trailing_only_when_needed() -> None:
    assert format(Message("PRIVMSG", ("#c", "hi"))) == "PRIVMSG #c hi"
    assert format(Message("PRIVMSG", ("#c", "hi there"))) == "PRIVMSG #c :hi there"
    assert format(Message("AWAY", ("",))) == "AWAY :"


def test_split_userhost() -> None:
    assert split_userhost("n!u@h") == ("n", "u", "h")
    assert split_userhost("irc.server.net") == ("irc.server.net", None, None)


@pytest.mark.parametrize(
    ("mask", "name", "mapping", "expected"),
    [
        ("*", "", "ascii", True),
        ("a*b*c", "aXXbYYc", "ascii", True),
        ("a*b*c", "aXXbYY", "ascii", False),
        ("NICK[1]!*@*", "nick{1}!u@h", "rfc1459", True),
        ("NICK[1]!*@*", "nick{1}!u@h", "ascii", False),
        ("a~", "A^", "rfc1459-strict", False),
        ("a?", "a", "ascii", False),
        ("*" * 50 + "b", "a" * 5000, "ascii", False),
    ],
)
def test_mask_match(mask: str, name: str, mapping: str, expected: bool) -> None:
    assert mask_match(mask, name, mapping) is expected


# -- the parser's fast paths agree with the general one ----------------------------------

_LINE_ALPHABET = st.sampled_from(
    [
        " ",
        " ",
        " ",
        ":",
        "@",
        "!",
        "#",
        "a",
        "B",
        "1",
        "\x01",
        "é",
        "=",
        ";",
        "\t",
        "ß",
        "PRIVMSG",
        "privmsg",
        "001",
        ":src",
    ]
)


@settings(max_examples=500)
@given(st.lists(_LINE_ALPHABET, max_size=14).map("".join))
def test_fast_parse_paths_agree_with_the_general_parser(line: str) -> None:
    from logbot.irc.message import _parse

    try:
        want = _parse(line)
    except ParseError:
        with pytest.raises(ParseError):
            parse(line)
        return
    got = parse(line)
    assert got == want
    assert type(got.params) is tuple and dict(got.tags) == dict(want.tags)


def test_parse_shares_one_read_only_empty_tag_mapping() -> None:
    from logbot.irc.message import NO_TAGS

    msg = parse(":a!b@c PRIVMSG #c :hi")
    assert (
        msg.tags is NO_TAGS and msg.tags == {} and msg == Message("PRIVMSG", ("#c", "hi"), "a!b@c")
    )
    with pytest.raises(TypeError):
        msg.tags["x"] = "y"  # type: ignore[index]
    assert parse("privmsg #c :ß").command == "PRIVMSG"  # ASCII-only upper-casing
    assert parse("aß x").command == "Aß"


def test_source_parts_split_once_and_stay_bounded() -> None:
    from logbot.irc.message import SourceParts

    parts = SourceParts(limit=3)
    for source, want in [
        ("alice!~a@a.host", ("alice", "~a", "a.host")),
        ("irc.example", ("irc.example", "", "")),
        ("!u@h", ("", "u", "h")),
        ("bob@h", ("bob", "", "h")),
    ]:
        assert parts[source] == want
        head = split_userhost(source)
        assert (head.nick or "", head.user or "", head.host or "") == want
        assert len(parts) <= 3
