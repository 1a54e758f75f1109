"""A :class:`~logbot.archive.model.Query` as a test of one jsonl record.

Why the words are matched the way SQLite's FTS5 matches them: the same query is
answered by the index when there is one (its tokenizer is ``unicode61
remove_diacritics 2``) and by scanning the files when there is not, and the two must
find the same lines.  So a *word* is a run of letters and digits (``_`` and every
punctuation mark separate words), compared whole, ignoring case and the accents of
Latin letters: ``cafe`` finds ``Café``, ``don`` does not find ``don't`` twice but
finds it once (``don`` and ``t``), ``caf*`` is a prefix, ``"two words"`` a phrase (the
words one after the other).  Every term must occur.  The folding follows FTS5 rather
than Python's ``casefold``: ``ß`` stays ``ß`` and the ligature ``ﬁ`` stays one letter,
as FTS5 leaves them (the tests compare with SQLite itself).

The regular expression, the nick, the channel, the network, the types and the time
bounds are plain: see :class:`~logbot.archive.model.Query`.  A regular expression is
the caller's own (the terminal user's): nothing here bounds its running time, so it
must never come from IRC.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from logbot.archive.model import Query, channel_key

__all__ = [
    "MAX_HIGHLIGHTS",
    "MAX_TERMS",
    "Matcher",
    "Term",
    "compile_query",
    "fold",
    "parse_words",
    "words_of",
]

#: The most terms a query may hold: each costs the index a walk of its entries (the
#: index refuses more: ``logbot.archive.index.words.MAX_TERMS``).
MAX_TERMS = 32
#: The most highlighted spans one line gets (a regular expression such as ``.`` would
#: otherwise cut a long line into one span per character).
MAX_HIGHLIGHTS = 64

#: A word, in text already folded by :func:`fold`: letters and digits (``\w`` but ``_``).
_WORD = re.compile(r"[^\W_]+")
#: A term of a query: a quoted phrase, or a run of anything but blanks.
_TERM = re.compile(r'"([^"]*)"|(\S+)')

#: Latin letters whose accents FTS5 keeps (its table has no entry for a letter with two
#: marks on an ``a``), though every other one of their kind loses them.
_ACCENTS_KEPT = frozenset("\u01e0\u01e1")


def _fold_char(char: str) -> str:
    """One character as FTS5's ``unicode61 remove_diacritics 2`` sees it: lower case
    (its simple folding), a Latin letter without its accents, a combining mark gone."""
    if unicodedata.category(char)[0] == "M":
        return ""
    low = char.casefold()
    if len(low) != 1:  # full folding: "ß" -> "ss", which FTS5 does not do
        low = char.lower()
    parts = unicodedata.normalize("NFD", low)
    if (
        len(parts) > 1
        and char not in _ACCENTS_KEPT
        and parts[0].isascii()
        and all(unicodedata.category(c)[0] == "M" for c in parts[1:])
    ):
        return parts[0]
    return low if len(low) == 1 else char


class _FoldTable(dict[int, str]):
    """Each character's folded form by its code, for ``str.translate`` (a loop in C),
    computed the first time it is seen (bounded by the characters Unicode has)."""

    def __missing__(self, code: int) -> str:
        folded = self[code] = _fold_char(chr(code))
        return folded


_TABLE = _FoldTable()


def fold(text: str) -> str:
    """``text`` folded for word matching (see the module docstring)."""
    if text.isascii():
        return text.lower()
    return text.translate(_TABLE)


def words_of(text: str) -> list[str]:
    """The words of ``text``, folded, in order."""
    return _WORD.findall(fold(text))


@dataclass(frozen=True)
class Term:
    """One term of a query: its words (one, or a phrase's), the last one a prefix when
    ``prefix``."""

    words: tuple[str, ...]
    prefix: bool = False


def parse_words(query: str) -> tuple[Term, ...]:
    """The terms of a query's words, read as the index reads them
    (:mod:`logbot.archive.index.words`): ``"a phrase"`` between double quotes, else a
    run of anything but blanks (``word``, ``word*`` a prefix).  A run of several words
    (``don't``, ``foo-bar``) is a phrase; a term without a word in it is dropped.

    :raises ValueError: when no term holds a word, or more than :data:`MAX_TERMS` do.
    """
    terms = []
    for m in _TERM.finditer(query):
        if m[1] is not None:
            chunk, prefix = m[1], False
        else:
            chunk, prefix = m[2], m[2].endswith("*")
        words = tuple(words_of(chunk))
        if words:
            terms.append(Term(words, prefix))
    if not terms:
        raise ValueError(f"no word to look for in {query!r} (a word is letters or digits)")
    if len(terms) > MAX_TERMS:
        raise ValueError(f"too many words ({len(terms)}; at most {MAX_TERMS})")
    return tuple(terms)


def _has(term: Term, words: list[str]) -> bool:
    want = term.words
    n = len(want)
    last = want[-1]
    for i in range(len(words) - n + 1):
        if words[i : i + n - 1] != list(want[:-1]):
            continue
        got = words[i + n - 1]
        if got == last or (term.prefix and got.startswith(last)):
            return True
    return False


class Matcher:
    """The test of one :class:`Query`: call it with a jsonl record (a mapping).

    A record that lacks a field a filter needs, or holds it with the wrong type, does
    not match (never an error: the records come from files anyone may have edited).

    :raises ValueError: for a regular expression that does not compile, or words
        without a word in them; the message says which and why.
    """

    def __init__(self, query: Query) -> None:
        self.query = query
        self.terms = parse_words(query.words) if query.words else ()
        # Every word of every term is in a matching line's folded text: a quick "no"
        # (C loops) before the line is cut into words.
        self.needles = [w for term in self.terms for w in term.words]
        self.regex: re.Pattern[str] | None = None
        if query.regex:
            try:
                self.regex = re.compile(query.regex, 0 if query.case else re.IGNORECASE)
            except re.error as e:
                raise ValueError(f"bad regular expression {query.regex!r}: {e}") from None
        self.types = frozenset(query.types)
        self.nick = None if query.nick is None else channel_key(query.nick)
        self.channel = None if query.channel is None else channel_key(query.channel)
        self.network = query.network
        self.since = query.since_ms
        self.until = query.until_ms
        self._text_needed = bool(self.terms) or self.regex is not None

    def __call__(self, record: Mapping[str, Any]) -> bool:
        if self.types and record.get("type") not in self.types:
            return False
        if self.network is not None and record.get("network") != self.network:
            return False
        if self.channel is not None:
            channel = record.get("channel")
            if not isinstance(channel, str) or channel_key(channel) != self.channel:
                return False
        if self.nick is not None:
            nick = record.get("nick")
            if not isinstance(nick, str) or channel_key(nick) != self.nick:
                return False
        if self.since is not None or self.until is not None:
            ms = record.get("time_ms")
            if not isinstance(ms, int) or isinstance(ms, bool):
                return False
            if self.since is not None and ms < self.since:
                return False
            if self.until is not None and ms >= self.until:
                return False
        if self._text_needed:
            text = record.get("text")
            if not isinstance(text, str):
                return False
            return self.text_matches(text)
        return True

    def text_matches(self, text: str) -> bool:
        """True when ``text`` holds every term and the regular expression."""
        if self.terms:
            folded = fold(text)
            if not all(n in folded for n in self.needles):
                return False
            words = _WORD.findall(folded)
            if not all(_has(term, words) for term in self.terms):
                return False
        return self.regex is None or self.regex.search(text) is not None

    def spans(self, text: str) -> list[tuple[int, int]]:
        """Where ``text`` shows what was looked for, as sorted ``(start, end)`` character
        spans that do not overlap: every word of a term (a prefix term's last word as a
        prefix) and every match of the regular expression; at most
        :data:`MAX_HIGHLIGHTS`."""
        found: list[tuple[int, int]] = []
        if self.terms:
            whole = {w for term in self.terms for w in term.words[: len(term.words) - 1]}
            whole |= {term.words[-1] for term in self.terms if not term.prefix}
            prefixes = tuple(term.words[-1] for term in self.terms if term.prefix)
            for start, end, word in _word_spans(text):
                if word in whole or (prefixes and word.startswith(prefixes)):
                    found.append((start, end))
                    if len(found) >= MAX_HIGHLIGHTS:
                        break
        if self.regex is not None:
            for i, m in enumerate(self.regex.finditer(text)):
                if i >= MAX_HIGHLIGHTS:
                    break
                if m.end() > m.start():
                    found.append(m.span())
        return _merged(found)[:MAX_HIGHLIGHTS]


def _word_spans(text: str) -> list[tuple[int, int, str]]:
    """The words of ``text`` with the character spans they come from in ``text``."""
    out: list[tuple[int, int, str]] = []
    start = -1
    end = 0
    chars: list[str] = []
    for i, char in enumerate(text):
        folded = _TABLE[ord(char)]
        if not folded:  # a combining mark: part of the word it follows, if any
            if start >= 0:
                end = i + 1
            continue
        for c in folded:
            if c.isalnum():
                if start < 0:
                    start = i
                chars.append(c)
                end = i + 1
            elif start >= 0:
                out.append((start, end, "".join(chars)))
                start, chars = -1, []
    if start >= 0:
        out.append((start, end, "".join(chars)))
    return out


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if out and start <= out[-1][1]:
            if end > out[-1][1]:
                out[-1] = (out[-1][0], end)
        else:
            out.append((start, end))
    return out


def compile_query(query: Query) -> Callable[[Mapping[str, Any]], bool]:
    """The predicate of ``query`` on one jsonl record (a :class:`Matcher`).

    :raises ValueError: see :class:`Matcher`.
    """
    return Matcher(query)
