"""The ircdocs parser tests (CC0), as packaged on PyPI: ``irc-parser-tests``.

Only the packaged corpus is read, so a fresh clone runs every case and skips none; the
package is pinned in the ``test`` extra (pyproject.toml).
"""

from __future__ import annotations

from importlib import resources

import pytest
import yaml

from logbot.irc.message import Message, format, mask_match, parse, split_userhost

NAMES = ("msg-split", "msg-join", "userhost-split", "mask-match")


def _pypi(name: str) -> list[dict]:
    text = resources.files("parser_tests").joinpath("data", f"{name}.yaml").read_text("utf-8")
    return yaml.safe_load(text)["tests"]


def _cases(name: str) -> list:
    return [pytest.param(case, id=f"pypi-{i}") for i, case in enumerate(_pypi(name))]


def _tags(atoms: dict) -> dict[str, str | None]:
    # The tests write a tag without a value as "", Message stores None.
    return {key: (value or None) for key, value in (atoms.get("tags") or {}).items()}


def _expected(atoms: dict) -> Message:
    return Message(
        command=atoms["verb"],
        params=atoms.get("params") or (),
        source=atoms.get("source"),
        tags=_tags(atoms),
    )


def test_the_corpus_has_data() -> None:
    for name in NAMES:
        assert len(_pypi(name)) > 0


@pytest.mark.parametrize("case", _cases("msg-split"))
def test_msg_split(case: dict) -> None:
    msg = parse(case["input"])
    atoms = case["atoms"]
    assert msg.tags == _tags(atoms)
    assert msg.source == atoms.get("source")
    # Commands are upper-cased by design; compare the verb case-insensitively.
    assert msg.command == atoms["verb"].upper()
    assert list(msg.params) == list(atoms.get("params") or [])


def _upper_verb(line: str) -> str:
    tokens = line.split(" ")
    index = 0
    if tokens[index].startswith("@"):
        index += 1
    if tokens[index].startswith(":"):
        index += 1
    tokens[index] = tokens[index].upper()
    return " ".join(tokens)


@pytest.mark.parametrize("case", _cases("msg-join"))
def test_msg_join(case: dict) -> None:
    line = format(_expected(case["atoms"]))
    assert line in [_upper_verb(match) for match in case["matches"]]
    assert parse(line) == _expected(case["atoms"])


@pytest.mark.parametrize("case", _cases("userhost-split"))
def test_userhost_split(case: dict) -> None:
    atoms = case["atoms"]
    got = split_userhost(case["source"])
    assert got == (atoms.get("nick"), atoms.get("user"), atoms.get("host"))


@pytest.mark.parametrize("case", _cases("mask-match"))
def test_mask_match(case: dict) -> None:
    for name in case.get("matches", []):
        assert mask_match(case["mask"], name), name
    for name in case.get("fails", []):
        assert not mask_match(case["mask"], name), name
