"""What may leave as a reply, and how often: pure code with ``now`` passed in.

- :func:`reply_lines` turns whatever a handler returned into safe lines: every
  CR, LF and NUL splits or goes (a reply can never become a second IRC command),
  other control characters but IRC formatting go, long lines are split at
  ``max_line_bytes`` and a reply is capped at ``max_lines`` (the last line then
  says how many were left out, so nobody wonders).  Only the first
  ``MAX_COUNTED_LINES`` lines of a reply are read and counted: a 10 MB reply
  was split whole to count what was not shown, and stalled the bot for seconds.
- :class:`TokenBuckets` are the per-user and per-channel rate limits.
- :class:`LoopGuard` stops the same reply to the same place repeating: two bots
  answering each other, or a plugin answering its own echo.

Memory is bounded: idle buckets and old replies are pruned as new keys come.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable, Iterator
from typing import Any

from logbot.irc.split import split_text

__all__ = ["MAX_COUNTED_LINES", "LoopGuard", "ReplyError", "TokenBuckets", "reply_lines"]

#: Lines of a reply that are read at most (and no more than this many times
#: ``max_line_bytes`` characters): only ``max_lines`` (50 at most) go out, the rest
#: only feed the count "(N more lines not shown)".  Past them nothing more is read,
#: and the count says "N+".
MAX_COUNTED_LINES = 100

#: IRC formatting (bold, colour, hex colour, reset, monospace, reverse, italic,
#: strikethrough, underline) stays; every other C0 control, DEL and the C1 controls go.
_CONTROL = re.compile("[\x00\x01\x05-\x08\x0b\x0c\x0e\x10\x12-\x1c\x7f-\x9f]")
_BREAK = re.compile("\r\n|\r|\n")


class ReplyError(TypeError):
    """A handler returned something that is not a reply."""


def _texts(reply: Any) -> Iterator[str]:
    """The texts of a reply, checked as they are read (a list is not copied whole)."""
    if reply is None:
        return iter(())
    if isinstance(reply, str):
        return iter((reply,))
    if isinstance(reply, (bytes, bytearray)) or not isinstance(reply, Iterable):
        raise ReplyError(f"a reply must be a str or a list of str, not {type(reply).__name__}")
    return _checked(reply)


def _checked(texts: Iterable[Any]) -> Iterator[str]:
    for text in texts:
        if not isinstance(text, str):
            raise ReplyError(f"a reply line must be a str, not {type(text).__name__}")
        yield text


def reply_lines(reply: Any, *, max_lines: int, max_line_bytes: int) -> list[str]:
    """Safe wire-ready lines for a handler's return value (see the module doc).  The
    work is bounded by the limits, not by the size of the reply."""
    counted = max(MAX_COUNTED_LINES, max_lines + 1)
    budget = counted * max_line_bytes  # characters read at most
    lines: list[str] = []
    unread = False  # some of the reply was not read (so the count is a lower bound)
    for text in _texts(reply):
        if budget <= 0:
            unread = True
            break
        if len(text) > budget:
            text, unread = text[:budget], True
        budget -= max(1, len(text))
        for line in _BREAK.split(text):
            line = _CONTROL.sub("", line.replace("\t", " ")).rstrip()
            if not line:
                continue
            room = counted + 1 - len(lines)
            pieces = split_text(line, max_line_bytes, room)
            lines.extend(p for p in (p.rstrip() for p in pieces) if p)
            if len(pieces) >= room:  # enough: the rest is not read
                unread = True
                break
        if unread:
            break
    if len(lines) > counted:
        del lines[counted:]
        unread = True
    if len(lines) <= max_lines and not unread:
        return lines
    if max_lines == 1:
        return lines[:1]
    shown = lines[: max_lines - 1]
    left_out = len(lines) - len(shown)
    if not left_out:  # the text read held fewer lines than may go out
        return shown + ["(more lines not shown)"]
    return shown + [f"({left_out}{'+' if unread else ''} more lines not shown)"]


class TokenBuckets:
    """One token bucket per key: ``burst`` at once, one more every ``per`` seconds."""

    def __init__(self, burst: int, per: float, *, max_keys: int = 10_000) -> None:
        self.burst, self.per, self.max_keys = burst, per, max_keys
        self._buckets: dict[Any, tuple[float, float]] = {}  # key -> (tokens, at)

    def _tokens(self, key: Any, now: float) -> float:
        tokens, at = self._buckets.get(key, (float(self.burst), now))
        return min(float(self.burst), tokens + max(0.0, now - at) / self.per)

    def allow(self, key: Any, now: float) -> bool:
        """Take a token for ``key`` if there is one."""
        tokens = self._tokens(key, now)
        if tokens < 1.0:
            self._buckets[key] = (tokens, now)
            return False
        if len(self._buckets) >= self.max_keys and key not in self._buckets:
            self._prune(now)
        self._buckets[key] = (tokens - 1.0, now)
        return True

    def _prune(self, now: float) -> None:
        """Forget full buckets (they behave as new ones); if none, the oldest half."""
        full = [k for k in self._buckets if self._tokens(k, now) >= self.burst]
        for key in full:
            del self._buckets[key]
        if len(self._buckets) >= self.max_keys:
            by_age = sorted(self._buckets, key=lambda k: self._buckets[k][1])
            for key in by_age[: len(by_age) // 2]:
                del self._buckets[key]


class LoopGuard:
    """The same reply to the same target at most ``repeats`` times within ``window`` s."""

    def __init__(self, repeats: int, window: float, *, max_keys: int = 10_000) -> None:
        self.repeats, self.window, self.max_keys = repeats, window, max_keys
        self._sent: dict[tuple[str, str], deque[float]] = {}

    def allow(self, target: str, text: str, now: float) -> bool:
        key = (target, text)
        times = self._sent.get(key)
        if times is None:
            if len(self._sent) >= self.max_keys:
                self._prune(now)
            times = self._sent[key] = deque()
        while times and now - times[0] >= self.window:
            times.popleft()
        if len(times) >= self.repeats:
            return False
        times.append(now)
        return True

    def _prune(self, now: float) -> None:
        for key in [k for k, t in self._sent.items() if not t or now - t[-1] >= self.window]:
            del self._sent[key]
        if len(self._sent) >= self.max_keys:
            self._sent.clear()
