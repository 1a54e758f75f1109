"""Gaps filled from the server's history: replays collected, deduplicated and logged.

Three sources hold lines said while the bot was away, and each sends them in an
IRCv3 batch the core marks as history (:mod:`logbot.irc.batches`):

* InspIRCd's ``chanhistory`` (channel mode ``+H lines:time``) replays the channel's
  recent lines on every join (a ``chathistory`` batch);
* ZNC plays back its buffer when the bot attaches (a ``znc.in/playback`` batch);
* a server with IRCv3 ``draft/chathistory`` answers our ``CHATHISTORY AFTER`` request,
  sent on rejoining a channel after a gap (a ``chathistory`` batch, in pages).

**Holding.** When a channel is joined after a gap (a reconnect, or a restart: the gap
then starts at the last line of its log) and the connection has ``batch`` (without it
history cannot be told from live lines), the channel is *held*: the gap line and the
live lines that arrive waits, in order, until its history is in.  That is at the end
of the read that brought the channel's end of NAMES (InspIRCd and ZNC send their
history right after it, in the same write), unless a history batch for it is open or
a ``CHATHISTORY`` page is awaited; and at most ``history_wait`` seconds after the
join.  Then the log gets, in this order: the recovered lines (original times, marked
``replayed`` in the JSONL), the connect line of a first join, the gap line, and the
live lines held.  So the log reads in time order, apart from the disconnect line,
which was written when the link dropped.

**The gap line** names only what was not recovered.  Servers keep the most recent
lines, so history that reaches back to the gap's start (its oldest line is at or
before it) covers the whole gap: the line is then a ``recovered`` marker.  Otherwise
the part before the oldest replayed line is still a ``gap``.  A ``CHATHISTORY``
request starts just before the last line the log holds, so that a server which still
has it proves the answer complete.

**Late history** (after the hold ended, or a batch that arrives unasked) is still
deduplicated and logged, followed by a ``recovered`` marker saying what it added.

Replayed lines never reach plugins, never change what the core knows of the channel,
and are bounded: :data:`MAX_REPLAY_LINES` per batch are collected before they are
written (the rest in further parts), and a batch still open after ``MAX_BATCH_SECONDS``
(:mod:`logbot.irc.batches`) has what it holds written then; :data:`MAX_HELD_LINES`
live lines per held channel, beyond which the hold ends early.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from logbot.config.settings import HISTORY_WAIT
from logbot.irc import events as ev
from logbot.irc.message import Message
from logbot.irc.message import format as format_message
from logbot.logs import readback
from logbot.logs.dedupe import DEDUPE_SLACK, new_lines
from logbot.logs.readback import Logged, content_key
from logbot.logs.record import LogRecord

__all__ = [
    "HISTORY_PAGES",
    "HISTORY_PAGE_LIMIT",
    "HISTORY_WAIT",
    "MAX_HELD_LINES",
    "MAX_REPLAY_LINES",
    "Replays",
]

log = logging.getLogger(__name__)

#: Replayed lines collected from one batch before they are written (then more parts).
MAX_REPLAY_LINES = 10_000
#: Live lines held per channel while waiting for history; one more ends the hold.
MAX_HELD_LINES = 10_000
#: ``CHATHISTORY`` pages asked for per gap, at most.
HISTORY_PAGES = 10
#: Lines asked for per ``CHATHISTORY`` page (less when the server's CHATHISTORY says so).
HISTORY_PAGE_LIMIT = 1000
#: History older than this is not taken (the log cannot be read back that far).
MAX_REPLAY_AGE = timedelta(days=readback.READBACK_DAYS)
#: Seconds after joining a channel (after registering, for private history) in which
#: history for it is taken.  Servers send it on join or when asked; a server that sends
#: batch after batch later would make the bot read its logs back again and again.
HISTORY_ACCEPT_WINDOW = 60.0

Write = Callable[[str, str, LogRecord], None]  # (channel, folded, record)


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).isoformat(timespec="seconds")


def _iso_ms(when: datetime) -> str:
    """A gap line's ``target``: to the millisecond, for the programs that read it (the
    PostgreSQL archive compares it with other bots' presence); the text, for people,
    says seconds."""
    return when.astimezone(UTC).isoformat(timespec="milliseconds")


def _ref_time(when: datetime) -> str:
    """A ``timestamp=`` reference: UTC, milliseconds, ``Z``."""
    return when.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class _Collect:
    """The lines of one open history batch."""

    __slots__ = ("discard", "lines", "source", "target")

    def __init__(self, source: str, target: str | None, discard: bool = False) -> None:
        self.source = source
        self.target = target
        self.discard = discard  # not taken (HISTORY_ACCEPT_WINDOW): its lines are dropped
        self.lines: list[tuple[str, str, LogRecord]] = []  # (channel, folded, record)


class _Hold:
    """A channel joined after a gap, waiting for its history."""

    __slots__ = (
        "batches", "channel", "folded", "joined", "live", "markers", "names", "new",
        "oldest", "pages", "since", "sources", "timer", "truncated", "waiting", "what",
    )  # fmt: skip

    def __init__(self, channel: str, folded: str, since: datetime | None, what: str) -> None:
        self.channel, self.folded = channel, folded
        self.since = since  # the gap's start (None: the log was empty)
        self.what = what  # "reconnected to ...": the gap line's first words
        self.joined = datetime.now(UTC)  # replaced by the caller's wall clock
        self.markers: list[LogRecord] = []  # the connect line of a first join
        self.live: list[LogRecord] = []
        self.batches = 0  # history batches open for this channel
        self.waiting = False  # a CHATHISTORY page asked for and not yet answered
        self.pages = 0  # CHATHISTORY pages asked for
        self.names = False  # end of NAMES seen
        self.new = 0  # lines recovered
        self.oldest: datetime | None = None  # the oldest replayed line
        self.truncated: datetime | None = None  # pages ran out: not recovered after this
        self.sources: set[str] = set()
        self.timer: Any = None


class Replays:
    """History replays of one network (see the module docstring).

    ``bot`` is the :class:`~logbot.bot.network.NetworkBot`: its ``maker``, ``writer``,
    ``wall``, ``clock``, ``config``, ``_write`` and ``options_for`` are used."""

    def __init__(self, bot: Any) -> None:
        self.bot = bot
        self.collecting: dict[str, _Collect] = {}  # open history batches by reference
        self.holds: dict[str, _Hold] = {}  # folded channel -> hold
        self._recent: dict[str, tuple[datetime, datetime]] = {}  # folded -> last gap
        self._joined_at: dict[str, float] = {}  # folded -> clock time of the last join
        self._registered_at = -HISTORY_ACCEPT_WINDOW  # clock time of this connection's 001

    # -- batches ----------------------------------------------------------------------

    def batch_started(self, event: ev.BatchStarted, state: Any) -> None:
        if not event.history:
            return
        target = event.params[0] if event.params else None
        hold = self._hold_of(target, state)
        since = self._registered_at
        if target and state is not None and target[:1] in state.isupport.chantypes:
            since = self._joined_at.get(state.fold(target), -HISTORY_ACCEPT_WINDOW)
        late = self.bot.clock.seconds() - since > HISTORY_ACCEPT_WINDOW
        if hold is None and late:
            log.warning(
                "%s: ignoring %s history for %s: it came more than %g s after the join",
                self.bot.config.name,
                event.type,
                target,
                HISTORY_ACCEPT_WINDOW,
            )
        self.collecting[event.ref] = _Collect(event.type, target, hold is None and late)
        if hold is not None:
            hold.batches += 1

    def registered(self) -> None:
        self._registered_at = self.bot.clock.seconds()

    def take(self, event: ev.Event, state: Any) -> None:
        """A line of an open history batch (``event.tags["batch"]`` is collecting)."""
        collect = self.collecting[event.tags["batch"]]  # type: ignore[index]
        if collect.discard:
            self.bot.stats.history_refused += 1
            return
        folded_of = state.isupport.folded
        for channel, record in self.bot.maker.records(event, state):
            record = dataclasses.replace(record, replayed=collect.source)
            collect.lines.append((channel, folded_of[channel], record))
        if len(collect.lines) >= MAX_REPLAY_LINES:
            lines, collect.lines = collect.lines, []
            self._recover(lines, collect.source)

    def batch_ended(self, event: ev.BatchEnded, state: Any) -> None:
        collect = self.collecting.pop(event.ref, None)
        if collect is None:
            return
        hold = self._hold_of(collect.target, state)
        count = len(collect.lines)
        if collect.lines:
            self._recover(collect.lines, collect.source)
        if hold is None or hold.folded not in self.holds:
            return
        hold.batches = max(0, hold.batches - 1)
        if hold.waiting and collect.source == "chathistory":
            hold.waiting = False
            self._next_page(hold, count, collect)
        if not hold.waiting and hold.batches == 0 and hold.names:
            self.finish(hold.folded)

    def batch_overdue(self, event: ev.BatchOverdue) -> None:
        """A history batch still open after ``MAX_BATCH_SECONDS``: its lines so far are
        written now (deduplicated as ever), not kept waiting for an end that may never
        come; later ones are collected again."""
        collect = self.collecting.get(event.ref)
        if collect is None or not collect.lines:
            return
        lines, collect.lines = collect.lines, []
        log.warning(
            "%s: the %s batch for %s is still open after %.0f s: writing its %d lines so far",
            self.bot.config.name,
            collect.source,
            collect.target,
            event.open_for,
            len(lines),
        )
        self._recover(lines, collect.source)

    def _hold_of(self, target: str | None, state: Any) -> _Hold | None:
        if not target or state is None:
            return None
        try:
            return self.holds.get(state.fold(target))
        except (KeyError, AttributeError):
            return None

    # -- joins and holds --------------------------------------------------------------

    def joined(
        self,
        client: Any,
        channel: str,
        folded: str,
        since: datetime | None,
        what: str,
        connect: LogRecord | None,
    ) -> None:
        """``channel`` was joined; ``since`` the start of its gap (None: none known),
        ``what`` the gap line's first words, ``connect`` the connect line of a first
        join.  Holds the channel, or writes the lines at once."""
        bot = self.bot
        now = datetime.fromtimestamp(bot.wall(), UTC)
        self._joined_at[folded] = bot.clock.seconds()
        core = client.core
        wait = bot.config.history_wait
        if core is None or "batch" not in core.caps.enabled or not wait > 0:
            if connect is not None:
                bot._write(channel, folded, connect)
            if since is not None:
                self._gap_line(channel, folded, since, now, what, None)
            return
        old = self.holds.pop(folded, None)
        if old is not None:
            self._release(old)
        hold = _Hold(channel, folded, since, what)
        hold.joined = now
        if connect is not None:
            hold.markers.append(connect)
        self.holds[folded] = hold
        hold.timer = bot.clock.callLater(wait, self._expired, folded)
        if since is not None and self._can_request(core):
            anchor = bot.own_log.last_time(folded, now, content=True)
            start = anchor if anchor is not None and anchor <= since else since
            self._request(client, hold, f"timestamp={_ref_time(start - timedelta(milliseconds=1))}")

    def names_done(self, channel: str, state: Any) -> None:
        hold = self._hold_of(channel, state)
        if hold is not None:
            hold.names = True

    def read_done(self) -> None:
        """The end of one read from the server: holds whose history did not start
        right after their NAMES will get none unasked."""
        for hold in [h for h in self.holds.values() if h.names]:
            if hold.batches == 0 and not hold.waiting:
                self.finish(hold.folded)

    def live(self, record: LogRecord, folded: str) -> bool:
        """Keep a live ``record`` of a held channel; False if the channel is not held."""
        hold = self.holds.get(folded)
        if hold is None:
            return False
        hold.live.append(record)
        if len(hold.live) >= MAX_HELD_LINES:
            log.warning(
                "%s: %s: %d lines arrived while waiting for its history; writing them now",
                self.bot.config.name,
                hold.channel,
                len(hold.live),
            )
            self.finish(folded)
        return True

    def _expired(self, folded: str) -> None:
        hold = self.holds.get(folded)
        if hold is None:
            return
        hold.timer = None
        if hold.batches or hold.waiting:
            log.info(
                "%s: %s: history not complete after %g s; logging on without waiting",
                self.bot.config.name,
                hold.channel,
                self.bot.config.history_wait,
            )
        self.finish(folded)

    def finish(self, folded: str) -> None:
        """End the hold of ``folded``: its markers, gap line and held lines, in order."""
        hold = self.holds.pop(folded, None)
        if hold is not None:
            self._release(hold)

    def _release(self, hold: _Hold) -> None:
        if hold.timer is not None and hold.timer.active():
            hold.timer.cancel()
        hold.timer = None
        write = self.bot._write
        for marker in hold.markers:
            write(hold.channel, hold.folded, marker)
        if hold.since is not None:
            self._gap_line(hold.channel, hold.folded, hold.since, hold.joined, hold.what, hold)
        for record in hold.live:
            write(hold.channel, hold.folded, record)

    def connection_lost(self) -> None:
        """Write what was collected and held: nothing more will come on this link."""
        for ref in list(self.collecting):
            collect = self.collecting.pop(ref)
            if collect.lines:
                self._recover(collect.lines, collect.source)
        for folded in list(self.holds):
            self.finish(folded)
        self._joined_at.clear()
        self._registered_at = -HISTORY_ACCEPT_WINDOW

    def request_failed(self, params: tuple[str, ...], state: Any) -> None:
        """``FAIL CHATHISTORY ...``: the held channel it names gets no (more) pages."""
        for param in params[1:]:
            hold = self._hold_of(param, state) if param[:1] in state.isupport.chantypes else None
            if hold is not None and hold.waiting:
                log.warning(
                    "%s: no history for %s: %s", self.bot.config.name, hold.channel, params[-1]
                )
                hold.waiting = False
                if hold.batches == 0 and hold.names:
                    self.finish(hold.folded)
                return

    # -- CHATHISTORY ------------------------------------------------------------------

    @staticmethod
    def _can_request(core: Any) -> bool:
        return "draft/chathistory" in core.caps.enabled or "CHATHISTORY" in core.state.isupport

    @staticmethod
    def _page_limit(core: Any) -> int:
        value = core.state.isupport.get("CHATHISTORY")
        try:
            limit = int(value) if value else 0
        except ValueError:
            limit = 0
        return min(limit, HISTORY_PAGE_LIMIT) if limit > 0 else HISTORY_PAGE_LIMIT

    def _request(self, client: Any, hold: _Hold, reference: str) -> None:
        core = client.core
        try:
            limit = str(self._page_limit(core))
            client.sendLine(_format("CHATHISTORY", "AFTER", hold.channel, reference, limit))
        except (ValueError, RuntimeError) as e:
            name = self.bot.config.name
            log.warning("%s: cannot ask for %s's history: %s", name, hold.channel, e)
            return
        hold.waiting = True
        hold.pages += 1

    def _next_page(self, hold: _Hold, count: int, collect: _Collect) -> None:
        client = self.bot.client
        if client is None or client.core is None:
            return
        if count < self._page_limit(client.core):
            return  # the last page
        if not collect.lines:
            return
        last = collect.lines[-1][2]  # a page comes oldest first; times may be equal
        if hold.pages >= HISTORY_PAGES:
            hold.truncated = last.time
            return
        ref = f"msgid={last.msgid}" if last.msgid else f"timestamp={_ref_time(last.time)}"
        self._request(client, hold, ref)

    # -- writing ----------------------------------------------------------------------

    def _recover(self, lines: list[tuple[str, str, LogRecord]], source: str) -> None:
        """Write the lines of ``lines`` not already logged, per channel."""
        groups: dict[str, list[tuple[str, str, LogRecord]]] = {}
        for item in lines:
            groups.setdefault(item[1], []).append(item)
        for folded, items in groups.items():
            try:
                self._recover_channel(folded, items, source)
            except Exception:
                log.exception(
                    "%s: could not log the history of %s", self.bot.config.name, items[0][0]
                )

    def _recover_channel(
        self, folded: str, items: list[tuple[str, str, LogRecord]], source: str
    ) -> None:
        bot = self.bot
        now = datetime.fromtimestamp(bot.wall(), UTC)
        channel = items[0][0]
        records = sorted(
            (r for _, _, r in items if r.time >= now - MAX_REPLAY_AGE), key=lambda r: r.time
        )
        if not records:
            return
        hold = self.holds.get(folded)
        gap = (hold.since, hold.joined) if hold is not None else self._recent.get(folded)
        start = records[0].time
        if gap is not None and gap[0] is not None and gap[0] < start:
            start = gap[0]
        fmt, logged = bot.own_log.since(folded, start - timedelta(seconds=DEDUPE_SLACK), now)
        if fmt is None:
            fmt = "jsonl"
        if hold is not None:
            logged += [Logged(r.time, content_key(r, fmt), r.msgid, False) for r in hold.live]
        fresh = new_lines(records, logged, lambda r: content_key(r, fmt))
        bot.stats.history_duplicates += len(records) - len(fresh)
        bot.stats.history_recovered += len(fresh)
        for record in fresh:
            bot._write(record.channel, folded, record)
        if hold is not None:
            hold.new += len(fresh)
            hold.sources.add(source)
            if hold.oldest is None or records[0].time < hold.oldest:
                hold.oldest = records[0].time
            return
        if not fresh or channel[:1] not in bot.chantypes():
            return  # nothing added, or a private log: no marker
        text = (
            f"recovered {len(fresh)} lines between {_iso(fresh[0].time)} and"
            f" {_iso(fresh[-1].time)} from the server's history ({source})"
        )
        if gap is not None and gap[0] is not None:
            text += f", in the gap from {_iso(gap[0])} to {_iso(gap[1])}"
        bot._write(channel, folded, bot.maker.marker("recovered", channel, text))

    def _gap_line(
        self,
        channel: str,
        folded: str,
        since: datetime,
        until: datetime,
        what: str,
        hold: _Hold | None,
    ) -> None:
        """The gap line at ``until`` (the rejoin): what remains missing of
        ``since``..``until`` after ``hold``'s history, if any."""
        bot = self.bot
        self._recent[folded] = (since, until)
        if len(self._recent) > 4 * max(16, len(bot.joined)):
            self._recent.pop(next(iter(self._recent)))
        kind, target = "gap", _iso_ms(since)
        oldest = hold.oldest if hold is not None else None
        if hold is None or oldest is None:
            text = f"{what}; events between {_iso(since)} and {_iso(until)} were not seen"
        else:
            sources = ", ".join(sorted(hold.sources))
            if hold.truncated is not None:
                text = (
                    f"{what}; events between {_iso(hold.truncated)} and {_iso(until)} were not"
                    f" seen; {hold.new} earlier lines recovered from the server's history"
                    f" ({sources})"
                )
                target = _iso_ms(hold.truncated)
            elif oldest <= since:
                kind = "recovered"
                text = (
                    f"{what}; events between {_iso(since)} and {_iso(until)} were recovered"
                    f" from the server's history ({hold.new} lines, {sources})"
                )
            else:
                text = (
                    f"{what}; events between {_iso(since)} and {_iso(oldest)} were not seen;"
                    f" {hold.new} lines from {_iso(oldest)} to {_iso(until)} recovered from"
                    f" the server's history ({sources})"
                )
        marker = bot.maker.marker(kind, channel, text, nick=bot.nickname(), target=target)
        bot._write(channel, folded, dataclasses.replace(marker, time=until))


def _format(command: str, *params: str) -> str:
    return format_message(Message(command, params))
