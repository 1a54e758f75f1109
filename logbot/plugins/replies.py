"""What may leave as a reply, and how often: pure code with ``now`` passed in.

- :func:`reply_lines` turns whatever a handler returned into safe lines: every
  CR, LF and NUL splits or goes (a reply can never become a second IRC command),
  other control characters but IRC formatting go, long lines are split at
  ``max_line_bytes`` and a reply is capped at ``max_lines`` (the last line then
  says how many were left out, so nobody wonders).
- :class:`TokenBuckets` are the per-user and per-channel rate limits.
- :class:`LoopGuard` stops the same reply to the same place repeating: two bots
  answering each other, or a plugin answering its own echo.

Memory is bounded: idle buckets and old replies are pruned as new keys come.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable
from typing import Any

from logbot.irc.split import split_text

__all__ = ["LoopGuard", "ReplyError", "TokenBuckets", "reply_lines"]

#: IRC formatting (bold, colour, hex colour, reset, monospace, reverse, italic,
#: strikethrough, underline) stays; every other C0 control, DEL and the C1 controls go.
_CONTROL = re.compile("[\x00\x01\x05-\x08\x0b\x0c\x0e\x10\x12-\x1c\x7f-\x9f]")
_BREAK = re.compile("\r\n|\r|\n")


class ReplyError(TypeError):
    """A handler returned something that is not a reply."""


def _texts(reply: Any) -> list[str]:
    if reply is None:
        return []
    if isinstance(reply, str):
        return [reply]
    if isinstance(reply, (bytes, bytearray)) or not isinstance(reply, Iterable):
        raise ReplyError(f"a reply must be a str or a list of str, not {type(reply).__name__}")
    texts = list(reply)
    for text in texts:
        if not isinstance(text, str):
            raise ReplyError(f"a reply line must be a str, not {type(text).__name__}")
    return texts


def reply_lines(reply: Any, *, max_lines: int, max_line_bytes: int) -> list[str]:
    """Safe wire-ready lines for a handler's return value (see the module doc)."""
    lines: list[str] = []
    for text in _texts(reply):
        for line in _BREAK.split(text):
            line = _CONTROL.sub("", line.replace("\t", " ")).rstrip()
            if line:
                lines.extend(p for p in (p.rstrip() for p in split_text(line, max_line_bytes)) if p)
    if len(lines) > max_lines:
        left_out = len(lines) - max_lines + 1
        if max_lines == 1:
            return lines[:1]
        lines = lines[: max_lines - 1] + [f"({left_out} more lines not shown)"]
    return lines


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
