"""The core's handlers of server messages, by command (see :mod:`logbot.irc.core`).

Each takes the connection, the message and ``now`` and returns the events it
caused; requests to the server go through ``conn._send``.  PRIVMSG and NOTICE
have no entry: ``IRCConnection.receive_data`` hands them to
:class:`~logbot.irc.chat.ChatEvents` itself, on the path every chat line takes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from logbot.irc import events as ev
from logbot.irc.batches import Batch, Batches
from logbot.irc.caps import CapNegotiator, CapUpdate
from logbot.irc.lag import LagProbe
from logbot.irc.message import Message, format
from logbot.irc.nick import NickChooser
from logbot.irc.registry import HandlerTable
from logbot.irc.sasl import SaslConfig, SaslSession
from logbot.irc.state import IRCState
from logbot.irc.sts import parse_sts

__all__ = ["HANDLERS", "STANDARD_REPLIES", "Connection"]


class Connection(Protocol):
    """What a handler may use of :class:`~logbot.irc.core.IRCConnection`.

    Why a protocol and not the class: the connection imports this table, so the
    table names the connection's parts it touches here instead of importing it back;
    mypy checks that ``IRCConnection`` has each of them.
    """

    state: IRCState
    batches: Batches
    caps: CapNegotiator
    sasl_config: SaslConfig | None
    sasl: SaslSession | None
    lag_probe: LagProbe
    nicks: NickChooser
    registered: bool
    closed: bool
    _held: list[str]

    @property
    def current_nick(self) -> str: ...

    def _send(self, line: str) -> None: ...

    def _has_wanted_nick(self) -> bool: ...

    def _abort(self, reason: str) -> list[ev.Event]: ...

    def _sasl_settled(self, now: float) -> list[ev.Event]: ...

    def _caps_ready(self, now: float) -> list[ev.Event]: ...

    def _sasl_unavailable(self, reason: str) -> list[ev.Event]: ...


Handler = Callable[[Connection, Message, float], list[ev.Event]]
HANDLERS: HandlerTable[Handler] = HandlerTable()
_SASL_COMMANDS = ("AUTHENTICATE", "900", "902", "903", "904", "905", "906", "907", "908")


@HANDLERS.on("PING")
def _ping(conn: Connection, msg: Message, now: float) -> list[ev.Event]:
    conn._send(format(Message("PONG", msg.params[-1:])))
    return []


@HANDLERS.on("CAP")
def _cap(conn: Connection, msg: Message, now: float) -> list[ev.Event]:
    update: CapUpdate = conn.caps.handle(msg)
    for line in update.lines:
        conn._send(line)
    out: list[ev.Event] = []
    if update.sts is not None:  # first: an upgrade closes the connection before SASL
        sts = parse_sts(update.sts)
        out.append(
            ev.StsAdvertised(
                port=sts.port, duration=sts.duration, preload=sts.preload, **ev.meta(msg)
            )
        )
    if update.changed:
        out.append(ev.CapsChanged(enabled=frozenset(conn.caps.enabled), **ev.meta(msg)))
    if update.ready and not conn.registered:
        out.extend(conn._caps_ready(now))
    return out


@HANDLERS.on(*_SASL_COMMANDS)
def _sasl(conn: Connection, msg: Message, now: float) -> list[ev.Event]:
    if conn.sasl is None:
        return []
    for line in conn.sasl.handle(msg, now):
        conn._send(line)
    return conn._sasl_settled(now)


@HANDLERS.on("001")
def _welcome(conn: Connection, msg: Message, now: float) -> list[ev.Event]:
    conn.registered = True
    out: list[ev.Event] = []
    if not conn.caps.ended:  # the server registered us without CAP
        conn.caps.unsupported()
        if conn.sasl is None:
            out += conn._sasl_unavailable("the server does not support CAP")
        elif not conn.sasl.done:
            out += conn._sasl_unavailable("the server registered us before SASL finished")
        if conn.closed:  # required SASL that failed or never happened: aborted
            return out
    conn.nicks.registered(conn._has_wanted_nick(), now)
    conn.lag_probe.start(now)
    held, conn._held = conn._held, []
    for line in held:
        conn._send(line)
    out.append(ev.Registered(nick=conn.current_nick, server=msg.source, **ev.meta(msg)))
    return out


@HANDLERS.on("376", "422")  # end of MOTD / no MOTD: ISUPPORT is complete
def _motd_end(conn: Connection, msg: Message, now: float) -> list[ev.Event]:
    if not conn._has_wanted_nick() and conn.state.isupport.monitor is not None:
        conn._send(f"MONITOR + {conn.nicks.wanted}")
    return []


@HANDLERS.on("731")  # RPL_MONOFFLINE: me :nick1,nick2
def _monitor_offline(conn: Connection, msg: Message, now: float) -> list[ev.Event]:
    offline = {conn.state.fold(n) for n in msg.params[-1].split(",")}
    if not conn._has_wanted_nick() and conn.state.fold(conn.nicks.wanted) in offline:
        conn._send(f"NICK {conn.nicks.wanted}")
    return []


@HANDLERS.on("433", "432", "437")  # nick in use / erroneous / unavailable
def _nick_refused(conn: Connection, msg: Message, now: float) -> list[ev.Event]:
    if conn.registered:
        return []  # a failed regain or change: we keep the nick we have
    nick = conn.nicks.after_refusal(conn.state.nick)  # the one we sent
    if nick is None:
        return conn._abort(f"no usable nick after {conn.nicks.max_attempts} attempts")
    conn.state.rename(conn.state.nick, nick)
    conn._send(f"NICK {nick}")
    return []


@HANDLERS.on("INVITE")
def _invite(conn: Connection, msg: Message, now: float) -> list[ev.Event]:
    return [
        ev.Invited(
            source=msg.source or "", nick=msg.params[0], channel=msg.params[1], **ev.meta(msg)
        )
    ]


def _batch_ended(batch: Batch, msg: Message | None, forced: bool) -> ev.BatchEnded:
    meta = ev.meta(msg) if msg is not None else {}
    return ev.BatchEnded(
        ref=batch.ref,
        type=batch.type,
        params=batch.params,
        history=batch.history,
        forced=forced,
        **meta,
    )


@HANDLERS.on("BATCH")
def _batch(conn: Connection, msg: Message, now: float) -> list[ev.Event]:
    """``BATCH +ref type params`` / ``BATCH -ref`` (see :mod:`logbot.irc.batches`)."""
    token = msg.params[0]
    ref = token[1:]
    if token[:1] == "-":
        ended = conn.batches.end(ref)
        return [] if ended is None else [_batch_ended(ended, msg, False)]
    if token[:1] != "+" or not ref or len(msg.params) < 2:
        return []
    batch, evicted = conn.batches.start(ref, msg.params[1], msg.params[2:], msg.tags, now)
    out: list[ev.Event] = []
    if evicted is not None:
        out.append(_batch_ended(evicted, None, True))
    out.append(
        ev.BatchStarted(
            ref=ref, type=batch.type, params=batch.params, history=batch.history, **ev.meta(msg)
        )
    )
    return out


#: The IRCv3 standard replies (ircv3.net/specs/extensions/standard-replies).
STANDARD_REPLIES = ("FAIL", "WARN", "NOTE")


@HANDLERS.on(*STANDARD_REPLIES)
def _standard_reply(conn: Connection, msg: Message, now: float) -> list[ev.Event]:
    """``<type> <command> <code> [<context>...] <description>``; one with fewer than
    the three required parameters is not one (dropped, as any broken line)."""
    params = msg.params
    if len(params) < 3:
        return []
    return [
        ev.StandardReply(
            kind=msg.command,
            command=params[0],
            code=params[1],
            context=params[2:-1],
            description=params[-1],
            **ev.meta(msg),
        )
    ]


@HANDLERS.on("ERROR")
def _error(conn: Connection, msg: Message, now: float) -> list[ev.Event]:
    conn.closed = True
    return [ev.ErrorReceived(message=msg.params[0] if msg.params else "", **ev.meta(msg))]
