"""A user's words made into an FTS5 query that can only mean "these words".

Why: FTS5 has a query language (``AND``, ``OR``, ``NOT``, ``NEAR(...)``, ``col:``,
``^``, ``*``, ``-``, parentheses), and a search box must not speak it: a ``"`` or a
``NEAR(`` typed by a user would otherwise be a syntax error or a different query.  So
every word becomes an FTS5 *string* (``"..."``, its quotes doubled), which FTS5 only
ever tokenizes:

- ``word`` -> ``"word"``; ``word*`` -> ``"word" *`` (a prefix);
- ``"a phrase"`` (double quotes around several words) -> ``"a phrase"``;
- every term is ANDed;
- a term with no letter or digit (``-``, ``:``, ``*``, a lone ``"``) is dropped: the
  tokenizer would make it an empty phrase, which matches nothing.  A query of nothing
  but such terms is no query at all (:func:`fts_query` returns None: no results).
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["MAX_TERMS", "fts_query"]

#: Words (or phrases) in one query at most: each costs a walk of its index entries.
MAX_TERMS = 32

_TERM = re.compile(r'"([^"]*)"|(\S+)')


def _searchable(text: str) -> bool:
    """Whether the unicode61 tokenizer finds a token in ``text`` (a letter, a digit or a
    private-use character: its token characters)."""
    for ch in text:
        category = unicodedata.category(ch)
        if category[0] in "LN" or category == "Co":
            return True
    return False


def _string(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def fts_query(words: str) -> str | None:
    """The FTS5 MATCH expression for ``words``, or None when it holds no word.

    :raises ValueError: more than :data:`MAX_TERMS` terms.
    """
    terms = []
    for match in _TERM.finditer(words):
        phrase, word = match.group(1), match.group(2)
        if phrase is not None:
            if _searchable(phrase):
                terms.append(_string(phrase))
            continue
        prefix = word.endswith("*")
        word = word.rstrip("*")
        if not _searchable(word):
            continue
        terms.append(_string(word) + (" *" if prefix else ""))
    if len(terms) > MAX_TERMS:
        raise ValueError(f"too many words ({len(terms)}; at most {MAX_TERMS})")
    return " AND ".join(terms) if terms else None
