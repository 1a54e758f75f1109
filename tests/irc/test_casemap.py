from __future__ import annotations

import pytest

from logbot.irc.casemap import casefold


@pytest.mark.parametrize(
    ("mapping", "name", "folded"),
    [
        ("ascii", "Nick[]\\~", "nick[]\\~"),
        ("rfc1459", "Nick[]\\~", "nick{}|^"),
        ("rfc1459-strict", "Nick[]\\~", "nick{}|~"),
        ("RFC1459", "ÄB", "Äb"),  # only ASCII letters fold; mapping name is case-insensitive
        ("rfc7613", "A[", "a{"),  # unknown mapping: folds as rfc1459
    ],
)
def test_casefold(mapping: str, name: str, folded: str) -> None:
    assert casefold(name, mapping) == folded


def test_default_is_rfc1459() -> None:
    assert casefold("A[") == "a{"


def test_fold_cache_matches_casefold_and_stays_bounded() -> None:
    from logbot.irc.casemap import MAPPINGS, FoldCache

    cache = FoldCache(MAPPINGS["rfc1459"], limit=3)
    for name in ("Nick[]", "B~", "c", "D", "Nick[]", "ÄB"):
        assert cache[name] == casefold(name, "rfc1459")
        assert len(cache) <= 3


def test_upper_ascii() -> None:
    from logbot.irc.casemap import upper_ascii

    assert upper_ascii("privmsg") == "PRIVMSG"
    assert upper_ascii("aßé") == "Aßé" and upper_ascii("x1") == "X1"
