"""The scan's progress bar, on standard error when that is a terminal.

Why only on a terminal: a bar is redrawn with carriage returns, which in a log file or
a pipe is noise.  It is redrawn at most every :data:`REDRAW_SECONDS` (the clock is the
caller's), and erased when the scan ends so that the results start on a clean line.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TextIO

__all__ = ["BAR_WIDTH", "REDRAW_SECONDS", "ProgressBar", "progress_text"]

#: Seconds between two redraws of the bar.
REDRAW_SECONDS = 0.1
#: Characters of the bar itself.
BAR_WIDTH = 24

_ERASE = "\r\x1b[K"  # to the line's start, and clear it


def _size(n: int) -> str:
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def progress_text(files_done: int, files: int, bytes_done: int, total: int) -> str:
    """``[#####...] 3/12 files, 1.2 MiB/4.0 MiB``: the bar follows the bytes."""
    if total > 0:
        share = min(1.0, bytes_done / total)
    else:
        share = 1.0 if files == 0 else min(1.0, files_done / files)
    filled = int(share * BAR_WIDTH)
    bar = "#" * filled + "." * (BAR_WIDTH - filled)
    return f"[{bar}] {files_done}/{files} files, {_size(bytes_done)}/{_size(total)}"


class ProgressBar:
    """Call it with (files done, files, bytes done, bytes); :meth:`close` when done.
    ``tty``: whether ``stream`` is a terminal (nothing is written when it is not)."""

    def __init__(self, stream: TextIO, *, tty: bool, clock: Callable[[], float]) -> None:
        self.stream = stream
        self.tty = tty
        self.clock = clock
        self._last: float | None = None
        self._shown = False

    def __call__(self, files_done: int, files: int, bytes_done: int, total: int) -> None:
        if not self.tty:
            return
        now = self.clock()
        finished = files_done >= files
        if self._last is not None and now - self._last < REDRAW_SECONDS and not finished:
            return
        self._last = now
        self.stream.write(_ERASE + progress_text(files_done, files, bytes_done, total))
        self.stream.flush()
        self._shown = True

    def close(self) -> None:
        """Erases the bar, if it was drawn."""
        if self._shown:
            self.stream.write(_ERASE)
            self.stream.flush()
            self._shown = False
