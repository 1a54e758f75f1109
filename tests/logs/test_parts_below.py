"""``safe_open.parts_below``: the folders a safe open walks, found without pathlib for
the usual absolute paths, and the same answers as pathlib gives for every path."""

from __future__ import annotations

from pathlib import Path

import pytest

from logbot.logs.safe_open import parts_below


@pytest.mark.parametrize(
    ("root", "path", "parts"),
    [
        ("/srv/logs", "/srv/logs/net/#c/2026-12-06.log", ("net", "#c", "2026-12-06.log")),
        ("/srv/logs", "/srv/logs", ()),
        ("/", "/srv/x", ("srv", "x")),
        ("logs", "logs/net/a", ("net", "a")),
        (".", "net/a", ("net", "a")),
        ("/srv/logs", "/srv/logs/a b/ü", ("a b", "ü")),
    ],
)
def test_the_parts_below_the_root(root: str, path: str, parts: tuple[str, ...]) -> None:
    assert parts_below(Path(root), Path(path)) == parts
    assert parts == Path(path).relative_to(root).parts


@pytest.mark.parametrize(
    ("root", "path"),
    [
        ("/srv/logs", "/srv/logsx/a"),  # a sibling that starts with the root's name
        ("/srv/logs", "/srv/other"),
        ("/srv/logs", "/srv/logs/../x"),
        ("/srv/logs", "/srv/logs/a/.."),
    ],
)
def test_a_path_not_below_the_root_or_with_dot_dot_is_refused(root: str, path: str) -> None:
    with pytest.raises(ValueError):
        parts_below(Path(root), Path(path))
