"""Which of one bot's new lines are events another bot already stored: the rule.

The rule, in order, for each line of a batch (a bot's lines never match each other:
they are distinct events of one log):

1. A line this bot fed before (its ``(instance, line_hash)`` is known) is skipped.
2. A bot's own lines (connect, disconnect, gap, recovered, opted_out) are always new
   events: they describe that bot, not the channel.
3. A line with a ``msgid`` is the event with that ``msgid`` on its network, if there is
   one (the server gives each message one id, whoever receives it).
4. Otherwise it is the *earliest* stored event with the same ``match_key`` (network,
   channel, type, nick, text, target: :mod:`.events`) within ``window`` milliseconds of
   its time, that this bot has not matched yet, and that does not have another
   ``msgid`` than the line's (two different ids are two events).
5. Else it is a new event.

Why "not matched by this bot yet": a nick who says "lol" twice within the window is two
events; each bot's first "lol" matches the first, the second the second.  Why the
earliest and not the closest: both bots see a channel's events in the same order, so
the copies pair up in order; with one bot's clock 2 s behind, "lol" at 0 and 1.0 s is
"lol" at 2.0 and 3.0 s to the other, and the closest to 2.0 would be the second, leaving
3.0 without a partner (a property test checks every such case).  With ``server-time``
both copies have the same time to the millisecond anyway.

Limits (documented for users): two bots without ``server-time`` whose clocks differ
by more than the window store an event twice; one repeated line seen by only one of
two bots within the window may be matched to the other repetition (the archive then
has the right number of lines, one of them with a time off by less than the window);
events the two bots *describe* differently (one saw the nick's old name before a nick
change it missed) stay two.  With ``server-time`` and ``msgid`` (most modern networks)
none of this arises.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from logbot.archive.postgres.events import Event

__all__ = ["Candidate", "Decision", "decide"]


@dataclass(frozen=True, slots=True)
class Candidate:
    """A stored event this bot has not matched yet, with a ``match_key`` of the batch."""

    id: int
    match_key: int
    time_ms: int
    has_msgid: bool


@dataclass(slots=True)
class Decision:
    """What to do with a batch: ``matched`` (event, existing id) and ``new`` events."""

    matched: list[tuple[Event, int]]
    new: list[Event]


def decide(
    events: Sequence[Event],
    by_msgid: dict[tuple[str, str], int],
    candidates: Iterable[Candidate],
    window_ms: int,
) -> Decision:
    """Apply rules 2-5 to ``events`` (rule 1 is the caller's, before): ``by_msgid`` maps
    (network, msgid) to the stored event's id; ``candidates`` are stored events this bot
    has not matched, of the batch's match keys and times (±``window_ms``)."""
    pools: dict[int, list[tuple[int, int, bool]]] = {}
    for c in candidates:
        pools.setdefault(c.match_key, []).append((c.time_ms, c.id, c.has_msgid))
    for pool in pools.values():
        pool.sort()
    taken: set[int] = set()
    decision = Decision([], [])
    for event in events:
        if event.marker:
            decision.new.append(event)
            continue
        if event.msgid is not None:
            found = by_msgid.get((event.network, event.msgid))
            if found is not None and found not in taken:
                taken.add(found)
                decision.matched.append((event, found))
                continue
        found_pool = pools.get(event.match_key)
        best = None if found_pool is None else _earliest(found_pool, event, window_ms, taken)
        if best is None:
            decision.new.append(event)
        else:
            taken.add(best)
            decision.matched.append((event, best))
    return decision


def _earliest(
    pool: list[tuple[int, int, bool]], event: Event, window_ms: int, taken: set[int]
) -> int | None:
    """The id of the earliest untaken candidate in ``pool`` (sorted by time) within
    the window of ``event``'s time."""
    t = event.time_ms
    i = bisect.bisect_left(pool, (t - window_ms,))
    while i < len(pool) and pool[i][0] <= t + window_ms:
        _, ident, has_msgid = pool[i]
        i += 1
        if ident not in taken and not (has_msgid and event.msgid is not None):
            return ident
    return None
