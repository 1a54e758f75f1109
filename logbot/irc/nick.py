"""Choosing our nick, and taking the wanted one back when it frees up.

During registration a refused nick (433 in use, 432 erroneous, 437
unavailable) is replaced by the next configured alternate, then by
``alter_collided_nick(nick)`` (Twisted's hook; the default appends ``_``).
After ``max_attempts`` refusals the core gives up rather than loop forever
(a nick that is too long for NICKLEN is refused for ever, whatever we add).

Once registered under another nick, we try to regain the wanted one:

* with MONITOR (ISUPPORT), the server tells us when it goes offline (731);
* without it, when we see its holder QUIT or change NICK;
* and, as a fallback for holders we cannot see, every ``retry_interval``
  seconds (``None``: never).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

__all__ = ["NickChooser", "append_underscore"]


def append_underscore(nick: str) -> str:
    return nick + "_"


class NickChooser:
    def __init__(
        self,
        wanted: str,
        alternates: Iterable[str] = (),
        alter: Callable[[str], str] = append_underscore,
        max_attempts: int = 10,
        retry_interval: float | None = 300.0,
    ) -> None:
        self.wanted = wanted
        self.alternates = [n for n in alternates if n != wanted]
        self.alter = alter
        self.max_attempts = max_attempts
        self.retry_interval = retry_interval
        self.attempts = 0
        self.next_retry: float | None = None

    def after_refusal(self, refused: str) -> str | None:
        """The nick to try next during registration, ``None`` to give up."""
        self.attempts += 1
        if self.attempts > self.max_attempts:
            return None
        if self.alternates:
            return self.alternates.pop(0)
        return self.alter(refused)

    def registered(self, current_is_wanted: bool, now: float) -> None:
        """Arm the periodic retry when we did not get the wanted nick."""
        self.next_retry = None
        if not current_is_wanted and self.retry_interval is not None:
            self.next_retry = now + self.retry_interval

    def retry_due(self, now: float) -> bool:
        if self.next_retry is None or now < self.next_retry:
            return False
        assert self.retry_interval is not None
        self.next_retry = now + self.retry_interval
        return True
