"""PRIVMSG and NOTICE into events: messages, actions, CTCP queries and replies.

Used for received lines and, when the server does not echo them
(no ``echo-message``), for the lines we send, so that both produce the very
same events.  CTCP queries from others are answered here (rate-limited by
:class:`~logbot.irc.ctcp.CtcpResponder`); our own are never answered.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from logbot.irc import events as ev
from logbot.irc.ctcp import DELIM, Ctcp, CtcpResponder, parse_ctcp
from logbot.irc.message import NO_TAGS, Message, _parse_tags, format, split_userhost
from logbot.irc.state import IRCState

__all__ = ["MAX_HEADS", "ChatEvents"]

#: Line heads (``:source PRIVMSG target``) whose parts ``received_line`` keeps; past
#: it the cache starts again.
MAX_HEADS = 4096
_from_iso = datetime.fromisoformat
# (our nick, CHANTYPES as a set: valid while both are these very objects), the event
# class, source, target, folded nick, user, host, is_self, private.
_Head = tuple[str, frozenset[str], type[ev.Privmsg], str, str, str, str, str, bool, bool]


class ChatEvents:
    def __init__(self, state: IRCState, version: str, ctcp_time: Callable[[], str] | None) -> None:
        self.state = state
        self.responder = CtcpResponder(version)
        self.ctcp_time = ctcp_time
        self._heads: dict[str, _Head] = {}  # received_line's, by the line's head

    def _is_private(self, target: str) -> bool:
        """Not a channel (:meth:`ISupport.channel_of`), in the order that costs a channel
        line one set lookup; STATUSMSG targets ("@#chan") are channel messages.  The
        three paths below inline it: they run for every line."""
        isupport = self.state.isupport
        first = target[:1]
        return first not in isupport.channel_starts and (
            first not in isupport.status_starts or isupport.channel_of(target) is None
        )

    def classify(self, msg: Message, source: str) -> list[ev.Event]:
        """The event for one PRIVMSG/NOTICE from ``source``.

        Runs for every message: the plain-text case is written out (no helper
        calls, the event built by ``new_privmsg``); CTCP takes the long way."""
        command, params = msg.command, msg.params
        if (command != "PRIVMSG" and command != "NOTICE") or len(params) < 2:
            return []
        target, text = params[0], params[1]
        state = self.state
        isupport = state.isupport
        folded = isupport.folded
        # state.is_self(split_userhost(source).nick), inlined; casefolding keeps lengths
        nick, me = source.partition("@")[0].partition("!")[0], state.nick
        is_self = len(nick) == len(me) and (nick == me or folded[nick] == folded[me])
        tags = msg.tags
        if tags is NO_TAGS:
            time = msgid = None
        else:
            time, msgid, tags = ev.meta_tuple(msg)
        first = target[:1]  # _is_private, inlined
        private = first not in isupport.channel_starts and (
            first not in isupport.status_starts or isupport.channel_of(target) is None
        )
        if text[:1] != DELIM or len(text) < 2:  # not a CTCP (parse_ctcp's first test)
            kind = ev.Privmsg if command == "PRIVMSG" else ev.Notice
            return [ev.new_privmsg(kind, source, target, text, is_self, private, time, msgid, tags)]
        ctcp = parse_ctcp(text)
        if ctcp is None:
            kind = ev.Privmsg if command == "PRIVMSG" else ev.Notice
            return [ev.new_privmsg(kind, source, target, text, is_self, private, time, msgid, tags)]
        if ctcp.command == "ACTION" and command == "PRIVMSG":
            return [
                ev.new_privmsg(
                    ev.Action, source, target, ctcp.argument, is_self, private, time, msgid, tags
                )
            ]
        ctcp_kind = ev.CtcpQuery if command == "PRIVMSG" else ev.CtcpReply
        return [
            ctcp_kind(
                command=ctcp.command,
                argument=ctcp.argument,
                source=source,
                target=target,
                is_self=is_self,
                time=time,
                msgid=msgid,
                tags=tags,
            )
        ]

    def received_line(self, line: str) -> ev.Privmsg | None:
        """Everything ``parse`` + ``IRCState.apply`` + :meth:`incoming` do for a
        plain PRIVMSG or NOTICE in the shape servers send, ``:source PRIVMSG target
        :text`` (tags or none, single spaces, not CTCP), in one step and without making a
        Message: the event.  ``None`` for any other line, which the caller then
        takes the general way.  For a caller that wants no RawMessage for these.
        (tests/irc/test_core.py checks it against the general way.)

        What follows from the line's head (``:source PRIVMSG target``) alone, its parts
        and whether it is ours or private, is kept for the next line with that head
        (:meth:`_head`): a channel's talk is a few people saying many lines."""
        tags = NO_TAGS
        time = msgid = None
        if line[:1] == "@":  # tags (server-time, msgid, account): parsed as parse() does
            raw_tags, sep, line = line[1:].partition(" ")
            if not sep:
                return None
            tags = _parse_tags(raw_tags) or NO_TAGS
            if tags is not NO_TAGS:
                if "batch" in tags:  # maybe history: the general path decides
                    return None
                msgid = tags.get("msgid")
                stamp = tags.get("time")
                if stamp:  # ev.parse_server_time, written out
                    try:
                        time = _from_iso(stamp)
                    except ValueError:
                        pass
                    else:
                        if time.tzinfo is None:
                            time = None
        head, sep, text = line.partition(" :")
        if not sep or text[:1] == DELIM:
            return None
        state = self.state
        known = self._heads.get(head)
        if (
            known is None
            or known[0] is not state.nick
            or known[1] is not state.isupport.channel_starts
        ):
            known = self._head(head)
            if known is None:
                return None
        # IRCState.apply: learn user@host of a known user (no handler for PRIVMSG/NOTICE)
        user = state.users.get(known[5])
        if user is not None:
            if known[6]:
                user.user = known[6]
            if known[7]:
                user.host = known[7]
            if tags is not NO_TAGS:
                account = tags.get("account")  # account-tag
                if account is not None:
                    user.account = account
        return ev.new_privmsg(
            known[2], known[3], known[4], text, known[8], known[9], time, msgid, tags
        )

    def _head(self, head: str) -> _Head | None:
        """What :meth:`received_line` needs of ``:source COMMAND target`` (None: not
        that shape), kept in ``_heads`` (emptied at :data:`MAX_HEADS`)."""
        parts = head.split(" ")
        if len(parts) != 3:
            return None
        source, command, target = parts
        if (
            (command != "PRIVMSG" and command != "NOTICE")
            or source[:1] != ":"
            or len(source) < 2
            or not target
            or target[0] == ":"
        ):
            return None
        source = source[1:]
        state = self.state
        isupport = state.isupport
        folded = isupport.folded
        rest, _, host = source.partition("@")
        nick, _, user_name = rest.partition("!")
        me = state.nick
        first = target[0]  # _is_private, inlined (target is not empty here)
        known: _Head = (
            me,
            isupport.channel_starts,
            ev.Privmsg if command == "PRIVMSG" else ev.Notice,
            source,
            target,
            folded[nick],
            user_name,
            host,
            len(nick) == len(me) and (nick == me or folded[nick] == folded[me]),
            first not in isupport.channel_starts
            and (first not in isupport.status_starts or isupport.channel_of(target) is None),
        )
        heads = self._heads
        if len(heads) >= MAX_HEADS:
            heads.clear()
        heads[head] = known
        return known

    def incoming(self, msg: Message, now: float, send: Callable[[str], None]) -> list[ev.Event]:
        """Events for a received line; CTCP replies are passed to ``send``."""
        params = msg.params
        source = msg.source
        if len(params) == 2 and source and params[1][:1] != DELIM:
            # A plain message: classify() written out, one call less.
            target, text = params
            time, msgid, tags = ev.meta_tuple(msg)
            state = self.state
            isupport = state.isupport
            folded = isupport.folded
            nick, me = source.partition("@")[0].partition("!")[0], state.nick
            first = target[:1]  # _is_private, inlined
            return [
                ev.new_privmsg(
                    ev.Privmsg if msg.command == "PRIVMSG" else ev.Notice,
                    source,
                    target,
                    text,
                    len(nick) == len(me) and (nick == me or folded[nick] == folded[me]),
                    first not in isupport.channel_starts
                    and (
                        first not in isupport.status_starts or isupport.channel_of(target) is None
                    ),
                    time,
                    msgid,
                    tags,
                )
            ]
        events = self.classify(msg, source or "")
        if events and type(events[0]) is ev.CtcpQuery:
            self._answer(events[0], now, send)
        return events

    def _answer(self, event: ev.CtcpQuery, now: float, send: Callable[[str], None]) -> None:
        if event.is_self:
            return
        nick = split_userhost(event.source).nick
        time_text = None
        if self.ctcp_time is not None and event.command == "TIME":
            time_text = self.ctcp_time()
        answer = self.responder.reply(Ctcp(event.command, event.argument), now, time_text)
        try:
            if nick and answer:
                send(format(Message("NOTICE", (nick, answer))))
        except ValueError:  # a source nick that cannot be a target
            pass

    def own_line(self, msg: Message, mask: str) -> list[ev.Event]:
        """Events for a line we sent (only PRIVMSG/NOTICE give any)."""
        return self.classify(msg, mask)
