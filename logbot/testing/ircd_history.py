"""Chat history for the test IRC server: IRCv3 ``msgid``, ``batch`` and ``draft/chathistory``.

Off unless the server is built with ``history_size=N`` (N > 0); then every channel
keeps its last N PRIVMSG and NOTICE lines (CTCP other than ACTION is not kept, nor
TAGMSG), each with its ``time`` and ``msgid``, so that a bot can be tested catching up
after a gap (ircv3.net/specs/extensions/chathistory).  Why the choices below:

* The history is bounded twice: N lines per channel, and it is forgotten with the
  channel when the last member leaves, as the channel's topic and modes are.  Nothing
  is kept for private messages (they get a ``msgid`` all the same).  Lines never
  expire by age: that would take a timer, and the server starts none.
* A message's ``time`` is taken once, for every recipient and for the history, and
  never goes back: if the wall clock steps back, the time of the previous message is
  reused.  Time order is then storage order, which makes every query below a slice
  and gives the one consistent order the spec asks for (messages may share a time;
  their ``msgid`` still tells them apart).
* ``msgid`` is ``<prefix><counter in hex>``; the prefix is random per server (six hex
  digits and a dash; ``server.history.prefix`` may be set before the first message),
  so ids from a restarted test server do not collide with the old ones.
* ``CHATHISTORY`` without the ``draft/chathistory`` capability is an unknown command
  (``421``), as it is for a server without history.  The target must be a channel the
  user is in (else ``FAIL ... INVALID_TARGET``); its whole kept history is available,
  also from before the user joined: this server trusts everyone.
* ``limit``: ``0``, or more than ``history_limit`` (the ``CHATHISTORY=`` ISUPPORT
  token; 0 there means no maximum), asks for the most one request returns.
* A ``msgid`` that is not (or no longer) in the channel's history is an error
  (``FAIL ... MESSAGE_ERROR``), not an empty batch: a client paging from a message
  that was evicted learns that it missed some, instead of thinking nothing came since.
* ``AROUND`` returns ``limit // 2`` messages before the reference and the rest from it
  on (the referenced message itself included), shifted to fill ``limit`` near either
  end.  ``BETWEEN`` runs forwards or backwards as its two references say, excluding
  both; a backwards one keeps the newest ``limit``.  Every batch is in time order.
* ``TARGETS`` lists the user's channels with messages strictly between its two
  timestamps, each with the time of its latest message in that range, oldest first.
* Replies are batches only for a user with ``batch``: without it the same lines come
  with no ``BATCH`` lines and no ``batch`` tag (the batch spec forbids both).  Replayed
  lines carry ``time``, ``msgid`` and the sender's ``account`` as when they were sent,
  each as the user's capabilities ask (``server.send`` decides).
"""

from __future__ import annotations

import re
import secrets
import time
from bisect import bisect_left, bisect_right
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import count
from typing import Protocol

from logbot.irc.message import Message
from logbot.irc.registry import HandlerTable
from logbot.testing.ircd_commands import fold
from logbot.testing.ircd_users import Channel, Server, User

__all__ = ["CAP", "HANDLERS", "Entry", "History", "format_millis"]

CAP = "draft/chathistory"
SUBCOMMANDS = {"BEFORE": 1, "AFTER": 1, "LATEST": 1, "AROUND": 1, "BETWEEN": 2}  # references
_TIMESTAMP = re.compile(
    r"timestamp=([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})"
    r"(?:\.([0-9]{1,9}))?Z\Z"
)
_LIMIT = re.compile(r"[0-9]+\Z")


