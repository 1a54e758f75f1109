"""Typed IRC events into log records, one per channel the event belongs in.

The IRC core already did the hard part: a QUIT or NICK event carries the channels
we shared with that user (computed before the state forgot them), a JOIN carries
the account from extended-join, every event carries its ``server-time``.  This
module only decides *which log* gets *which record*:

- channel messages, actions and notices go to their channel (a STATUSMSG target
  such as ``@#chan`` to ``#chan``, the record's ``target`` then ``@#chan``); private
  ones to a log named after the other nick, which the policy drops unless private
  logging is on;
- QUIT, NICK, CHGHOST, SETNAME and AWAY go to every channel in the event;
- a channel RENAME goes to both names: ``renamed_to`` the old one's log, ``renamed_from``
  the new one's (one line when only the case changed: one log);
- the topic shown on join (332) is held until 333 names its setter, or until the
  end of NAMES (366) when no 333 comes.

Times: the ``server-time`` tag when present (``time_source`` "server"), else
``wall()`` now ("local").  ``wall`` is injected: tests pass a fake clock.  A tag that
does not parse as a time is kept as the record's ``server_time`` ("invalid"), so the
JSONL says why the line has our time.  Whether a parsed stamp is close enough to our
clock to date the line is the writer's call, per channel (``server_time_tolerance``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from logbot.irc import events as ev
from logbot.irc.message import SourceParts, split_userhost
from logbot.logs.record import LogRecord

__all__ = ["RecordMaker", "mode_string"]

Out = list[tuple[str, LogRecord]]  # (channel name as written, record)
_SPOKEN = {ev.Privmsg: "message", ev.Action: "action", ev.Notice: "notice"}


def mode_string(changes: tuple[ev.ModeChange, ...]) -> str:
    """``(+o x, +v y, -b m)`` -> ``+ov-b x y m``: the wire form, as people read it."""
    letters: list[str] = []
    params: list[str] = []
    sign = ""
    for change in changes:
        wanted = "+" if change.adding else "-"
        if wanted != sign:
            letters.append(wanted)
            sign = wanted
        letters.append(change.mode)
        if change.param is not None:
            params.append(change.param)
    return " ".join(["".join(letters), *params])


class RecordMaker:
    """Makes the records of one network's events (state comes from the IRC core)."""

    def __init__(self, network: str, wall: Callable[[], float]) -> None:
        self.network = network
        self.wall = wall
        self._topics: dict[str, tuple[Any, str | None]] = {}  # folded -> (332 event, folded)
        self._sources = SourceParts()  # message_pair's nick, user, host of each source
        self._handlers: dict[type, Callable[[Any, Any], Out]] = {
            ev.Privmsg: self.message,
            ev.Action: self.message,
            ev.Notice: self.message,
            ev.Joined: self._joined,
            ev.Parted: self._parted,
            ev.Kicked: self._kicked,
            ev.Quit: self._quit,
            ev.NickChanged: self._nick,
            ev.ModeChanged: self._mode,
            ev.Topic: self._topic,
            ev.ChgHost: self._chghost,
            ev.SetName: self._setname,
            ev.Away: self._away,
            ev.ChannelRenamed: self._renamed,
            ev.RawMessage: self._raw,
        }

    def reset(self) -> None:
        """A connection ended: a topic held for its 333 will not get it."""
        self._topics.clear()

    # -- entry point ------------------------------------------------------------------

    def records(self, event: ev.Event, state: Any) -> Out:
        """The ``(channel, record)`` pairs for ``event``; ``state`` is the core's
        IRCState (for accounts, hosts and case folding)."""
        handler = self._handlers.get(type(event))
        if handler is None:
            return []
        return handler(event, state)

    def now(self, event: ev.Event) -> tuple[datetime, str]:
        if event.time is not None:
            return event.time, "server"
        return datetime.fromtimestamp(self.wall(), UTC), "local"

    def marker(
        self, kind: str, channel: str, text: str, nick: str | None = None, target: str | None = None
    ) -> LogRecord:
        """A line of our own (connect, disconnect, gap) at our clock's time."""
        return LogRecord(
            datetime.fromtimestamp(self.wall(), UTC),
            "local",
            kind,
            self.network,
            channel,
            nick=nick,
            text=text,
            target=target,
        )

    def _record(
        self,
        event: ev.Event,
        kind: str,
        channel: str,
        source: str | None,
        state: Any,
        **fields: Any,
    ) -> LogRecord:
        when, where = self.now(event)
        raw = event.tags.get("time") if where == "local" and event.tags else None
        nick = user = host = None
        if source:
            nick, user, host = split_userhost(source)
        account = fields.pop("account", None)
        if account is None and nick is not None:
            account = event.tags.get("account") if event.tags else None
            if account is None:
                known = state.user(nick)
                account = known.account if known is not None else None
        return LogRecord(
            when,
            where,
            kind,
            self.network,
            channel,
            nick,
            user,
            host,
            account,
            msgid=event.msgid,
            tags=event.tags,
            server_time=raw,
            server_time_rejected=None if raw is None else "invalid",
            **fields,
        )

    # -- messages ---------------------------------------------------------------------

    def message(self, event: ev.Privmsg, state: Any) -> Out:
        pair = self.message_pair(event, state)
        return [] if pair is None else [pair]

    def message_pair(self, event: ev.Privmsg, state: Any) -> tuple[str, LogRecord] | None:
        """Most lines: written out (no ``_record``, no keyword arguments, no list)."""
        kind = _SPOKEN[type(event)]
        source = event.source
        nick, user, host = self._sources[source]
        target = None
        if event.private:
            if event.is_self:
                channel = event.target
            elif not source or ("!" not in source and "." in nick):
                return None  # a server notice, not a person: no private log
            else:
                channel = nick
        else:
            channel = event.target
            if channel[:1] not in state.isupport.channel_starts:
                # STATUSMSG ("@#chan": to the ops): #chan's line, its target kept to say
                # so.  Only STATUSMSG prefixes go: "&" and "+" start channels on ngircd.
                channel = state.isupport.channel_of(channel) or channel
                target = event.target
        tags = event.tags
        account = tags.get("account") if tags else None
        if account is None:
            known = state.users.get(state.isupport.folded[nick])
            account = known.account if known is not None else None
        when = event.time
        if when is None:
            when, where = datetime.fromtimestamp(self.wall(), UTC), "local"
            raw = tags.get("time") if tags else None  # a time tag that did not parse
        else:
            where, raw = "server", None
        return channel, LogRecord(
            when,
            where,
            kind,
            self.network,
            channel,
            nick,
            user or None,
            host or None,
            account,
            event.text,
            target,
            event.msgid,
            tags,
            raw,
            None if raw is None else "invalid",
        )

    # -- membership -------------------------------------------------------------------

    def _joined(self, event: ev.Joined, state: Any) -> Out:
        return [
            (
                event.channel,
                self._record(
                    event, "join", event.channel, event.source, state, account=event.account
                ),
            )
        ]

    def _parted(self, event: ev.Parted, state: Any) -> Out:
        return [
            (
                event.channel,
                self._record(event, "part", event.channel, event.source, state, text=event.reason),
            )
        ]

    def _kicked(self, event: ev.Kicked, state: Any) -> Out:
        return [
            (
                event.channel,
                self._record(
                    event,
                    "kick",
                    event.channel,
                    event.source,
                    state,
                    text=event.reason,
                    target=event.nick,
                ),
            )
        ]

    def _quit(self, event: ev.Quit, state: Any) -> Out:
        return [
            (name, self._record(event, "quit", name, event.source, state, text=event.reason))
            for name in event.channels
        ]

    def _nick(self, event: ev.NickChanged, state: Any) -> Out:
        return [
            (name, self._record(event, "nick", name, event.source, state, target=event.new))
            for name in event.channels
        ]

    def _renamed(self, event: ev.ChannelRenamed, state: Any) -> Out:
        old, new = event.old, event.new
        source = event.source if "!" in event.source else None  # a server names no one
        records = [
            (old, self._record(event, "renamed_to", old, source, state,
                               text=event.reason, target=new)),
        ]  # fmt: skip
        if state.fold(old) != state.fold(new):
            records.append(
                (new, self._record(event, "renamed_from", new, source, state,
                                   text=event.reason, target=old))
            )  # fmt: skip
        return records

    # -- channel state ----------------------------------------------------------------

    def _mode(self, event: ev.ModeChanged, state: Any) -> Out:
        target = event.target
        if not target or target[0] not in state.isupport.chantypes:
            return []  # a user mode on us: not a channel event
        return [
            (
                target,
                self._record(
                    event, "mode", target, event.source, state, text=mode_string(event.changes)
                ),
            )
        ]

    def _topic(self, event: ev.Topic, state: Any) -> Out:
        if event.is_change:
            return [
                (
                    event.channel,
                    self._record(
                        event, "topic", event.channel, event.setter, state, text=event.topic or ""
                    ),
                )
            ]
        if event.topic is None:
            return []  # 331: no topic set
        pending = self._flush_topic(state.fold(event.channel), None, state)
        self._topics[state.fold(event.channel)] = (event, None)
        return pending

    def _raw(self, event: ev.RawMessage, state: Any) -> Out:
        msg = event.message
        if msg.command == "333" and len(msg.params) >= 3:  # me #chan setter time
            return self._flush_topic(state.fold(msg.params[1]), msg.params[2], state)
        if msg.command == "366" and len(msg.params) >= 2:  # end of NAMES
            return self._flush_topic(state.fold(msg.params[1]), None, state)
        return []

    def _flush_topic(self, key: str, setter: str | None, state: Any) -> Out:
        held = self._topics.pop(key, None)
        if held is None:
            return []
        shown = held[0]
        record = self._record(shown, "topic_info", shown.channel, None, state, text=shown.topic)
        if setter:
            nick, user, host = split_userhost(setter)
            record = LogRecord(
                record.time,
                record.time_source,
                record.type,
                record.network,
                record.channel,
                nick,
                user,
                host,
                None,
                record.text,
                msgid=record.msgid,
                tags=record.tags,
                server_time=record.server_time,
                server_time_rejected=record.server_time_rejected,
            )
        return [(shown.channel, record)]

    # -- user state -------------------------------------------------------------------

    def _chghost(self, event: ev.ChgHost, state: Any) -> Out:
        return [
            (
                name,
                self._record(
                    event, "chghost", name, event.nick, state, target=f"{event.user}@{event.host}"
                ),
            )
            for name in event.channels
        ]

    def _setname(self, event: ev.SetName, state: Any) -> Out:
        return [
            (name, self._record(event, "setname", name, event.nick, state, text=event.realname))
            for name in event.channels
        ]

    def _away(self, event: ev.Away, state: Any) -> Out:
        kind = "back" if event.message is None else "away"
        return [
            (name, self._record(event, kind, name, event.nick, state, text=event.message))
            for name in event.channels
        ]
