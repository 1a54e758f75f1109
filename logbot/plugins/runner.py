"""One network's side of the plugins: events in, handler calls, replies out.

Every guarantee the issue asks of plugins is kept here, for every plugin alike:

- a handler's exception is logged with its traceback, counted, and answered with
  the short ``error_reply``; the bot carries on;
- an async result (Deferred or coroutine) past its deadline is cancelled;
- commands and rules are rate-limited per user and per channel before they run,
  so a flood of ``!grep`` costs nothing (the user is told once, by a NOTICE); every
  reply line passes the loop guard;
- replies go through :func:`~logbot.plugins.replies.reply_lines`: capped,
  split, free of CR, LF and NUL, so a reply can never become a second command;
- a reply goes out whole or not at all: one that the send queue cannot take within
  its bounds or that would wait there longer than ``max_reply_wait`` (30 s,
  :mod:`logbot.irc.flood`) is dropped and counted by the core, and the asker gets
  one short NOTICE per ``BUSY_WINDOW`` that jumps the replies waiting: at the rate
  limits, replies used to queue for hours.  These notices are capped network-wide
  too (``BUSY_BURST``, ``BUSY_EVERY``): 150 askers told once a minute each took
  most of the send rate (five busy channels got 594 reply lines in an hour, not 3,241);
- admin commands run only for admins (services account or hostmask; when the
  account is unknown and the server has WHOX, one ``WHO`` asks for it);
- ``admins`` and ``ignore`` masks are matched the IRC way, by the core's
  :func:`~logbot.irc.message.mask_match` (``*`` and ``?`` only, under the network's
  CASEMAPPING): ``fnmatch`` read ``[m]`` as a character class, so ``Nick[m]!*@*``
  made ``nickm`` an admin and refused ``Nick[m]`` himself;
- messages replayed from the past (server-time older than ``STALE_AFTER``, as a
  bouncer's playback) run nothing; the server's clock is measured against ours at
  registration, so a server whose clock is off does not silence every command.
"""

from __future__ import annotations

import inspect
import logging
import math
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from logbot.irc import events as ev
from logbot.irc.casemap import DEFAULT_CASEMAPPING
from logbot.irc.message import mask_match
from logbot.plugin import Context
from logbot.plugins.contexts import ContextMaker
from logbot.plugins.control import BotControl
from logbot.plugins.dispatch import Invocation, parse_command
from logbot.plugins.logview import LogView
from logbot.plugins.manager import Handler, PluginManager
from logbot.plugins.replies import LoopGuard, TokenBuckets, reply_lines
from logbot.reactor import defer
from logbot.reactor.failure import Failure

__all__ = ["STALE_AFTER", "NetworkPlugins"]

log = logging.getLogger(__name__)
STALE_AFTER = 120.0  # seconds: older server-time means playback, not a live request
WHOX_TOKEN = "417"
WHOX_WAIT = 5.0  # seconds to wait for a WHOX answer
MAX_WARNED = 1000  # users told about the rate limit at once (each told once)
BUSY_WINDOW = 60.0  # seconds: an asker is told at most once this often that replies wait
BUSY_BURST, BUSY_EVERY = 3, 10.0  # those notices in all: 3 at once, then one every 10 s
BUSY_NOTICE = "too many replies are waiting to be sent, so yours was dropped; try again later"