def format_millis(millis: int) -> str:
    """``YYYY-MM-DDThh:mm:ss.sssZ`` for milliseconds since the epoch."""
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(millis // 1000))
    return f"{stamp}.{millis % 1000:03d}Z"


@dataclass(frozen=True, slots=True)
class Entry:
    """One kept message, as it was first relayed."""

    millis: int  # its time, in milliseconds since the epoch
    time: str  # the same, as the ``time`` tag carried it
    msgid: str
    source: str  # the sender's prefix then
    account: str | None  # the sender's account then
    command: str  # PRIVMSG or NOTICE
    target: str  # the channel's name
    text: str
    tags: Mapping[str, str | None]  # client-only tags (``+...``)


class History:
    """The kept messages of every channel, and the msgid and batch counters."""

    def __init__(self, size: int, limit: int) -> None:
        if size < 0 or limit < 0:
            raise ValueError("history_size and history_limit cannot be negative")
        self.size = size  # lines kept per channel; 0: no history
        self.limit = limit  # the most lines one request returns; 0: no maximum
        self.prefix = secrets.token_hex(3) + "-"
        self._channels: dict[str, deque[Entry]] = {}  # folded name -> oldest first
        self._ids = count(1)
        self._batches = count(1)
        self._last = 0  # the time of the last message, in milliseconds

    def record(
        self,
        wall: Callable[[], float],
        channel: Channel | None,
        sender: User,
        command: str,
        text: str,
        tags: Mapping[str, str | None],
    ) -> dict[str, str] | None:
        """The ``time`` and ``msgid`` of a PRIVMSG or NOTICE relayed now (None without
        history); kept if it went to ``channel`` (None: a private message) and is no
        CTCP but ACTION."""
        if not self.size:
            return None
        self._last = millis = max(int(wall() * 1000), self._last)
        meta = {"time": format_millis(millis), "msgid": f"{self.prefix}{next(self._ids):x}"}
        ctcp = text.startswith("\x01") and text[1:8].rstrip("\x01 ") != "ACTION"
        if channel is not None and not ctcp:
            lines = self._channels.get(fold(channel.name))
            if lines is None:
                lines = self._channels[fold(channel.name)] = deque(maxlen=self.size)
            lines.append(
                Entry(
                    millis,
                    meta["time"],
                    meta["msgid"],
                    sender.prefix,
                    sender.account,
                    command,
                    channel.name,
                    text,
                    dict(tags),
                )
            )
        return meta

    def lines(self, channel: str) -> list[Entry]:
        """The kept messages of ``channel`` (any case), oldest first."""
        return list(self._channels.get(fold(channel), ()))

    def forget(self, channel: str) -> None:
        """``channel`` ceased to exist: its history goes with it."""
        self._channels.pop(fold(channel), None)

    def isupport(self) -> tuple[str, ...]:
        """The ISUPPORT (005) tokens of history, none without."""
        if not self.size:
            return ()
        return f"CHATHISTORY={self.limit}", "MSGREFTYPES=timestamp,msgid"

    def batch_ref(self) -> str:
        return f"h{next(self._batches)}"


class HistoryServer(Server, Protocol):
    """What the CHATHISTORY handler uses of the server: a ``Server`` with ``history``."""

    history: History


Handler = Callable[[HistoryServer, User, Message], None]
HANDLERS: HandlerTable[Handler] = HandlerTable()

# A reference: ("*", 0), ("timestamp", milliseconds) or ("msgid", id).
Ref = tuple[str, int | str]


@HANDLERS.on("CHATHISTORY")
def chathistory(server: HistoryServer, user: User, msg: Message) -> None:
    """``CHATHISTORY <subcommand> <target> <reference>... <limit>`` (see the docstring)."""
    if CAP not in user.caps:
        server.reply(user, "421", msg.command, "Unknown command")
        return
    params = msg.params
    if not params or not params[0]:
        _fail(server, user, "NEED_MORE_PARAMS", "Missing parameters")
        return
    sub = params[0].upper()
    if sub == "TARGETS":
        _targets(server, user, params[1:])
        return
    wanted = SUBCOMMANDS.get(sub)
    if wanted is None:
        _fail(server, user, "UNKNOWN_COMMAND", _safe(params[0]), "Unknown command")
        return
    if len(params) < 3 + wanted or not all(params[1 : 3 + wanted]):
        _fail(server, user, "NEED_MORE_PARAMS", sub, "Missing parameters")
        return
    target, raw_refs, raw_limit = params[1], params[2 : 2 + wanted], params[2 + wanted]
    refs: list[Ref] = []
    for raw in raw_refs:
        ref = _parse_ref(raw, star=sub == "LATEST")
        if ref is None:
            _fail(server, user, "INVALID_PARAMS", sub, _safe(raw), "Invalid message reference")
            return
        refs.append(ref)
    limit = _parse_limit(server.history, raw_limit)
    if limit is None:
        _fail(server, user, "INVALID_PARAMS", sub, _safe(raw_limit), "Invalid limit")
        return
    channel = user.channels.get(fold(target))
    if channel is None:
        _fail(server, user, "INVALID_TARGET", sub, _safe(target), "Messages could not be retrieved")
        return
    entries = server.history.lines(channel.name)
    bounds = []
    for raw, ref in zip(raw_refs, refs, strict=True):
        bound = _bounds(entries, ref)
        if bound is None:
            _fail(server, user, "MESSAGE_ERROR", sub, channel.name, _safe(raw), "Unknown msgid")
            return
        bounds.append(bound)
    found = _select(sub, entries, bounds, limit)
    batch = _open_batch(server, user, "chathistory", channel.name)
    for entry in found:
        meta = {"time": entry.time, "msgid": entry.msgid, "batch": batch, "account": entry.account}
        server.send(
            user,
            entry.command,
            entry.target,
            entry.text,
            source=entry.source,
            tags=dict(entry.tags),
            meta=meta,
        )
    _close_batch(server, user, batch)


def _select(
    sub: str, entries: list[Entry], bounds: list[tuple[int, int]], limit: int
) -> list[Entry]:
    """The entries a subcommand asks for, given its references' bounds (see ``_bounds``)."""
    lo, hi = bounds[0]
    if sub == "BEFORE":
        return entries[:lo][-limit:]
    if sub == "AFTER":
        return entries[hi:][:limit]
    if sub == "LATEST":
        return entries[hi:][-limit:]
    if sub == "AROUND":
        start = max(0, min(lo - limit // 2, len(entries) - limit))
        return entries[start : start + limit]
    lo2, hi2 = bounds[1]  # BETWEEN
    if hi <= lo2:
        return entries[hi:lo2][:limit]
    if hi2 <= lo:
        return entries[hi2:lo][-limit:]
    return []


def _bounds(entries: Sequence[Entry], ref: Ref) -> tuple[int, int] | None:
    """``(lo, hi)``: ``entries[:lo]`` are before ``ref`` and ``entries[hi:]`` after it
    (both excluding it); None for a msgid that is not there."""
    kind, value = ref
    if kind == "*":
        return 0, 0
    if kind == "msgid":
        for i, entry in enumerate(entries):
            if entry.msgid == value:
                return i, i + 1
        return None
    millis = int(value)  # entries are in time order (see the docstring)
    return (
        bisect_left(entries, millis, key=_millis),
        bisect_right(entries, millis, key=_millis),
    )


def _millis(entry: Entry) -> int:
    return entry.millis


def _targets(server: HistoryServer, user: User, params: tuple[str, ...]) -> None:
    """``CHATHISTORY TARGETS timestamp=<a> timestamp=<b> <limit>``."""
    if len(params) < 3 or not all(params[:3]):
        _fail(server, user, "NEED_MORE_PARAMS", "TARGETS", "Missing parameters")
        return
    stamps: list[int] = []
    for raw in params[:2]:
        ref = _parse_ref(raw, star=False)
        if ref is None or ref[0] != "timestamp":
            _fail(server, user, "INVALID_PARAMS", "TARGETS", _safe(raw), "Invalid timestamp")
            return
        stamps.append(int(ref[1]))
    limit = _parse_limit(server.history, params[2])
    if limit is None:
        _fail(server, user, "INVALID_PARAMS", "TARGETS", _safe(params[2]), "Invalid limit")
        return
    first, second = stamps
    low, high = min(first, second), max(first, second)
    found: list[Entry] = []
    for channel in user.channels.values():
        latest = [e for e in server.history.lines(channel.name) if low < e.millis < high][-1:]
        found.extend(latest)
    found.sort(key=lambda entry: (entry.millis, entry.target))
    found = found[:limit] if first <= second else found[-limit:]
    batch = _open_batch(server, user, "draft/chathistory-targets")
    for entry in found:
        server.send(user, "CHATHISTORY", "TARGETS", entry.target, entry.time, meta={"batch": batch})
    _close_batch(server, user, batch)


# -- helpers ------------------------------------------------------------------------------


def _parse_ref(raw: str, star: bool) -> Ref | None:
    if raw == "*":
        return ("*", 0) if star else None
    if raw.startswith("msgid="):
        return ("msgid", raw[6:]) if len(raw) > 6 else None
    match = _TIMESTAMP.match(raw)
    if match is None:
        return None
    year, month, day, hour, minute, second = (int(part) for part in match.groups()[:6])
    try:
        when = datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except ValueError:  # 2024-02-30 and the like
        return None
    millis = int((match.group(7) or "0")[:3].ljust(3, "0"))
    return "timestamp", int(when.timestamp()) * 1000 + millis


def _parse_limit(history: History, raw: str) -> int | None:
    """A non-negative count, capped at the server's limit (0: the most allowed)."""
    if _LIMIT.match(raw) is None:
        return None
    most = history.limit or history.size
    wanted = int(raw) if len(raw) <= 9 else most
    return min(wanted, most) if wanted else most


def _safe(param: str) -> str:
    """A parameter the user sent, made fit to be a middle parameter of our reply."""
    return param if param and " " not in param and not param.startswith(":") else "*"


def _fail(server: Server, user: User, code: str, *context: str) -> None:
    """``FAIL CHATHISTORY <code> <context...> :<description>`` (standard replies)."""
    server.send(user, "FAIL", "CHATHISTORY", code, *context)


def _open_batch(server: HistoryServer, user: User, kind: str, *params: str) -> str | None:
    """``BATCH +ref kind params`` for a user with ``batch``: its ref; else None."""
    if "batch" not in user.caps:
        return None
    ref = server.history.batch_ref()
    server.send(user, "BATCH", "+" + ref, kind, *params)
    return ref


def _close_batch(server: Server, user: User, ref: str | None) -> None:
    if ref is not None:
        server.send(user, "BATCH", "-" + ref)
