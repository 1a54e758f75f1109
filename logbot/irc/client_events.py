"""Core events -> Twisted's ``IRCClient`` event methods and ``irc_*`` hooks.

:func:`handlers_for` gives, once per ``IRCClient`` subclass, a table from event
type to a function ``(client, event)`` that calls the Twisted-named method with
Twisted's arguments.  The table is looked up by ``type(event)`` on every event
(``dataReceived`` is the hot path: no per-line ``getattr``, no dict building).

``irc_<COMMAND>(prefix, params)`` hooks: the method is found once per class and
command (by RFC name first, ``irc_RPL_TOPIC``, then by number, ``irc_332``) and
cached; ``irc_unknown(prefix, command, params)`` gets the commands that have no
hook and that Twisted's own client would not have handled.  A class with no
``irc_*`` attribute at all skips the raw-message step entirely, and
:func:`raw_filter` tells the core to make RawMessage events only for the commands
some hook takes (so that the core's one-step path for PRIVMSG/NOTICE applies).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from logbot.irc import events as ev
from logbot.irc.numerics import NUMERIC_TO_SYMBOLIC, TWISTED_HANDLED

__all__ = ["handlers_for", "raw_filter"]

Hook = Callable[[Any, str, list[str]], Any]
Handler = Callable[[Any, Any], None]

_TABLES: dict[type, dict[type, Handler]] = {}
_HOOKS: dict[type, dict[str, Hook | None]] = {}
_MISSING: Any = object()


def _nick(source: str | None) -> str:
    return (source or "").split("!", 1)[0]


def _find_hook(cls: type, command: str) -> Hook | None:
    symbolic = NUMERIC_TO_SYMBOLIC.get(command)
    for name in (symbolic, command):
        if name is not None:
            method = getattr(cls, "irc_" + name, None)
            if method is not None:
                return method  # type: ignore[no-any-return]
    unknown = getattr(cls, "irc_unknown", None)
    name = symbolic or command
    if unknown is None or name in TWISTED_HANDLED:
        return None

    def hook(client: Any, prefix: str, params: list[str]) -> Any:
        return unknown(client, prefix, name, params)

    return hook


def _raw(client: Any, event: ev.RawMessage) -> None:
    msg = event.message
    hooks = _HOOKS[type(client)]
    hook = hooks.get(msg.command, _MISSING)
    if hook is _MISSING:
        hook = hooks[msg.command] = _find_hook(type(client), msg.command)
    if hook is not None:
        hook(client, msg.source or "", list(msg.params))


def _registered(client: Any, event: ev.Registered) -> None:
    client.nickname = event.nick
    client.hostname = event.server
    client.signedOn()


def _joined(client: Any, event: ev.Joined) -> None:
    if event.is_self:
        client.joined(event.channel)
    else:
        client.userJoined(event.nick, event.channel)


def _parted(client: Any, event: ev.Parted) -> None:
    if event.is_self:
        client.left(event.channel)
    else:
        client.userLeft(event.nick, event.channel)


def _kicked(client: Any, event: ev.Kicked) -> None:
    kicker = _nick(event.source)
    if event.is_self:
        client.kickedFrom(event.channel, kicker, event.reason or "")
    else:
        client.userKicked(event.nick, event.channel, kicker, event.reason or "")


def _quit(client: Any, event: ev.Quit) -> None:
    if not event.is_self:
        client.userQuit(event.nick, event.reason or "")


def _nick_changed(client: Any, event: ev.NickChanged) -> None:
    if event.is_self:
        client.nickChanged(event.new)
    else:
        client.userRenamed(event.old, event.new)


# Our own messages (echoed, or reported when sent) never reach these methods.
def _privmsg(client: Any, event: ev.Privmsg) -> None:
    if not event.is_self:
        client.privmsg(event.source, event.target, event.text)


def _notice(client: Any, event: ev.Notice) -> None:
    if not event.is_self:
        client.noticed(event.source, event.target, event.text)


def _action(client: Any, event: ev.Action) -> None:
    if not event.is_self:
        client.action(event.source, event.target, event.text)


def _topic(client: Any, event: ev.Topic) -> None:
    client.topicUpdated(_nick(event.setter), event.channel, event.topic or "")


def _mode(client: Any, event: ev.ModeChanged) -> None:
    # As Twisted: one call for the modes added, then one for those removed.
    for adding in (True, False):
        changes = [c for c in event.changes if c.adding is adding]
        if changes:
            client.modeChanged(
                event.source,
                event.target,
                adding,
                "".join(c.mode for c in changes),
                tuple(c.param for c in changes),
            )


def _dead_link(client: Any, event: ev.DeadLink) -> None:
    client._close_after_flush(
        "abort",
        f"dead link: nothing received for {event.silent_for:.1f} s "
        f"(ping_timeout {client.ping_timeout} s)",
    )


def _aborted(client: Any, event: ev.Aborted) -> None:
    client._close_after_flush("lose", event.reason)


def _error(client: Any, event: ev.ErrorReceived) -> None:
    client._close_after_flush("lose", f"server sent ERROR: {event.message}")


_BASE: dict[type, Handler] = {
    ev.Registered: _registered,
    ev.Joined: _joined,
    ev.Parted: _parted,
    ev.Kicked: _kicked,
    ev.Quit: _quit,
    ev.NickChanged: _nick_changed,
    ev.Privmsg: _privmsg,
    ev.Notice: _notice,
    ev.Action: _action,
    ev.Topic: _topic,
    ev.ModeChanged: _mode,
    ev.DeadLink: _dead_link,
    ev.Aborted: _aborted,
    ev.ErrorReceived: _error,
}


def handlers_for(cls: type) -> dict[type, Handler]:
    """The event table of an ``IRCClient`` class (built once, then cached)."""
    table = _TABLES.get(cls)
    if table is None:
        table = dict(_BASE)
        if any(name.startswith("irc_") for name in dir(cls)):
            table[ev.RawMessage] = _raw
            _HOOKS[cls] = {}
        _TABLES[cls] = table
    return table


def raw_filter(cls: type) -> Callable[[str], bool]:
    """For ``IRCConnection.set_raw_filter``: the commands whose RawMessage some
    ``irc_*`` hook of ``cls`` (or its ``irc_unknown``) would receive."""
    if ev.RawMessage not in handlers_for(cls):
        return lambda command: False
    return lambda command: _find_hook(cls, command) is not None