class NetworkPlugins:
    """Plugins on one network; ``bot`` is its :class:`~logbot.bot.network.NetworkBot`."""

    def __init__(self, manager: PluginManager, bot: Any) -> None:
        # ``Any``: the plugin machinery sits below the bot (scripts/check_layout.py), so
        # it names no class of logbot.bot; what it reads of ``bot`` is its config,
        # client and writer.
        self.manager = manager
        self.bot = bot
        self.name = bot.config.name
        self.reactor = manager.reactor
        self.control = BotControl(self)
        self._whox: dict[str, list[defer.Deferred[str | None]]] = {}
        self.contexts = ContextMaker(self)
        self._skew = 0.0  # seconds our clock is ahead of the server's (from 001)
        self._cutoff = datetime.min.replace(tzinfo=UTC)  # playback before (_new_cutoff)
        self._cutoff_from = self._cutoff_until = -math.inf
        self._busy_told = TokenBuckets(1, BUSY_WINDOW)  # askers told their reply was dropped
        self._busy_notices = TokenBuckets(BUSY_BURST, BUSY_EVERY)  # one key: all of them
        self.configure()
        manager.runners.append(self)

    def configure(self) -> None:
        options = self.manager.options
        self.options = options
        self.user_rate = TokenBuckets(options.user_rate.burst, options.user_rate.per)
        self.channel_rate = TokenBuckets(options.channel_rate.burst, options.channel_rate.per)
        self.loop = LoopGuard(options.loop_repeats, options.loop_window)
        self.view = LogView(
            self.manager.log_root,
            self.name,
            wall=self.manager.wall,
            index_path=self.manager.index_path,
        )
        self.contexts.reset()  # settings or stores may have changed
        self._warned: set[str] = set()  # users told they hit the rate limit

    def close(self) -> None:
        if self in self.manager.runners:
            self.manager.runners.remove(self)

    # -- events ---------------------------------------------------------------------------

    def handle(self, event: ev.Event, client: Any) -> None:
        """Called by the network for every event it logged; never raises."""
        try:
            kind = type(event)
            if kind is ev.Privmsg:
                if not event.is_self:  # type: ignore[attr-defined]
                    self._message(event, client)  # type: ignore[arg-type]
            elif kind is ev.RawMessage:
                self._raw(event)  # type: ignore[arg-type]
            else:
                if kind is ev.Registered:
                    self._clock_skew(event)
                self._event(event, client)
        except Exception:  # the plugin's own code
            log.exception("%s: plugins could not handle %s", self.name, type(event).__name__)

    def _message(self, event: ev.Privmsg, client: Any) -> None:
        """Commands, then rules, then ``message`` hooks.  The context fields are built
        only once something is to run: this is called for every channel line, so what
        ``parse_command`` would refuse at its first tests is refused here without the
        call, and playback is told by a cut-off kept for a second (``_new_cutoff``)."""
        manager = self.manager
        if not (manager.commands or manager.rules or manager.message_hooks):
            return  # nothing can run (no plugin enabled): nothing to look at
        text = event.text
        state = client.core.state
        handler = invocation = None
        prefix = self.options.prefix
        size = len(state.nick)
        if (
            (prefix and text.startswith(prefix))
            or event.private
            or (len(text) > size and text[size] in ":,")  # perhaps "nick: ..."
        ):
            invocation = parse_command(
                text, prefix=prefix, nick=state.nick, private=event.private, fold=state.fold
            )
            if invocation is not None:
                handler = manager.commands.get(invocation.name)
        matches = (
            [(h, m) for h in manager.rules if (m := h.spec.pattern.search(text)) is not None]
            if manager.rules
            else ()
        )
        hooks = manager.message_hooks
        if handler is None and not matches and not hooks:
            return
        when = event.time
        if when is not None:
            now = manager.wall()
            if not self._cutoff_from <= now < self._cutoff_until:
                self._new_cutoff(now)
            if when < self._cutoff:
                return  # older than STALE_AFTER: playback
        if self.options.ignore and self._ignored(event):
            return
        base = self.contexts.base(event, client, event.target, text)
        if handler is not None:
            self._command(handler, invocation, base)  # type: ignore[arg-type]
        for rule_handler, match in matches:
            if self._allowed(base):
                self._run(rule_handler, base, match=match)
        for hook in hooks:
            self._run(hook, base)

    def _clock_skew(self, event: ev.Event) -> None:
        """How far our clock is ahead of the server's, from the server-time of 001 (the
        welcome comes before any playback); 0 when the server sends no time."""
        self._skew = 0.0 if event.time is None else self.manager.wall() - event.time.timestamp()
        self._cutoff_until = -math.inf  # made again with this skew

    def _new_cutoff(self, now: float) -> None:
        """The server-time before which a message is playback (``STALE_AFTER`` before
        ``now``, on the server's clock), kept for a second of our clock: one datetime
        comparison a line instead of a ``timestamp()``; made again at once when our
        clock goes back."""
        self._cutoff = datetime.fromtimestamp(now - self._skew - STALE_AFTER, UTC)
        self._cutoff_from, self._cutoff_until = now, now + 1.0

    def _ignored(self, event: ev.Privmsg) -> bool:
        """From a mask of the ``ignore`` option (playback is ``_message``'s cut-off)."""
        if self.options.ignore:
            mapping = self._casemapping()
            return any(mask_match(mask, event.source, mapping) for mask in self.options.ignore)
        return False

    def _event(self, event: ev.Event, client: Any) -> None:
        name, target, text = _event_fields(event)
        if name is None:
            return
        hooks = self.manager.events.get(name)
        if not hooks:
            return
        base = self.contexts.base(event, client, target, text)
        if name == "mode" and base["channel"] is None:
            return  # our user modes
        for handler in hooks:
            self._run(handler, base)

    # -- commands -------------------------------------------------------------------------

    def _command(self, handler: Handler, invocation: Invocation, base: dict[str, Any]) -> None:
        spec = handler.spec
        admin = self.is_admin(base, ask=spec.admin)
        if spec.admin and admin is not True:
            if admin is False:
                self._deny(handler, invocation, base)
                return
            admin.addCallback(  # the account is being asked for (WHOX)
                lambda ok: self._command_checked(ok, handler, invocation, base)
            )
            return
        if not admin and not self._allowed(base):
            return
        self._run(handler, base, invocation=invocation, is_admin=bool(admin))

    def _command_checked(
        self, ok: bool, handler: Handler, invocation: Invocation, base: dict[str, Any]
    ) -> None:
        if ok:
            self._run(handler, base, invocation=invocation, is_admin=True)
        else:
            self._deny(handler, invocation, base)

    def _deny(self, handler: Handler, invocation: Invocation, base: dict[str, Any]) -> None:
        self.manager.stats.denied += 1
        log.warning("%s: %s may not use %s (admins only)", self.name, _who(base), invocation.name)
        if self._allowed(base):
            self._say(base["target"], f"{base['nick']}: only admins may use {invocation.name}")

    def _allowed(self, base: dict[str, Any]) -> bool:
        """Rate limits: one token from the user's bucket and the channel's."""
        now = self.reactor.seconds()
        fold = self._fold()
        who = fold(base["nick"] or "")
        user_ok = self.user_rate.allow(who, now)
        if user_ok:
            self._warned.discard(who)
        channel = base["channel"]
        channel_ok = channel is None or self.channel_rate.allow(fold(channel), now)
        if user_ok and channel_ok:
            return True
        self.manager.stats.rate_limited += 1
        log.debug("%s: rate limit: ignoring %s", self.name, _who(base))
        if not user_ok and who not in self._warned and len(self._warned) < MAX_WARNED:
            self._warned.add(who)  # told once, until a command of theirs runs again
            client = self.bot._registered_client()
            if client is not None and base["nick"]:
                rate = self.options.user_rate
                client.notice(
                    base["nick"],
                    f"slow down: {rate.burst} commands at once, then one every {rate.per:g} s",
                )
        return False

    def is_admin(self, base: dict[str, Any], ask: bool = False) -> bool | defer.Deferred[bool]:
        """True/False; with ``ask``, a Deferred when the account must be asked for (WHOX)."""
        admins = self.options.admins
        if not admins:
            return False
        accounts = {a[8:].lower() for a in admins if a.startswith("account:")}
        account = base["account"]
        if account is not None and account.lower() in accounts:
            return True
        who, mapping = _who(base), self._casemapping()
        if any(mask_match(m, who, mapping) for m in admins if not m.startswith("account:")):
            return True
        if not ask or account is not None or not accounts or not self._has_whox():
            return False
        return self.lookup_account(base["nick"]).addCallback(
            lambda found: found is not None and found.lower() in accounts
        )

    # -- WHOX -----------------------------------------------------------------------------

    def _has_whox(self) -> bool:
        client = self.bot.client
        return (
            client is not None and client.core is not None and "WHOX" in client.core.state.isupport
        )

    def lookup_account(self, nick: str) -> defer.Deferred[str | None]:
        """The services account of ``nick`` by ``WHO nick %tna,<token>`` (None: none)."""
        client = self.bot.client
        d: defer.Deferred[str | None] = defer.Deferred()
        key = self._fold()(nick)
        waiting = self._whox.setdefault(key, [])
        waiting.append(d)
        if len(waiting) == 1:
            assert client is not None  # is_admin asks only once _has_whox() saw a client
            client.sendLine(f"WHO {nick} %tna,{WHOX_TOKEN}")

        def expire() -> None:
            if d in self._whox.get(key, []):
                self._whox[key].remove(d)
                d.callback(None)

        timer = self.reactor.callLater(WHOX_WAIT, expire)
        d.addBoth(lambda r: (timer.cancel() if timer.active() else None, r)[1])
        return d

    def _raw(self, event: ev.RawMessage) -> None:
        msg = event.message
        params = msg.params
        if msg.command == "354" and len(params) >= 4 and params[1] == WHOX_TOKEN:
            account = None if params[3] == "0" else params[3]
            self._answer(params[2], account)
        elif msg.command == "315" and len(params) >= 2:
            self._answer(params[1], None)

    def _answer(self, nick: str, account: str | None) -> None:
        for d in self._whox.pop(self._fold()(nick), []):
            d.callback(account)

    # -- running --------------------------------------------------------------------------

    def _fold(self) -> Callable[[str], str]:
        client = self.bot.client
        if client is not None and client.core is not None:
            return client.core.state.fold
        return str.lower

    def _casemapping(self) -> str:
        """The server's CASEMAPPING, by which masks are matched (RFC 1459 until known)."""
        client = self.bot.client
        if client is not None and client.core is not None:
            mapping: str = client.core.state.isupport.casemapping
            return mapping
        return DEFAULT_CASEMAPPING

    def _run(
        self,
        handler: Handler,
        base: dict[str, Any],
        *,
        invocation: Invocation | None = None,
        match: Any = None,
        is_admin: bool = False,
    ) -> None:
        context = self.contexts.make(handler, base, invocation, match, is_admin)
        try:
            result = handler.func(context)
        except Exception:
            self._failed(handler, context, Failure())
            return
        if result is None:
            return
        if inspect.iscoroutine(result):
            result = defer.Deferred.fromCoroutine(result)
        if not isinstance(result, defer.Deferred):
            self._reply(handler, context, result)
            return
        result.addTimeout(handler.timeout, self.reactor)
        result.addCallbacks(
            lambda reply: self._reply(handler, context, reply),
            lambda failure: self._failed(handler, context, failure),
        )

    def _reply(self, handler: Handler, context: Context, reply: Any) -> None:
        try:
            lines = reply_lines(
                reply, max_lines=self.options.max_lines, max_line_bytes=self.options.max_line_bytes
            )
        except TypeError:
            self._failed(handler, context, Failure())
            return
        target = context.target
        if target is None:  # an event with no channel or nick (connect, quit, nick)
            if lines:
                log.warning(
                    "%s: plugin %s replied to a %s event, which has nowhere to reply",
                    self.name,
                    handler.plugin,
                    handler.spec.name,
                )
            return
        self._send(target, lines, asker=context.nick)

    def _failed(self, handler: Handler, context: Context, failure: Failure) -> None:
        manager = self.manager
        manager.stats.error(handler.plugin)
        what = context.command or getattr(handler.spec, "name", None) or handler.plugin
        if failure.check(defer.TimeoutError):
            manager.stats.timeouts += 1
            error = f"took longer than {handler.timeout:g} s"
            log.warning(
                "%s: plugin %s: %s %s and was cancelled", self.name, handler.plugin, what, error
            )
        else:
            error = type(failure.value).__name__
            log.error(
                "%s: plugin %s: %s failed for %s\n%s",
                self.name,
                handler.plugin,
                what,
                _who(context.__dict__),
                failure.getTraceback().rstrip(),
            )
        template = self.options.error_reply
        if template is None or context.target is None or context.command is None:
            return
        self._say(context.target, template.format(nick=context.nick, command=what, error=error))

    def _say(self, target: str, text: str) -> None:
        """A reply of the bot's own (an error, a refusal), made safe like any other."""
        self._send(
            target,
            reply_lines(
                text, max_lines=self.options.max_lines, max_line_bytes=self.options.max_line_bytes
            ),
        )

    def _send(self, target: str, lines: list[str], asker: str | None = None) -> None:
        """Safe lines to ``target``, those the loop guard lets through, all or none: when
        the send queue refuses them (see the module doc), ``asker`` is told."""
        client = self.bot._registered_client()
        if client is None:
            if lines:
                log.info("%s: not connected; a plugin reply to %s is dropped", self.name, target)
            return
        fold = self._fold()
        now = self.reactor.seconds()
        kept = []
        for line in lines:
            if not self.loop.allow(fold(target), line, now):
                self.manager.stats.loops_suppressed += 1
                log.warning(
                    "%s: the same reply to %s again; held back (loop guard)", self.name, target
                )
                continue
            kept.append(line)
        if not kept:
            return
        if client.reply(target, kept):
            self.manager.stats.replies += len(kept)
            return
        why = "%s: too many lines waiting to be sent; a reply to %s is dropped"
        if asker and self._busy_told.allow(fold(asker), now) and self._busy_notices.allow("", now):
            log.warning(why + " (%s is told)", self.name, target, asker)
            client.notice(asker, BUSY_NOTICE, urgent=True)
        else:  # (the core counts every one: replies_dropped)
            log.debug(why, self.name, target)


