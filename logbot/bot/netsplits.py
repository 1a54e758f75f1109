"""Netsplits and netjoins (IRCv3 ``netsplit``/``netjoin`` batch types): one text line
per channel, every QUIT and JOIN in the jsonl.

When two servers of a network lose their link, everyone behind the other one quits at
once, and comes back when the link does: hundreds of lines in a busy channel, each
saying the same thing.  A server with the ``batch`` capability puts those QUITs in a
``netsplit`` batch and those JOINs in a ``netjoin`` batch, each with the two servers
(ircv3.net/specs/batches/netsplit).  So, as irssi shows it:

* the **text** log gets one line per channel at the batch's end, naming who left or
  came back and the servers (``*** netsplit: irc.hub.net <-> irc.leaf.net: alice, bob
  have quit``; irssi's own wording in its layout), at most :data:`NICKS_PER_LINE`
  nicks a line;
* the **jsonl** gets every QUIT and JOIN as it comes, as ever, with the two servers
  in a ``netsplit`` or ``netjoin`` key (and the batch's reference in ``tags``).

The core has already updated who is where (a netsplit batch is not history), so the
QUIT names its channels as any QUIT does; other lines of the batch (a MODE giving ops
back, an AWAY) are logged as they come.  The channel's log options apply to the
summary as to the lines it sums up: ``events.quits``/``joins`` off, no summary; a
nick on ``opt_out`` is not named in it (their QUIT becomes the usual marker).

Bounded: :data:`MAX_SPLIT_NICKS` names per batch are held (one more writes the
summaries as they stand and starts afresh), and a batch still open after
``MAX_BATCH_SECONDS`` (the core's ``BatchOverdue``) has its summaries written as they
stand, with a warning; the connection's end writes what any open batch holds.
"""

from __future__ import annotations

import dataclasses
import logging
from datetime import datetime
from typing import Any

from logbot.irc import events as ev
from logbot.logs.policy import apply_policy
from logbot.logs.splits import NICKS_PER_LINE, summaries

__all__ = ["MAX_SPLIT_NICKS", "NICKS_PER_LINE", "SPLIT_TYPES", "Netsplits", "summaries"]

log = logging.getLogger(__name__)

#: The batch types summed up, and the event each sums up.
SPLIT_TYPES: dict[str, type[ev.Event]] = {"netsplit": ev.Quit, "netjoin": ev.Joined}
#: Nicks held per batch (all its channels together) before its summaries are written
#: as they stand: a split of a big network is thousands of QUITs, a hostile server's
#: batch may never end.
MAX_SPLIT_NICKS = 10_000


class _Group:
    """What one channel's summary holds: its name, the first line's time, the nicks."""

    __slots__ = ("channel", "nicks", "time", "time_source")

    def __init__(self, channel: str, time: datetime, time_source: str) -> None:
        self.channel = channel
        self.time = time
        self.time_source = time_source
        self.nicks: list[str] = []


class _Split:
    """One open netsplit or netjoin batch."""

    __slots__ = ("count", "groups", "kind", "ref", "servers")

    def __init__(self, ref: str, kind: str, servers: str) -> None:
        self.ref = ref
        self.kind = kind  # "netsplit" or "netjoin"
        self.servers = servers  # "a b", as the record's ``split`` and the summary's target
        self.groups: dict[str, _Group] = {}  # folded channel -> its summary
        self.count = 0  # nicks held, all groups


def _servers(params: tuple[str, ...]) -> str:
    """The batch's two servers as one word each (the spec gives exactly two; a server
    that gives fewer gets ``?`` for the missing one)."""
    names = [p for p in params[:2] if p and " " not in p]
    names += ["?"] * (2 - len(names))
    return " ".join(names)


class Netsplits:
    """The netsplit and netjoin batches of one network (see the module docstring).

    ``bot`` is the :class:`~logbot.bot.network.NetworkBot`: its ``maker``, ``config``,
    ``options_for`` and ``_write`` are used."""

    def __init__(self, bot: Any) -> None:
        self.bot = bot
        self.open: dict[str, _Split] = {}  # batch reference -> split (the hot path reads it)

    # -- batches ----------------------------------------------------------------------

    def batch_started(self, event: ev.BatchStarted) -> None:
        kind = event.type.lower()
        if event.history or kind not in SPLIT_TYPES:
            return
        self.open[event.ref] = _Split(event.ref, kind, _servers(event.params))

    def take(self, event: ev.Event, state: Any) -> bool:
        """A line of an open netsplit or netjoin batch (``event.tags["batch"]`` is
        open): True when it was logged here, False for the caller to log as any
        line (not the QUIT or JOIN the batch is about)."""
        split = self.open[event.tags["batch"]]  # type: ignore[index]
        if type(event) is not SPLIT_TYPES[split.kind] or getattr(event, "is_self", False):
            return False
        bot = self.bot
        isupport = state.isupport
        fold = isupport.folded.__getitem__
        for channel, record in bot.maker.records(event, state):
            folded = fold(channel)
            # The jsonl has the line itself; its text is the summary's.  (The policy runs
            # in _write: a line of someone opted out becomes the marker, in both formats.)
            bot._write(channel, folded, dataclasses.replace(
                record, split=(split.kind, split.servers), only="jsonl"), state)  # fmt: skip
            options = bot.options_for(folded)
            kept = apply_policy(record, options, False, fold, isupport.casemapping)
            if kept is None or kept is not record or kept.nick is None:
                continue  # not logged, or logged as an opted-out marker
            group = split.groups.get(folded)
            if group is None:
                group = split.groups[folded] = _Group(channel, kept.time, kept.time_source)
            group.nicks.append(kept.nick)
            split.count += 1
        if split.count >= MAX_SPLIT_NICKS:
            log.warning(
                "%s: a %s batch of more than %d nicks: writing its summary lines as they stand",
                bot.config.name,
                split.kind,
                MAX_SPLIT_NICKS,
            )
            self._flush(split)
        return True

    def batch_ended(self, event: ev.BatchEnded) -> None:
        split = self.open.pop(event.ref, None)
        if split is not None:
            self._flush(split)

    def batch_overdue(self, event: ev.BatchOverdue) -> None:
        """Open too long: what it holds is written now; it stays open for more."""
        split = self.open.get(event.ref)
        if split is None or not split.count:
            return
        log.warning(
            "%s: the %s batch %s (%s) is still open after %.0f s: writing its summary"
            " lines as they stand",
            self.bot.config.name,
            split.kind,
            split.ref,
            split.servers,
            event.open_for,
        )
        self._flush(split)

    def connection_lost(self) -> None:
        """Write what the open batches hold: their end will not come on this link."""
        splits = list(self.open.values())
        self.open.clear()
        for split in splits:
            self._flush(split)

    # -- writing ----------------------------------------------------------------------

    def _flush(self, split: _Split) -> None:
        """Write ``split``'s summary lines, a channel at a time, and forget them."""
        groups, split.groups, split.count = split.groups, {}, 0
        bot = self.bot
        for folded, group in groups.items():
            for summary in summaries(
                split.kind,
                split.servers,
                bot.config.name,
                group.channel,
                group.nicks,
                group.time,
                group.time_source,
            ):
                bot._write(group.channel, folded, summary)
