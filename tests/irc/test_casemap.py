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