def _who(base: dict[str, Any]) -> str:
    return f"{base['nick']}!{base['user']}@{base['host']}"


def _event_fields(event: ev.Event) -> tuple[str | None, str | None, str]:
    """``(event name, reply target, text)`` for a plugin ``@event``; the name is None for
    events plugins do not see (the bot's own, and protocol details)."""
    # ``type(event) is``: exact classes, as the core makes them (and mypy narrows on it).
    if type(event) is ev.Action:
        return (None if event.is_self else "action"), event.target, event.text
    if type(event) is ev.Registered:
        return "connect", None, ""
    if type(event) is ev.Invited:
        return "invite", event.source.partition("!")[0], event.channel
    if getattr(event, "is_self", False):
        return None, None, ""
    if type(event) is ev.Joined:
        return "join", event.channel, ""
    if type(event) is ev.Parted:
        return "part", event.channel, event.reason or ""
    if type(event) is ev.Kicked:
        return "kick", event.channel, event.reason or ""
    if type(event) is ev.Quit:
        return "quit", None, event.reason or ""
    if type(event) is ev.NickChanged:
        return "nick", None, event.new
    if type(event) is ev.Topic and event.is_change:
        return "topic", event.channel, event.topic or ""
    if type(event) is ev.ModeChanged:
        changes = (
            ("+" if c.adding else "-") + c.mode + (f" {c.param}" if c.param else "")
            for c in event.changes
        )
        return "mode", event.target, " ".join(changes)
    return None, None, ""
