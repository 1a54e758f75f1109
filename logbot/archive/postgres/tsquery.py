"""A user's words made into a PostgreSQL ``tsquery`` that can only mean "these words".

Why built this way: ``to_tsquery`` has a query language (``&``, ``|``, ``!``, ``<->``,
``:*``, ``:AB``, parentheses), and a search box must not speak it.  So user text
reaches PostgreSQL only as a bound parameter of ``phraseto_tsquery`` (which parses
plain text, no operators), or inside one quoted tsquery string (``'...'``, its quotes
and backslashes escaped) for a prefix: the quotes make all of it one phrase of plain
text.  The syntax is the SQLite index's (:mod:`logbot.archive.index.words`):

- ``word`` -> its lexemes as a phrase; ``word*`` -> the same, each a prefix (``:*``);
- ``"a phrase"`` -> ``<->`` between its words;
- every term is ANDed (``&&``); a term with no letter or digit is dropped, and a query
  of nothing but such terms matches nothing (:func:`tsquery_sql` returns None).

Punctuation inside a word: the SQLite tokenizer splits at every character that is not
a letter or a digit (``don't`` is ``don`` ``t``, ``e-mail`` is ``e`` ``mail``,
``example.com`` is ``example`` ``com``); PostgreSQL's parser keeps some words whole
(``example.com`` a host, ``3.14`` a number) and gives a hyphenated word both whole and
in parts (``e-mail`` is ``e-mail``, ``e``, ``mail``).  So a term with such characters
asks for either reading: PostgreSQL's parse of the term as typed (it matches the text
where the parser kept the same word whole), *or* the phrase of its parts split as the
SQLite tokenizer splits them (it matches ``e mail``, ``don't``, ``foo_bar`` as SQLite
does).  The stored text is split at ASCII punctuation before PostgreSQL parses it
(:data:`~.schema.ASCII_PUNCTUATION`), so the parts of ``example.com`` or ``3.14`` are
in the stored ``tsvector`` and ``com`` finds ``example.com`` as in SQLite (the
comparison test in tests/archive/postgres/test_search.py gives the same lines for
every query it tries).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from logbot.archive.index.words import MAX_TERMS

__all__ = ["CONFIG", "MAX_TERMS", "Term", "split_like_sqlite", "terms", "tsquery_sql"]

#: The text search configuration of ``events.words`` (:mod:`.schema`).
CONFIG = "logbot_words"

_TERM = re.compile(r'"([^"]*)"|(\S+)')

Term = tuple[str, bool]  # (text, prefix)


def _token_char(ch: str) -> bool:
    """A character the SQLite ``unicode61`` tokenizer keeps in a token."""
    category = unicodedata.category(ch)
    return category[0] in "LN" or category == "Co"


def split_like_sqlite(text: str) -> str:
    """``text`` with every run of non-token characters made one space."""
    return " ".join("".join(ch if _token_char(ch) else " " for ch in text).split())


def terms(words: str) -> list[Term]:
    """The terms of ``words``: ``(text, prefix)``, phrases and words alike.

    :raises ValueError: more than :data:`MAX_TERMS` terms."""
    out: list[Term] = []
    for match in _TERM.finditer(words):
        phrase, word = match.group(1), match.group(2)
        prefix = False
        if phrase is None:
            prefix = word.endswith("*")
            phrase = word.rstrip("*")
        if split_like_sqlite(phrase):
            out.append((phrase, prefix))
    if len(out) > MAX_TERMS:
        raise ValueError(f"too many words ({len(out)}; at most {MAX_TERMS})")
    return out


def _quoted(text: str) -> str:
    """``text`` as one tsquery string (to_tsquery parses what is inside as plain text)."""
    return "'" + text.replace("\\", "\\\\").replace("'", "''") + "'"


def _reading(text: str, prefix: bool, params: list[Any]) -> str:
    """SQL for one reading of a term (``text`` as PostgreSQL parses it)."""
    if prefix:
        params.append(_quoted(text) + ":*")
        return f"to_tsquery('{CONFIG}', %s)"
    params.append(text)
    return f"phraseto_tsquery('{CONFIG}', %s)"


def _split_prefix(text: str, params: list[Any]) -> str:
    """The SQLite reading of a prefix term: its parts as a phrase, the last a prefix."""
    *head, last = text.split(" ")
    tail = f"to_tsquery('{CONFIG}', %s)"
    if not head:
        params.append(_quoted(last) + ":*")
        return tail
    params.extend([" ".join(head), _quoted(last) + ":*"])
    return f"tsquery_phrase(phraseto_tsquery('{CONFIG}', %s), {tail})"


def tsquery_sql(words: str) -> tuple[str, list[Any]] | None:
    """``(SQL expression of type tsquery, its parameters)`` for ``words``; None when it
    holds no word.

    :raises ValueError: more than :data:`MAX_TERMS` terms."""
    parts: list[str] = []
    params: list[Any] = []
    for text, prefix in terms(words):
        as_typed = _reading(text, prefix, params)
        split = split_like_sqlite(text)
        if split == text:
            parts.append(as_typed)
            continue
        if prefix:
            other = _split_prefix(split, params)
        else:
            params.append(split)
            other = f"phraseto_tsquery('{CONFIG}', %s)"
        parts.append(f"({as_typed} || {other})")
    if not parts:
        return None
    return " && ".join(parts), params
