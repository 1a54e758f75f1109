"""PRIVMSG and NOTICE into events: messages, actions, CTCP queries and replies.

Used for received lines and, when the server does not echo them
(no ``echo-message``), for the lines we send, so that both produce the very
same events.  CTCP queries from others are answered here (rate-limited by
:class:`~logbot.irc.ctcp.CtcpResponder`); our own are never answered.
"""

from __future__ import annotations

from collections.abc import Callable

from logbot.irc import events as ev
from logbot.irc.ctcp import Ctcp, CtcpResponder, parse_ctcp
from logbot.irc.message import Message, format, split_userhost
from logbot.irc.state import IRCState

__all__ = ["ChatEvents"]


class ChatEvents:
    def __init__(self, state: IRCState, version: str, ctcp_time: Callable[[], str] | None) -> None:
        self.state = state
        self.responder = CtcpResponder(version)
        self.ctcp_time = ctcp_time

    def _is_private(self, target: str) -> bool:
        # STATUSMSG targets ("@#chan": to the channel's ops) are channel messages.
        return not self.state.isupport.is_channel(target.lstrip(self.state.isupport.prefix[1]))

    def classify(self, msg: Message, source: str) -> list[ev.Event]:
        """The event for one PRIVMSG/NOTICE from ``source``."""
        if msg.command not in ("PRIVMSG", "NOTICE") or len(msg.params) < 2:
            return []
        target, text = msg.params[0], msg.params[1]
        is_self = self.state.is_self(split_userhost(source).nick)
        common = dict(source=source, target=target, is_self=is_self, **ev.meta(msg))
        ctcp = parse_ctcp(text)
        if ctcp is None:
            kind = ev.Privmsg if msg.command == "PRIVMSG" else ev.Notice
            return [kind(text=text, private=self._is_private(target), **common)]
        if ctcp.command == "ACTION" and msg.command == "PRIVMSG":
            return [ev.Action(text=ctcp.argument, private=self._is_private(target), **common)]
        ctcp_kind = ev.CtcpQuery if msg.command == "PRIVMSG" else ev.CtcpReply
        return [ctcp_kind(command=ctcp.command, argument=ctcp.argument, **common)]

    def incoming(self, msg: Message, now: float) -> tuple[list[ev.Event], list[str]]:
        """Events for a received line, and the CTCP reply lines to send."""
        events = self.classify(msg, msg.source or "")
        replies: list[str] = []
        for event in events:
            if type(event) is ev.CtcpQuery and not event.is_self:
                nick = split_userhost(event.source).nick
                time_text = None
                if self.ctcp_time is not None and event.command == "TIME":
                    time_text = self.ctcp_time()
                answer = self.responder.reply(Ctcp(event.command, event.argument), now, time_text)
                try:
                    if nick and answer:
                        replies.append(format(Message("NOTICE", (nick, answer))))
                except ValueError:  # a source nick that cannot be a target
                    pass
        return events, replies

    def own_line(self, msg: Message, mask: str) -> list[ev.Event]:
        """Events for a line we sent (only PRIVMSG/NOTICE give any)."""
        return self.classify(msg, mask)
