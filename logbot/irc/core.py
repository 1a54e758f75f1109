"""The sans-I/O IRC client: bytes and ``now`` in, events and bytes out.

:class:`IRCConnection` is shaped like h11's ``Connection``.  It owns no
socket, timer or clock; the adapter (``logbot.irc.client``) drives it::

    conn.connection_made(now)                # queue CAP LS / PASS / NICK / USER
    events = conn.receive_data(data, now)    # on every read
    transport.write(conn.data_to_send(now))  # after every call, and on the timer
    events += conn.pop_events()              # what data_to_send and timers made
    call_later(conn.next_wakeup(now) - now)  # flood, keepalive, lag, SASL, regain, batches

Requests (``join``, ``privmsg``, ...) only queue lines; the flood bucket
releases them in ``data_to_send``.  Requests made before registration are
held until 001, so an autojoin list can be given at once.  ``reply`` queues a
reply's lines all or none: it refuses (and counts in ``replies_dropped``) a reply
that the send queue's bounds cannot take or that would leave more than
``max_reply_wait`` seconds late (:mod:`logbot.irc.flood`), so the caller can still
say so.

Our own messages are reported as events exactly once: from the server's
echo when ``echo-message`` is enabled, else when ``data_to_send`` releases
the line (the moment it really leaves, after any flood delay).

While registered, a PING probe goes out every ``ping_interval`` seconds and its
PONG is timed (:mod:`logbot.irc.lag`): ``lag(now)`` is the server's round trip.

Registration as a whole (CAP, SASL, 001) has a deadline, ``registration_timeout``
seconds after ``connection_made``: a server that never answers ``CAP REQ`` or never
sends 001 while it keeps talking (NOTICEs) would otherwise hold us unregistered for
ever, as the keepalive only watches for silence.  Past it the core gives up with
:class:`~logbot.irc.events.Aborted`, saying which step was missing.

What a server can make the connection hold is bounded (:mod:`logbot.irc.limits`,
``limits=``), and what it can make it say is rate-limited: the warnings a line can
cause (over-long, unparsable, a handler that failed on it) go through one
:class:`~logbot.irc.diagnostics.Diagnostics` per connection, which ``receive_data``
gives the time of each read.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from logbot.irc import events as ev
from logbot.irc.batches import Batches
from logbot.irc.caps import KNOWN_CAPS, CapNegotiator
from logbot.irc.chat import ChatEvents
from logbot.irc.core_handlers import HANDLERS
from logbot.irc.diagnostics import Diagnostics
from logbot.irc.flood import FloodControl
from logbot.irc.framing import LineDecoder, encode_line
from logbot.irc.keepalive import PING_INTERVAL, PING_TIMEOUT, Keepalive
from logbot.irc.lag import LagProbe
from logbot.irc.limits import ReceiveLimits
from logbot.irc.message import Message, ParseError, format, parse, split_userhost
from logbot.irc.nick import NickChooser, append_underscore
from logbot.irc.sasl import SaslConfig, SaslSession, Secret
from logbot.irc.split import join_lines, prefix_length, split_message
from logbot.irc.state import IRCState

__all__ = ["RAW_CACHE_LIMIT", "REGISTRATION_TIMEOUT", "IRCConnection"]

log = logging.getLogger(__name__)

#: Seconds from connecting to 001 (CAP, SASL and all), by default.  The servers measured
#: drop an unregistered client after 20-60 s themselves; a server that keeps us waiting
#: longer (or for ever, while it talks) is not going to register us.
REGISTRATION_TIMEOUT = 60.0

_HANDLERS = HANDLERS.mapping  # command -> handler, one dict lookup per line

#: Commands whose "RawMessage wanted?" answer is cached; the cache is emptied when full.
#: A server chooses the commands it sends, and each distinct one was kept (a million
#: made-up commands held 84 MiB); the real ones are a few dozen.
RAW_CACHE_LIMIT = 1024


def _check_word(what: str, value: str, also_bad: str = "") -> str:
    """A nick, target or channel must stay one parameter: refuse what would
    split it or inject a second command."""
    if not value or value.startswith(":") or any(c in value for c in " \r\n\0" + also_bad):
        raise ValueError(f"invalid {what}: {value!r}")
    return value


class IRCConnection:
    """One IRC connection's protocol state.  All limits are keyword arguments."""

    def __init__(
        self,
        nick: str,
        *,
        username: str | None = None,
        realname: str | None = None,
        password: Secret | str | None = None,
        alt_nicks: Iterable[str] = (),
        alter_collided_nick: Callable[[str], str] = append_underscore,
        nick_retry_interval: float | None = 300.0,
        sasl: SaslConfig | None = None,
        caps: Iterable[str] = KNOWN_CAPS,
        flood: FloodControl | None = None,
        ping_interval: float = PING_INTERVAL,
        ping_timeout: float = PING_TIMEOUT,
        registration_timeout: float = REGISTRATION_TIMEOUT,
        first_lag_probe: float | None = None,
        version: str = "logbot",
        ctcp_time: Callable[[], str] | None = None,
        decoder: LineDecoder | None = None,
        limits: ReceiveLimits | None = None,
        diagnostics: Diagnostics | None = None,
    ) -> None:
        _check_word("nick", nick)
        if not registration_timeout > 0:
            raise ValueError(f"registration_timeout must be > 0, not {registration_timeout!r}")
        self.registration_timeout = registration_timeout
        self._registration_deadline: float | None = None  # set by connection_made
        self.username = username or nick
        self.realname = realname or nick
        self._password = Secret(password) if isinstance(password, str) else password
        self.limits = limits if limits is not None else ReceiveLimits()
        #: The rate-limited warnings of this connection (its ``label`` starts each one).
        self.diagnostics = diagnostics if diagnostics is not None else Diagnostics()
        self.state = IRCState(nick, self.limits, self.diagnostics)
        self.batches = Batches()
        self.caps = CapNegotiator(
            frozenset(caps) - ({"sasl"} if sasl is None else set()),
            self.limits.cap_entries,
            self.diagnostics,
        )
        self.sasl_config = sasl
        self.sasl: SaslSession | None = None
        self.flood = flood if flood is not None else FloodControl()
        self.flood.fold = self.state.fold  # reply targets as the server compares them
        self.keepalive = Keepalive(ping_interval, ping_timeout)
        self.lag_probe = LagProbe(ping_interval, first_lag_probe)  # None: ping_interval
        self.nicks = NickChooser(
            nick, alt_nicks, alter_collided_nick, retry_interval=nick_retry_interval
        )
        self.chat = ChatEvents(self.state, version, ctcp_time)
        self.decoder = decoder if decoder is not None else LineDecoder()
        self.decoder.diagnostics = self.diagnostics
        self.registered = False
        self.closed = False  # DeadLink, Aborted or ERROR: the adapter should close
        self.unparsable_lines = 0
        self._held: list[str] = []  # requests made before registration
        self._outbox: list[ev.Event] = []
        self._wants_raw: Callable[[str], bool] | None = None
        self._raw_cache: dict[str, bool] = {}
        #: None, or ``tap(direction, lines)``: each read's lines (``"<<"``) and each
        #: write's (``">>"``), as text, for the debug log of the traffic; one call per
        #: read or write, so that a tap that does nothing costs nothing per line.
        self.wire_tap: Callable[[str, list[str]], None] | None = None

    def __repr__(self) -> str:
        return f"IRCConnection(nick={self.current_nick!r}, registered={self.registered})"

    @property
    def current_nick(self) -> str:
        """The nick we have now (``nick()`` is the request to change it)."""
        return self.state.nick

    @property
    def queue_length(self) -> int:
        """Lines waiting to be sent (flood queue and held until 001): a metric."""
        return len(self.flood) + len(self._held)

    def lag(self, now: float) -> float | None:
        """Seconds of the server's last round trip (None before the first probe left),
        or how long the probe out has been out, if longer: a metric."""
        return self.lag_probe.lag(now)

    @property
    def replies_dropped(self) -> int:
        """Reply lines given up: refused by ``reply``, over the send queue's bounds, or
        older than ``max_reply_wait`` when their turn came: a metric."""
        return self.flood.dropped

    @property
    def dropped_lines(self) -> int:
        """Over-long received lines dropped by the decoder: a metric."""
        return self.decoder.dropped_lines

    # -- the adapter's side ---------------------------------------------------

    def connection_made(self, now: float) -> None:
        """Queue the registration lines; starts the keepalive and registration clocks."""
        self.keepalive.data_received(now)
        self._registration_deadline = now + self.registration_timeout
        for line in self.caps.start():
            self._send(line)
        if self._password is not None:
            self._send(f"PASS {self._password.reveal()}")
        self._send(f"NICK {self.state.nick}")
        self._send(f"USER {self.username} 0 * :{self.realname}")

    def receive_data(self, data: bytes, now: float) -> list[ev.Event]:
        """Feed received bytes; return the events they caused (never raises
        on bad input: unparsable lines are counted in ``unparsable_lines``)."""
        if data:
            self.keepalive.data_received(now)
        self.diagnostics.tick(now)
        out = self.pop_events()
        lines = self.decoder.feed(data)
        if not lines:
            return out
        if self.wire_tap is not None:
            self.wire_tap("<<", lines)
        # The per-line work of _handle, inlined with its lookups hoisted: this loop
        # runs for every received line.
        apply = self.state.apply
        handlers = _HANDLERS
        chat, send = self.chat.incoming, self._send
        wants_raw = self._wants_raw
        raw_cache = self._raw_cache
        history = self.batches.history  # refs of open history batches (usually none)
        # Plain PRIVMSG/NOTICE lines in one step, when no RawMessage is wanted for them.
        fast = (
            self.chat.received_line
            if not (self._want_raw("PRIVMSG") or self._want_raw("NOTICE"))
            else None
        )
        for line in lines:
            if fast is not None:
                event = fast(line)
                if event is not None:
                    out.append(event)
                    continue
            try:
                msg = parse(line)
            except ParseError as e:
                self.unparsable_lines += 1
                self.diagnostics.warning("unparsable line", log, "dropped an IRC line: %.200s", e)
                continue
            command = msg.command
            if command == "PONG" and self.lag_probe.pong(msg.params[-1] if msg.params else "", now):
                continue  # the answer to our lag probe: nobody else's business
            if wants_raw is None:
                out.append(ev.new_raw_message(msg, *ev.meta_tuple(msg)))
            else:
                want = raw_cache.get(command)
                if want is None:
                    want = self._want_raw(command)
                if want:
                    out.append(ev.new_raw_message(msg, *ev.meta_tuple(msg)))
            if history and command != "BATCH" and msg.tags.get("batch") in history:
                # A replayed line (logbot.irc.batches): its event, nothing else.
                if command == "PRIVMSG" or command == "NOTICE":
                    out += self.chat.classify(msg, msg.source or "")
                continue
            # Regain checks need the holder's nick before the state renames it.
            regain = (command == "QUIT" or command == "NICK") and self._regain_opportunity(msg)
            events = apply(msg)
            if events:
                out += events
            if command == "PRIVMSG" or command == "NOTICE":  # (no entry in HANDLERS)
                out += chat(msg, now, send)
                continue  # (neither is a QUIT or NICK: no regain)
            handler = handlers.get(command)
            if handler is not None:
                try:
                    out += handler(self, msg, now)
                except IndexError:  # a server line with too few parameters
                    pass
                except Exception:  # a bug of ours: logged, and the rest of the read goes on
                    self.diagnostics.warning(
                        "core handler failed",
                        log,
                        "core: handling %s failed; the line is skipped",
                        command,
                        exc_info=True,
                        level=logging.ERROR,
                    )
            if regain:
                self._send(f"NICK {self.nicks.wanted}")
        return out

    def _want_raw(self, command: str) -> bool:
        wants_raw = self._wants_raw
        if wants_raw is None:
            return True
        cache = self._raw_cache
        want = cache.get(command)
        if want is None:
            want = bool(wants_raw(command))
            if len(cache) >= RAW_CACHE_LIMIT:
                cache.clear()
            cache[command] = want
        return want

    def set_raw_filter(self, wants_raw: Callable[[str], bool] | None) -> None:
        """Which commands give a :class:`~logbot.irc.events.RawMessage` event first:
        ``None`` (the default) every one, else those for which ``wants_raw(command)``
        is true (asked once per command).  The adapter passes the commands its
        ``irc_*`` hooks need, so a bot without hooks pays nothing for them."""
        self._wants_raw = wants_raw
        self._raw_cache = {}

    def data_to_send(self, now: float) -> bytes:
        """Run due timers, then return the bytes the flood bucket allows now."""
        self._run_timers(now)
        lines = self.flood.pop_ready(now)
        if lines:
            self.lag_probe.released(lines, now)
            if self.wire_tap is not None:
                self.wire_tap(">>", lines)
        if "echo-message" not in self.caps.enabled:
            mask = self.state.me.hostmask
            for line in lines:
                self._outbox.extend(self.chat.own_line(parse(line), mask))
        return b"".join(encode_line(line) for line in lines)

    def pop_events(self) -> list[ev.Event]:
        """Events made outside ``receive_data`` (timers, our own sent lines)."""
        out, self._outbox = self._outbox, []
        return out

    def next_wakeup(self, now: float) -> float | None:
        """The monotonic time at which ``data_to_send`` has work, or None."""
        times = [self.flood.next_ready_time(now)]
        if not self.closed:
            times.append(self.keepalive.next_deadline())
            times.append(self.sasl.deadline if self.sasl is not None else None)
            times.append(self.batches.next_due())
            if not self.registered:
                times.append(self._registration_deadline)
            else:
                times.append(self.lag_probe.next_deadline())
                if not self._has_wanted_nick():
                    times.append(self.nicks.next_retry)
        due = [t for t in times if t is not None]
        return min(due) if due else None

    # -- requests ---------------------------------------------------------------

    def join(self, channel: str, key: str | None = None) -> None:
        self.join_many([(channel, key)])

    def join_many(self, channels: Iterable[str | tuple[str, str | None]]) -> None:
        """Join many channels in as few JOIN lines as fit."""
        items = [(c, None) if isinstance(c, str) else c for c in channels]
        for name, key in items:
            _check_word("channel", name, ",")  # a comma would split the JOIN list
            if key is not None:
                _check_word("key", key, ",")
        targmax = self.state.isupport.targmax("JOIN")
        for line in join_lines(items, max_targets=targmax):
            self._request(line)

    def part(self, channel: str, reason: str | None = None) -> None:
        self._request(self._line("PART", _check_word("channel", channel), reason))

    def privmsg(self, target: str, text: str) -> None:
        self._say("PRIVMSG", target, text)

    def notice(self, target: str, text: str, *, urgent: bool = False) -> None:
        """``urgent``: ahead of the replies waiting (a short notice that one was dropped)."""
        self._say("NOTICE", target, text, urgent=urgent)

    def reply(self, target: str, texts: Iterable[str], now: float) -> bool:
        """PRIVMSG each of ``texts`` to ``target``, all of the lines or none: False (and
        the lines counted in ``replies_dropped``) when the send queue cannot take them
        or the last would leave more than ``max_reply_wait`` seconds after ``now``."""
        lines = [line for text in texts for line in self._split("PRIVMSG", target, text)]
        if self.registered and not self.flood.admit(target, len(lines), now):
            return False
        for i, line in enumerate(lines):
            self._request(line, continues=i > 0)
        return True

    def action(self, target: str, text: str) -> None:
        self._say("PRIVMSG", target, text, ("\x01ACTION ", "\x01"))

    def nick(self, new: str) -> None:
        """Ask for a new nick (also becomes the nick we try to regain)."""
        self.nicks.wanted = _check_word("nick", new)
        self._request(f"NICK {new}")

    def quit(self, message: str | None = None) -> None:
        """QUIT goes in the priority lane, even before registration."""
        self._send(self._line("QUIT", message))

    def topic(self, channel: str, topic: str | None = None) -> None:
        self._request(self._line("TOPIC", _check_word("channel", channel), topic))

    def mode(self, target: str, *args: str) -> None:
        self.send_raw(Message("MODE", (_check_word("target", target), *args)))

    def kick(self, channel: str, nick: str, reason: str | None = None) -> None:
        _check_word("channel", channel)
        self._request(self._line("KICK", channel, _check_word("nick", nick), reason))

    def send_raw(self, msg: Message) -> None:
        """Queue any message (formatted strictly: invalid ones raise ValueError)."""
        self._request(format(msg))

    # -- internals --------------------------------------------------------------

    @staticmethod
    def _line(command: str, *params: str | None) -> str:
        """Format ``command`` with the given params; a final ``None`` is left out."""
        return format(Message(command, tuple(p for p in params if p is not None)))

    def _split(
        self, command: str, target: str, text: str, wrap: tuple[str, str] = ("", "")
    ) -> list[str]:
        _check_word("target", target)
        me = self.state.me
        prefix = prefix_length(self.state.nick, me.user, me.host)
        return split_message(command, target, text, prefix_len=prefix, wrap=wrap)

    def _say(
        self,
        command: str,
        target: str,
        text: str,
        wrap: tuple[str, str] = ("", ""),
        *,
        urgent: bool = False,
    ) -> None:
        for i, line in enumerate(self._split(command, target, text, wrap)):
            self._request(line, urgent=urgent, continues=i > 0)

    def _send(self, line: str, *, urgent: bool = False, continues: bool = False) -> None:
        """Queue ``line``; ``urgent`` and ``continues`` as ``FloodControl.push`` has them."""
        encode_line(line)  # refuse CR/LF/NUL now, not when the bucket releases it
        self.flood.push(line, urgent=urgent, continues=continues)

    def _request(self, line: str, *, urgent: bool = False, continues: bool = False) -> None:
        if self.registered:
            self._send(line, urgent=urgent, continues=continues)
        else:
            encode_line(line)
            self._held.append(line)

    def _has_wanted_nick(self) -> bool:
        return self.state.fold(self.state.nick) == self.state.fold(self.nicks.wanted)

    def _abort(self, reason: str) -> list[ev.Event]:
        self.closed = True
        self.quit(reason)
        return [ev.Aborted(reason=reason)]

    def _registration_step(self) -> str:
        """What registration is waiting for, to say why it timed out."""
        if not self.caps.ended:
            if self.sasl is not None and not self.sasl.done:
                return "SASL authentication"
            return "capability negotiation"
        return "the welcome (001)"

    def _run_timers(self, now: float) -> None:
        if self.closed:
            return
        deadline = self._registration_deadline
        if not self.registered and deadline is not None and now >= deadline:
            step = self._registration_step()
            why = f"registration not complete after {self.registration_timeout:g} s"
            self._outbox.extend(self._abort(f"{why} (waiting for {step})"))
            return
        verdict = self.keepalive.poll(now)
        if verdict == "dead":
            self.closed = True
            self._outbox.append(ev.DeadLink(silent_for=self.keepalive.silent_for(now)))
            return
        if self.batches.open:
            self._outbox.extend(
                ev.BatchOverdue(
                    ref=batch.ref,
                    type=batch.type,
                    params=batch.params,
                    history=batch.history,
                    open_for=now - batch.started,
                )
                for batch in self.batches.overdue(now)
            )
        probe = self.lag_probe
        if probe.due(now) or (verdict == "ping" and probe.idle):
            self._send(probe.probe(now))  # a keepalive PING, when one is wanted, too
        elif verdict == "ping":
            self._send("PING :keepalive")
        if self.sasl is not None and not self.sasl.done:
            for line in self.sasl.check_deadline(now):
                self._send(line)
            self._outbox.extend(self._sasl_settled(now))
        if self.registered and not self._has_wanted_nick() and self.nicks.retry_due(now):
            self._send(f"NICK {self.nicks.wanted}")

    def _regain_opportunity(self, msg: Message) -> bool:
        if not self.registered or self._has_wanted_nick() or msg.command not in ("QUIT", "NICK"):
            return False
        nick = split_userhost(msg.source or "").nick or ""
        return self.state.fold(nick) == self.state.fold(self.nicks.wanted)

    def _sasl_settled(self, now: float) -> list[ev.Event]:
        """After a SASL step: report the result once, then END or abort."""
        session = self.sasl
        if session is None or not session.done or self.caps.ended:
            return []
        out: list[ev.Event] = [
            ev.SaslResult(
                success=session.success,
                mechanism=session.mechanism,
                account=session.account,
                reason=session.reason,
            )
        ]
        if not session.success and self.sasl_config is not None and self.sasl_config.required:
            what = f"{session.mechanism}: {session.reason}" if session.mechanism else session.reason
            return out + self._abort(f"SASL required but failed: {what}")
        for line in self.caps.end():
            self._send(line)
        return out

    def _sasl_unavailable(self, reason: str) -> list[ev.Event]:
        """SASL is configured but the server cannot do it: a failed
        :class:`~logbot.irc.events.SaslResult`, so that a login that never happened is
        reported like one that was refused (not silently skipped); then abort if it is
        required."""
        if self.sasl_config is None:
            return []
        out: list[ev.Event] = [
            ev.SaslResult(success=False, mechanism=None, account=None, reason=reason)
        ]
        if self.sasl_config.required:
            return out + self._abort(f"SASL required but {reason}")
        return out

    def _caps_ready(self, now: float) -> list[ev.Event]:
        """CAP negotiation settled during registration: SASL first, then END."""
        config = self.sasl_config
        if config is not None and "sasl" in self.caps.enabled:
            self.sasl = SaslSession(
                config,
                self.caps.sasl_mechanisms,
                max_challenge=self.limits.sasl_challenge,
                max_iterations=self.limits.scram_iterations,
            )
            for line in self.sasl.start(now):
                self._send(line)
            return self._sasl_settled(now)
        out = self._sasl_unavailable("the server does not offer it")
        if self.closed:
            return out
        for line in self.caps.end():
            self._send(line)
        return out
