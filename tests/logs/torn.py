"""What a log file killed with SIGKILL may hold: shared by the writer's tests and the
end-to-end ``kill -9`` tests."""

from __future__ import annotations

from pathlib import Path

from logbot.logs.rotation import PAGE


def whole_lines_and_torn_tail(path: Path) -> tuple[list[str], bool]:
    """The whole lines of a log killed with SIGKILL, and whether a torn line ended it.

    The kernel may stop a write at a page boundary of the file when SIGKILL arrives
    (``rotation.page_runs``), so a torn line may be the last one only, cut at a page
    boundary; anything else fails here."""
    data = path.read_bytes()
    body, _, tail = data.rpartition(b"\n")
    if tail:
        assert len(data) % PAGE == 0, f"{path}: a torn tail that is not at a page boundary"
    return (body.decode().split("\n") if body else []), bool(tail)
