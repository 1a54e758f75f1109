"""Fixtures shared by the log writer's tests: a fake clock, a log root under the test's
folder, and ``make(**kw)``, which builds LogWriters that are closed after the test.

A test module may override ``writer_defaults`` (keyword arguments every ``make`` call
gets unless it passes its own), e.g. a wall clock set to its records' day."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from logbot.logs.writer import LogWriter
from logbot.reactor.task import Clock


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "logs"


@pytest.fixture
def writer_defaults() -> dict[str, Any]:
    return {}


@pytest.fixture
def make(
    clock: Clock, root: Path, writer_defaults: dict[str, Any]
) -> Iterator[Callable[..., LogWriter]]:
    made: list[LogWriter] = []

    def make(**kw: Any) -> LogWriter:
        kw = {"root": root, **writer_defaults, **kw}
        w = LogWriter(kw.pop("clock", clock), **kw)
        made.append(w)
        return w

    yield make
    for w in made:
        w.close()
