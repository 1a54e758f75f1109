"""Fixtures of the index tests: a log root, an index."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from logbot.archive.index import Index


@pytest.fixture
def root(tmp_path: Path) -> Path:
    folder = tmp_path / "logs"
    folder.mkdir()
    return folder


@pytest.fixture
def index(tmp_path: Path) -> Iterator[Index]:
    with Index(tmp_path / "data" / "index.sqlite3") as idx:
        yield idx
