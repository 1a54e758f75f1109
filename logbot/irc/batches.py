"""IRCv3 batches (ircv3.net/specs/extensions/batch): which lines are history.

A server opens a batch with ``BATCH +ref type params...``, tags each line in it with
``batch=ref`` and closes it with ``BATCH -ref``.  Two types matter to a logging bot,
because their lines are *history*, not things happening now:

* ``chathistory``: InspIRCd's ``chanhistory`` module replaying a ``+H`` channel on
  join, and the answer to an IRCv3 ``CHATHISTORY`` request;
* ``znc.in/playback``: ZNC playing back its buffer when a client attaches.

A history line must not change what we know of the channel now (a replayed JOIN is
not a member; a replayed ``NICK`` is not a rename) and must not be answered (a replayed
CTCP VERSION is not a question asked today): the core gives it an event and nothing
else.  A batch nested in a history batch is history too.

The open batches are bounded (:data:`MAX_OPEN_BATCHES`): a server that opens batches
and never closes them costs a fixed amount of memory.  When one more opens, the oldest
is forgotten as if it had ended (its ``BatchEnded`` event says ``forced``), so whoever
collected its lines can finish with them.

And in time: a batch open for :data:`MAX_BATCH_SECONDS` is *overdue* (the core reports
it with a ``BatchOverdue`` event, then again every as many seconds while it stays
open), so that whoever holds its lines writes them as they stand instead of waiting
for an end that may never come.  The batch stays open: its later lines are still
told apart (a history line must never become a live one because its batch took long).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

__all__ = ["HISTORY_TYPES", "MAX_BATCH_SECONDS", "MAX_OPEN_BATCHES", "Batch", "Batches"]

#: Batch types whose lines are replayed history.
HISTORY_TYPES = frozenset({"chathistory", "znc.in/playback"})
#: Batches open at once; one more forgets the oldest.
MAX_OPEN_BATCHES = 64
#: Seconds a batch may stay open before it is overdue (then again every as many
#: seconds): servers send a batch's lines in one go, so a minute is a batch whose end
#: was lost or never meant to come.
MAX_BATCH_SECONDS = 60.0


class Batch:
    """One open batch: its reference, type, parameters, whether it is history, when it
    opened and when it is (next) overdue."""

    __slots__ = ("due", "history", "params", "ref", "started", "type")

    def __init__(
        self,
        ref: str,
        type: str,
        params: tuple[str, ...],
        history: bool,
        started: float = 0.0,
        due: float = math.inf,
    ) -> None:
        self.ref = ref
        self.type = type
        self.params = params
        self.history = history
        self.started = started
        self.due = due

    def __repr__(self) -> str:
        return f"Batch({self.ref!r}, {self.type!r}, {self.params!r}, history={self.history})"


class Batches:
    """The batches open on one connection."""

    def __init__(
        self, limit: int = MAX_OPEN_BATCHES, max_seconds: float = MAX_BATCH_SECONDS
    ) -> None:
        if not max_seconds > 0:
            raise ValueError(f"max_seconds must be > 0, not {max_seconds!r}")
        self.limit = limit
        self.max_seconds = max_seconds
        self.open: dict[str, Batch] = {}  # ref -> batch, oldest first
        self.history: set[str] = set()  # refs of the open history batches

    def start(
        self,
        ref: str,
        type: str,
        params: tuple[str, ...],
        tags: Mapping[str, str | None],
        now: float = 0.0,
    ) -> tuple[Batch, Batch | None]:
        """Open ``ref`` at ``now``; returns it and the batch forgotten to make room (or
        None).  A reference already open is replaced (a server bug we survive)."""
        parent = tags.get("batch") if tags else None
        history = type.lower() in HISTORY_TYPES or (parent is not None and parent in self.history)
        self.end(ref)
        evicted = None
        if len(self.open) >= self.limit:
            evicted = self.end(next(iter(self.open)))
        batch = Batch(ref, type, params, history, now, now + self.max_seconds)
        self.open[ref] = batch
        if history:
            self.history.add(ref)
        return batch, evicted

    def end(self, ref: str) -> Batch | None:
        """Close ``ref``; the batch, or None if it was not open."""
        batch = self.open.pop(ref, None)
        if batch is not None:
            self.history.discard(ref)
        return batch

    def is_history(self, tags: Mapping[str, str | None]) -> bool:
        """Whether a line with these tags belongs to an open history batch."""
        history = self.history
        return bool(history) and tags.get("batch") in history

    def next_due(self) -> float | None:
        """When the next open batch is overdue, or None when none is open."""
        if not self.open:
            return None
        return min(batch.due for batch in self.open.values())

    def overdue(self, now: float) -> list[Batch]:
        """The batches overdue at ``now``, oldest first; each is due again
        ``max_seconds`` later (it stays open)."""
        late = [batch for batch in self.open.values() if batch.due <= now]
        for batch in late:
            batch.due = now + self.max_seconds
        return late

    def clear(self) -> list[Batch]:
        """Forget every open batch (the connection ended); returns them."""
        batches = list(self.open.values())
        self.open.clear()
        self.history.clear()
        return batches
