"""Searching and reading the index: every Query field, hostile words, bounds, context,
and the reads the web view uses."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from logbot.archive.index import Index, SearchError
from logbot.archive.index.words import MAX_TERMS, fts_query
from logbot.archive.model import Query
from tests.archive.index.files import append, day_file, record


@pytest.fixture
def filled(root: Path, index: Index) -> Index:
    """Two networks, three channels, two days, a few nicks and kinds of line."""
    append(
        day_file(root),
        [
            record(0, nick="Alice", text="hello world"),
            record(1, nick="bob", text="the café is open"),
            record(2, nick="alice", text="Hello again, World"),
            record(3, nick="carol", kind="join", text=None),
            record(4, nick="bob", kind="action", text="waves hello"),
            record(5, nick="dave", text='NEAR( x AND y OR z: -w * "q'),
            record(6, nick="[Eve]", text="Überraschung naïve résumé"),
            record(7, nick="bob", kind="notice", text="a long phrase of words here"),
        ],
    )
    append(
        day_file(root, "2026-01-03"),
        [
            record(0, day="2026-01-03", nick="alice", text="hello from tuesday"),
            record(1, day="2026-01-03", nick="bob", text="words of a phrase, long"),
        ],
    )
    append(day_file(root, channel="#Other"), [record(0, channel="#Other", text="hello other")])
    append(
        day_file(root, network="elsewhere"),
        [record(0, network="elsewhere", nick="alice", text="hello elsewhere")],
    )
    index.update(root)
    return index


def found(index: Index, **query: object) -> list[str]:
    return [hit.record["text"] for hit in index.search(Query(**query))]  # type: ignore[arg-type]


def test_words_are_all_required_case_and_accent_blind(filled: Index) -> None:
    assert found(filled, words="hello", network="net", channel="#chan") == [
        "hello from tuesday",
        "waves hello",
        "Hello again, World",
        "hello world",
    ]
    assert found(filled, words="HELLO world") == ["Hello again, World", "hello world"]
    assert found(filled, words="cafe") == ["the café is open"]
    assert found(filled, words="CAFÉ") == ["the café is open"]
    assert found(filled, words="uberraschung naive resume") == ["Überraschung naïve résumé"]
    assert found(filled, words="hell") == []  # whole words


def test_prefix_and_phrase(filled: Index) -> None:
    assert found(filled, words="tues*") == ["hello from tuesday"]
    assert found(filled, words='"long phrase"') == ["a long phrase of words here"]
    assert found(filled, words="long phrase") == [
        "words of a phrase, long",
        "a long phrase of words here",
    ]
    assert found(filled, words='"phrase long"') == [
        "words of a phrase, long"
    ]  # the comma is no word
    assert found(filled, words='"phrase a"') == []


@pytest.mark.parametrize(
    "words",
    ["NEAR(", '"', "*", "-", "AND", "OR", ":", "NOT", "(", ")", "^", "x:y", '""', "{a b}", "+"],
)
def test_fts_syntax_from_a_user_is_only_words(filled: Index, words: str) -> None:
    hits = filled.search(Query(words=words))  # never an error
    for hit in hits:
        assert hit.record["nick"] == "dave"


def test_operators_are_words_and_punctuation_matches_nothing(filled: Index) -> None:
    assert found(filled, words="near( and or z:") == ['NEAR( x AND y OR z: -w * "q']
    assert found(filled, words="- * : ( ^") == []
    assert filled.count(Query(words='" - "')) == 0
    assert found(filled, words="hello -") == found(filled, words="hello")


def test_the_match_expression_quotes_everything() -> None:
    assert fts_query('a "b c" d* e"f - ') == '"a" AND "b c" AND "d" * AND "e""f"'
    assert fts_query("* - :") is None
    with pytest.raises(ValueError, match="too many words"):
        fts_query(" ".join(["w"] * (MAX_TERMS + 1)))


def test_nick_channel_network_and_types(filled: Index) -> None:
    assert found(filled, nick="ALICE", network="net", channel="#chan") == [
        "hello from tuesday",
        "Hello again, World",
        "hello world",
    ]
    # "hello other" has the same time as "hello world": the line indexed first (its
    # folder's name sorts first) is the older
    assert found(filled, nick="alice", network="net")[2:] == ["hello world", "hello other"]
    assert found(filled, nick="{eve}") == ["Überraschung naïve résumé"]  # RFC 1459 folding
    assert found(filled, channel="#OTHER") == ["hello other"]
    assert found(filled, network="elsewhere") == ["hello elsewhere"]
    assert found(filled, types=("action", "notice")) == [
        "a long phrase of words here",
        "waves hello",
    ]
    assert [h.record["nick"] for h in filled.search(Query(types=("join",)))] == ["carol"]
    assert found(filled, words="hello", nick="bob") == ["waves hello"]


def test_time_range_and_newest_first(filled: Index) -> None:
    day2 = record(0, day="2026-01-03")["time_ms"]
    assert found(filled, since_ms=day2) == ["hello from tuesday", "words of a phrase, long"][::-1]
    before = found(filled, words="hello", until_ms=day2, channel="#chan", network="net")
    assert before == ["waves hello", "Hello again, World", "hello world"]
    assert found(filled, words="hello", since_ms=day2 + 1) == []
    hits = filled.search(Query())
    times = [h.record["time_ms"] for h in hits]
    assert times == sorted(times, reverse=True) and len(hits) == 12


def test_limit_offset_and_count(filled: Index) -> None:
    everything = found(filled, words="hello")
    assert len(everything) == 6 and filled.count(Query(words="hello", limit=2)) == 6
    assert found(filled, words="hello", limit=2) == everything[:2]
    assert found(filled, words="hello", limit=2, offset=2) == everything[2:4]
    assert found(filled, words="hello", limit=0) == []
    assert filled.count(Query(words="nothinglikethis")) == 0


def test_regex_case_and_errors(filled: Index) -> None:
    assert found(filled, regex=r"^hello\b", channel="#chan", network="net") == [
        "hello from tuesday",
        "Hello again, World",
        "hello world",
    ]
    assert found(filled, regex=r"^Hello", case=True) == ["Hello again, World"]
    assert found(filled, regex="world", words="again") == ["Hello again, World"]
    with pytest.raises(SearchError, match="bad regular expression") as e:
        filled.search(Query(regex="(unclosed"))
    assert isinstance(e.value, ValueError)
    with pytest.raises(SearchError):
        filled.count(Query(regex="*"))
    with pytest.raises(SearchError, match="too long"):
        filled.search(Query(regex="a" * 5000))
    with pytest.raises(SearchError, match="too long"):
        filled.search(Query(words="word " * 1000))
    with pytest.raises(SearchError, match="too many words"):
        filled.search(Query(words="w " * 40))
    with pytest.raises(SearchError, match="too many types"):
        filled.search(Query(types=("message",) * 100))


def test_context_lines_come_from_the_same_day(filled: Index) -> None:
    (hit,) = filled.search(Query(words="café"), context=2)
    assert (hit.network, hit.channel, hit.day, hit.seq) == ("net", "#chan", "2026-01-02", 2)
    assert [line.seq for line in hit.context] == [1, 2, 3, 4]
    (first,) = filled.search(Query(words="tuesday"), context=5)
    assert [line.record["text"] for line in first.context] == [
        "hello from tuesday",
        "words of a phrase, long",
    ]
    assert filled.search(Query(words="tuesday"))[0].context == ()


def test_a_search_that_takes_too_much_work_ends_with_an_error(root: Path, tmp_path: Path) -> None:
    append(day_file(root), [record(i, text=f"line number {i}") for i in range(3000)])
    with Index(tmp_path / "small.sqlite3", search_steps=5_000) as index:
        index.update(root)
        with pytest.raises(SearchError, match="too long"):
            index.search(Query(regex="nothing matches this"))
        assert len(index.search(Query(words="line", limit=5))) == 5  # small ones still run


def test_a_catastrophic_regex_is_cut_short(root: Path, tmp_path: Path) -> None:
    append(day_file(root), [record(0, text="a" * 60)])
    with Index(tmp_path / "re.sqlite3", search_seconds=0.2) as index:
        index.update(root)
        started = time.monotonic()
        with pytest.raises(SearchError, match="too long"):
            index.search(Query(regex=r"(a+)+b"))
        assert time.monotonic() - started < 5
        assert found(index, regex="a{3}") == ["a" * 60]  # the alarm is gone


def test_reads_for_the_web_view(filled: Index) -> None:
    assert filled.networks() == ["elsewhere", "net"]
    assert [(c.key, c.name, c.lines) for c in filled.channels("net")] == [
        ("#chan", "#chan", 10),
        ("#other", "#Other", 1),
    ]
    assert filled.days("net", "#CHAN") == [("2026-01-02", 8), ("2026-01-03", 2)]
    lines = filled.day_lines("net", "#chan", "2026-01-02", after=5)
    assert [line.seq for line in lines] == [6, 7, 8]
    assert [line.seq for line in filled.day_lines("net", "#chan", "2026-01-02", 2, 3)] == [3, 4, 5]
    assert filled.neighbours("net", "#chan", "2026-01-02") == (None, "2026-01-03")
    assert filled.neighbours("net", "#chan", "2026-01-03") == ("2026-01-02", None)
    assert filled.neighbours("net", "#chan", "2026-01-05") == ("2026-01-03", None)
    one = filled.line("net", "#chan", "2026-01-02", 2)
    assert one is not None and one.record["text"] == "the café is open"
    assert filled.line("net", "#chan", "2026-01-02", 99) is None
    assert filled.days("nowhere", "#chan") == [] and filled.channels("nowhere") == []
