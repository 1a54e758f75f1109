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
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["HISTORY_TYPES", "MAX_OPEN_BATCHES", "Batch", "Batches"]

#: Batch types whose lines are replayed history.
HISTORY_TYPES = frozenset({"chathistory", "znc.in/playback"})
#: Batches open at once; one more forgets the oldest.
MAX_OPEN_BATCHES = 64


class Batch:
    """One open batch: its reference, type, parameters and whether it is history."""

    __slots__ = ("history", "params", "ref", "type")

    def __init__(self, ref: str, type: str, params: tuple[str, ...], history: bool) -> None:
        self.ref = ref
        self.type = type
        self.params = params
        self.history = history

    def __repr__(self) -> str:
        return f"Batch({self.ref!r}, {self.type!r}, {self.params!r}, history={self.history})"


class Batches:
    """The batches open on one connection."""

    def __init__(self, limit: int = MAX_OPEN_BATCHES) -> None:
        self.limit = limit
        self.open: dict[str, Batch] = {}  # ref -> batch, oldest first
        self.history: set[str] = set()  # refs of the open history batches

    def start(
        self, ref: str, type: str, params: tuple[str, ...], tags: Mapping[str, str | None]
    ) -> tuple[Batch, Batch | None]:
        """Open ``ref``; returns it and the batch forgotten to make room (or None).
        A reference already open is replaced (a server bug we survive)."""
        parent = tags.get("batch") if tags else None
        history = type.lower() in HISTORY_TYPES or (parent is not None and parent in self.history)
        self.end(ref)
        evicted = None
        if len(self.open) >= self.limit:
            evicted = self.end(next(iter(self.open)))
        batch = Batch(ref, type, params, history)
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

    def clear(self) -> list[Batch]:
        """Forget every open batch (the connection ended); returns them."""
        batches = list(self.open.values())
        self.open.clear()
        self.history.clear()
        return batches
