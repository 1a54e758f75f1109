"""The matcher: a Query as a test of one jsonl record.

Its words must find what the index finds, so they are checked against SQLite's FTS5
itself (``unicode61 remove_diacritics 2``, the index's tokenizer) on generated text,
besides the plain examples."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from logbot.archive.model import Query
from logbot.archive.search.match import Matcher, Term, parse_words, words_of

from .conftest import record


def matches(text: str | None, **query: object) -> bool:
    return Matcher(Query(**query))(record("2026-12-06T14:03:07", text))  # type: ignore[arg-type]


# -- words -----------------------------------------------------------------------------


def test_words_are_whole_and_ignore_case_and_accents() -> None:
    assert matches("Hello, World!", words="hello world")
    assert matches("Un Café crème", words="cafe CREME")
    assert matches("cafe\u0301 au lait", words="café")  # decomposed accent: one word
    assert not matches("hello world", words="hell")  # whole words only
    assert not matches("thinking", words="ink")
    assert not matches("hello", words="hello world")  # every word must occur


def test_prefix_and_phrase() -> None:
    assert matches("thinking hard", words="thin*")
    assert matches("the quick brown fox", words='"quick brown"')
    assert not matches("the brown quick fox", words='"quick brown"')
    assert matches("quick brownie", words="quick-brown*")  # a phrase, its last word a prefix
    assert not matches("quick brownie", words='"quick brown"*')  # a phrase, then a lone *


def test_punctuation_and_underscore_separate_words() -> None:
    assert matches("don't panic", words="don")
    assert matches("don't panic", words="don't")  # read as the phrase "don t"
    assert not matches("don panic t", words="don't")
    assert matches("foo_bar", words="bar")  # _ is not a letter (FTS5 agrees)
    assert words_of("x-ray_1½ ß ﬁne") == ["x", "ray", "1½", "ß", "ﬁne"]


def test_parse_words() -> None:
    assert parse_words('a "b c" d* x"y* - "e f') == (
        Term(("a",)),
        Term(("b", "c")),
        Term(("d",), prefix=True),
        Term(("x", "y"), prefix=True),
        Term(("e",)),  # an unclosed quote: words as any others
        Term(("f",)),
    )
    with pytest.raises(ValueError, match="no word to look for"):
        Matcher(Query(words="!!! ..."))
    with pytest.raises(ValueError, match="too many words"):
        Matcher(Query(words=" ".join(["w"] * 33)))


def test_a_record_without_text_never_matches_words_or_a_regex() -> None:
    assert not matches(None, words="x")
    assert not matches(None, regex="x")
    assert matches(None)  # no condition on the text


# -- the regular expression ---------------------------------------------------------------


def test_regex_ignores_case_unless_asked() -> None:
    assert matches("Error 42", regex=r"error \d+")
    assert not matches("Error 42", regex=r"error \d+", case=True)
    assert matches("Error 42", regex=r"Error \d+", case=True)


def test_bad_regex_is_a_clear_value_error() -> None:
    with pytest.raises(ValueError, match=r"bad regular expression '\(oops': missing \)"):
        Matcher(Query(regex="(oops"))


# -- the other fields ----------------------------------------------------------------------


def test_nick_and_channel_fold_as_rfc1459() -> None:
    r = record("2026-12-06T14:03:07", nick="Nick[m]", channel="#Chan{x}")
    assert Matcher(Query(nick="nick{M}"))(r)
    assert Matcher(Query(channel="#chan[X]"))(r)
    assert not Matcher(Query(nick="nick"))(r)
    assert not Matcher(Query(channel="#chan"))(r)


def test_network_types_and_time_bounds() -> None:
    r = record("2026-12-06T14:03:07", type="action", network="net")
    ms = r["time_ms"]
    assert Matcher(Query(network="net"))(r)
    assert not Matcher(Query(network="Net"))(r)  # a config name: exact
    assert Matcher(Query(types=("message", "action")))(r)
    assert not Matcher(Query(types=("message",)))(r)
    assert Matcher(Query(since_ms=ms, until_ms=ms + 1))(r)
    assert not Matcher(Query(until_ms=ms))(r)  # until is excluded
    assert not Matcher(Query(since_ms=ms + 1))(r)


def test_a_damaged_record_does_not_match_and_raises_nothing() -> None:
    m = Matcher(Query(words="x", nick="a", channel="#c", since_ms=0))
    for damaged in ({}, {"text": 5, "nick": ["a"]}, {"time_ms": True, "channel": None}):
        assert not m(damaged)


def test_spans_show_the_words_and_the_regex() -> None:
    m = Matcher(Query(words="cafe thin*", regex="[0-9]+"))
    text = "Café 42 thinking, café!"
    assert [text[a:b] for a, b in m.spans(text)] == ["Café", "42", "thinking", "café"]
    assert Matcher(Query(regex="x*")).spans("abc") == []  # empty matches are not shown


# -- properties ----------------------------------------------------------------------------

#: Characters whose folding SQLite's tables and Python's agree on (letters added to
#: Unicode after SQLite's tables were made are left out: see match.py).
ALPHABET = list("abcxyzABCXYZ019 .,-'_!?éÉèàÀçÇñÑöÖüÜøØåÅßæÆœŒıİſΩωάΆσςΣёЁйЙжЖ½😀ﬁǅǡ\u0301\u0308")
texts = st.text(alphabet=st.sampled_from(ALPHABET), max_size=30)
chunks = st.text(alphabet=st.sampled_from([c for c in ALPHABET if c != " "]), min_size=1,
                 max_size=6)  # fmt: skip


@pytest.fixture(scope="module")
def fts() -> Iterator[sqlite3.Connection]:
    db = sqlite3.connect(":memory:")
    db.execute("CREATE VIRTUAL TABLE t USING fts5(text, tokenize='unicode61 remove_diacritics 2')")
    yield db
    db.close()


@settings(max_examples=400, deadline=None)
@given(text=texts, data=st.data())
def test_words_match_as_sqlite_fts5_does(
    fts: sqlite3.Connection, text: str, data: st.DataObject
) -> None:
    """Terms made up, or cut out of the text (so that many of them do match)."""
    terms = []
    for _ in range(data.draw(st.integers(1, 3))):
        if text.strip() and data.draw(st.booleans()):
            start = data.draw(st.integers(0, len(text) - 1))
            chunk = text[start : data.draw(st.integers(start + 1, len(text)))]
            chunk = chunk.replace(" ", "")
        else:
            chunk = data.draw(chunks)
        if words_of(chunk):
            terms.append((chunk, data.draw(st.booleans())))
    assume(terms)
    words = " ".join(chunk + "*" * star for chunk, star in terms)
    fts_query = " AND ".join(f'"{chunk}"' + "*" * star for chunk, star in terms)
    fts.execute("DELETE FROM t")
    fts.execute("INSERT INTO t (text) VALUES (?)", (text,))
    (count,) = fts.execute("SELECT count(*) FROM t WHERE t MATCH ?", (fts_query,)).fetchone()
    assert matches(text, words=words) == bool(count)


@given(text=texts)
def test_a_text_holds_each_of_its_own_words(text: str) -> None:
    for word in words_of(text):
        assert matches(text, words=word)
        assert matches(text, words=word[:1] + "*")


@given(text=texts, first=chunks, second=chunks)
def test_another_term_never_adds_a_match(text: str, first: str, second: str) -> None:
    assume(words_of(first) and words_of(second))
    if matches(text, words=f"{first} {second}"):
        assert matches(text, words=first)
        assert matches(text, words=second)


@given(text=st.text(alphabet="abcXYZ ,.", max_size=20), word=st.text(alphabet="abcxyz", min_size=1))
def test_ascii_case_never_matters(text: str, word: str) -> None:
    assert matches(text, words=word) == matches(text.swapcase(), words=word.swapcase())
