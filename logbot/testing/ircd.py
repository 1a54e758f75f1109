"""A small IRC server on our reactor, for tests and demos.  NOT a production ircd.

It exists so that the real bot can be run over real TCP against a server that lives
in the same process and on the same reactor: ``logbot demo`` talks to it, and tests
run in milliseconds without installing ngircd.  What it deliberately lacks:

* no flood limits, no connection limits, no idle PINGs or timeouts (it never starts a
  timer, so it never keeps the reactor busy);
* no services: a local user's ``account`` is just a label, shown by WHOIS and the
  ``account-tag``/``extended-join`` capabilities; the one way to log in is SASL
  ``ECDSA-NIST256P-CHALLENGE`` with ``sasl_keys`` (:mod:`logbot.testing.ircd_sasl`);
  no opers, no server links, no persistence;
* it trusts everyone: any nick, any channel; only the optional ``password`` checks
  anything;
* it listens on 127.0.0.1 by default; do not expose it.

Users are of two kinds that see each other identically (see
:mod:`logbot.testing.ircd_users`): TCP clients, and ``LocalUser``s simulated inside
the server (``server.add_user("alice").say("#demo", "hello")``).  Both go through the
same command handlers (:mod:`logbot.testing.ircd_commands` and
:mod:`logbot.testing.ircd_channels`).

Wire choices:

* Input lines end with LF, CRLF or CR; they are decoded as UTF-8 with replacement, NUL
  is dropped.  A line whose part after the tags is over 510 bytes, or whose whole is
  over ``MAX_INPUT`` bytes, is refused with ``417 ERR_INPUTTOOLONG`` and not executed.
* Output: the part after the tags is cut to 510 bytes (on a character boundary), as
  servers cut what they relay.  The last parameter always gets a ``:``
  (``:alice!alice@demo.test JOIN :#demo``): valid IRC that every parser must take,
  and one rule instead of a list of which commands end in text.
* Capabilities: ``server-time`` (a ``time`` tag on every line), ``message-tags``
  (client ``+tags`` relayed, TAGMSG), ``echo-message``, ``multi-prefix``,
  ``account-tag``, ``extended-join`` and ``batch``.  Registration waits for ``CAP END``
  once ``CAP LS`` or ``CAP REQ`` was sent.
* With ``history_size=N``: ``msgid`` tags and ``draft/chathistory``, the last N messages
  of each channel (:mod:`logbot.testing.ircd_history`).  Without, no ``msgid`` and no
  ``CHATHISTORY``: the lines are the same as before history existed.
* With ``sasl_keys={account: public key}``: ``sasl=ECDSA-NIST256P-CHALLENGE`` and
  ``AUTHENTICATE`` (:mod:`logbot.testing.ircd_sasl`; it needs ``cryptography``).
  Without, no ``sasl`` capability and ``AUTHENTICATE`` is an unknown command.
* ``draft/channel-rename``: ``RENAME`` by an op (the fallback PART and JOIN to a client
  without it), netsplits and netjoins in IRCv3 batches when a test calls for them, and
  standard replies (:mod:`logbot.testing.ircd_events`).
* The first user in a channel gets ``@``; new channels are ``+nt``.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from logbot.irc.message import Message, ParseError, parse
from logbot.reactor import defer
from logbot.reactor.basic import LineReceiver
from logbot.reactor.protocol import Factory
from logbot.testing import ircd_channels, ircd_commands, ircd_events, ircd_history, ircd_sasl
from logbot.testing.ircd_commands import (
    BEFORE_REGISTRATION,
    CAPS,
    CASEMAPPING,
    CHANNEL_FLAGS,
    CHANNELLEN,
    NICKLEN,
    TOPICLEN,
    USER_MODES,
    fold,
    valid_nick,
)
from logbot.testing.ircd_history import History
from logbot.testing.ircd_sasl import SaslAccounts
from logbot.testing.ircd_users import Channel, LocalUser, User
from logbot.testing.ircd_wire import MAX_INPUT, MAX_LINE, fit, format_line, tag_prefix

__all__ = ["Channel", "Connection", "LocalUser", "TestIRCServer", "User"]

VERSION = "logbot-testircd-1"
HANDLERS: dict[str, Callable[[TestIRCServer, User, Message], None]] = {
    **ircd_commands.HANDLERS.mapping,
    **ircd_channels.HANDLERS.mapping,
    **ircd_history.HANDLERS.mapping,
    **ircd_sasl.HANDLERS.mapping,
    **ircd_events.HANDLERS.mapping,  # RENAME, and JOIN with its redirection
}


class Connection(User, LineReceiver):
    """One TCP client: a ``User`` whose lines go out on its socket."""

    delimiter = b"\n"
    MAX_LENGTH = MAX_INPUT
    server: TestIRCServer  # the whole server, not only what users see of it

    def __init__(self, server: TestIRCServer, host: str) -> None:
        User.__init__(self, server, None, None, host, None)
        self.alive = True  # False once the socket is closed

    @property
    def nick(self) -> str | None:
        """The current nick (None before NICK)."""
        return self.nickname

    def send_line(self, line: str) -> None:
        transport = self.transport
        if self.alive and transport is not None and not transport.disconnecting:
            transport.write(line.encode("utf-8") + b"\r\n")

    def lineReceived(self, line: bytes) -> None:
        for raw in line.split(b"\r"):  # a lone CR ends a line too: never relay one
            raw = raw.replace(b"\0", b"")
            if not raw.strip(b" "):
                continue
            body = raw.split(b" ", 1)[-1] if raw.startswith(b"@") else raw
            if len(body) > MAX_LINE:
                self.server.reply(self, "417", "Input line was too long")
                continue
            text = raw.decode("utf-8", "replace")
            try:
                msg = parse(text)
            except ParseError:
                continue
            self.server.dispatch(self, msg, text)
            if self.transport is None or self.transport.disconnecting:
                return

    def lineLengthExceeded(self, line: bytes) -> None:
        """Refuse the line and go on (the rest of it is discarded by LineReceiver)."""
        self.server.reply(self, "417", "Input line was too long")

    def connectionLost(self, reason: Any = None) -> None:
        self.alive = False
        self.server._lost(self)


class _ServerFactory(Factory):
    noisy = False

    def __init__(self, server: TestIRCServer) -> None:
        self.server = server

    def buildProtocol(self, addr: Any) -> Connection:
        conn = Connection(self.server, getattr(addr, "host", None) or "127.0.0.1")
        conn.factory = self
        self.server._connections.append(conn)
        return conn


class _Listener(Protocol):
    """What the server uses of the port that ``reactor.listenTCP`` returns."""

    def getHost(self) -> Any: ...

    def stopListening(self) -> defer.Deferred[Any]: ...


class TestIRCServer:
    """A test/demo IRC server (see the module docstring for what it is not).

    ``start()`` listens and returns the port; ``stop()`` closes the listener and every
    client connection (after an ``ERROR`` line), like a server dying, and returns a
    Deferred that fires once the listener is closed.  Local users see those clients
    QUIT ("Server shutting down"); they and their channels survive ``stop()``, and
    ``start()`` again listens on the same port.

    Attributes worth reading: ``channels`` (folded name -> :class:`Channel`),
    ``clients`` (registered TCP connections, now), ``users`` (folded nick -> every nick
    holder, local or TCP, registered or not), ``log`` (the last ``log_size`` lines as
    ``(direction, nick, line)``, direction ``"in"`` or ``"out"``), ``on_line`` (None or
    ``callable(user, line)``, called after each received line has been handled, for
    tests to wait on), ``history`` (the kept messages: :mod:`logbot.testing.ircd_history`).

    ``history_size`` (lines kept per channel; 0, the default: no history, no ``msgid``)
    and ``history_limit`` (the most lines one ``CHATHISTORY`` returns; 0: no maximum).

    ``sasl_keys`` (account -> public key in base64, as services keep it): SASL
    ECDSA-NIST256P-CHALLENGE to those accounts; ``sasl`` is then a
    :class:`~logbot.testing.ircd_sasl.SaslAccounts` (``sasl.challenge`` makes each
    challenge), else None.
    """

    __test__ = False  # a library class whose name starts with "Test": pytest, skip it

    def __init__(
        self,
        reactor: Any,
        name: str = "irc.demo.test",
        network: str = "demo",
        host: str = "127.0.0.1",
        port: int = 0,
        motd: str | None = None,
        *,
        password: str | None = None,
        wall: Callable[[], float] = time.time,
        log_size: int = 1000,
        history_size: int = 0,
        history_limit: int = 100,
        sasl_keys: Mapping[str, str] | None = None,
    ) -> None:
        if " " in name or " " in network:
            raise ValueError("the server and network names cannot hold spaces")
        self.reactor = reactor
        self.name = name
        self.network = network
        self.host = host
        self.port = port
        self.motd = motd
        self.password = password
        self.wall = wall
        self.created = wall()
        self.users: dict[str, User] = {}
        self.channels: dict[str, Channel] = {}
        self.log: deque[tuple[str, str, str]] = deque(maxlen=log_size)
        self.on_line: Callable[[User, str], Any] | None = None
        self.history = History(history_size, history_limit)
        self.sasl = SaslAccounts(sasl_keys) if sasl_keys else None
        optional = ((ircd_history.CAP,) if history_size else ()) + (
            (ircd_sasl.CAP,) if self.sasl is not None else ()
        )
        self.caps = tuple(sorted(CAPS + optional + (ircd_events.CAP,)))
        self._connections: list[Connection] = []
        self._listener: _Listener | None = None

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> int:
        """Listen on ``host:port`` (0: a free port); returns the bound port."""
        if self._listener is not None:
            raise RuntimeError("the server is already listening")
        self._listener = self.reactor.listenTCP(
            self.port, _ServerFactory(self), interface=self.host
        )
        self.port = self._listener.getHost().port
        return self.port

    def stop(self) -> defer.Deferred[Any]:
        """Close every client connection and the listener; fires when it is closed."""
        for conn in list(self._connections):
            self._close(conn, "Server shutting down")
        listener, self._listener = self._listener, None
        if listener is None:
            return defer.succeed(None)
        return listener.stopListening()

    @property
    def clients(self) -> list[Connection]:
        """The TCP connections that are registered, in connection order."""
        return [conn for conn in self._connections if conn.registered]

    # -- local users -------------------------------------------------------------------

    def add_user(
        self,
        nick: str,
        user: str | None = None,
        host: str = "demo.test",
        realname: str | None = None,
        account: str | None = None,
    ) -> LocalUser:
        """A simulated user, registered at once; ``ValueError`` if the nick is bad or taken."""
        if not valid_nick(nick):
            raise ValueError(f"erroneous nick {nick!r}")
        if fold(nick) in self.users:
            raise ValueError(f"nick {nick!r} is in use")
        local = LocalUser(self, nick, user or nick, host, realname or nick, account)
        self.users[fold(nick)] = local
        return local

    # -- what users send ---------------------------------------------------------------

    def dispatch(self, user: User, msg: Message, line: str) -> None:
        """Handle one line a user sent (parsed as ``msg``)."""
        self.log.append(("in", user.nickname or "*", line))
        handler = HANDLERS.get(msg.command)
        if not user.registered and msg.command not in BEFORE_REGISTRATION:
            self.reply(user, "451", "You have not registered")
        elif handler is None:
            self.reply(user, "421", msg.command, "Unknown command")
        else:
            handler(self, user, msg)
        if self.on_line is not None:
            self.on_line(user, line)

    # -- what users receive ------------------------------------------------------------

    def send(
        self,
        to: User,
        command: str,
        *params: str,
        sender: User | None = None,
        tags: dict[str, str | None] | None = None,
        source: str | None = None,
        meta: Mapping[str, str | None] | None = None,
    ) -> None:
        """Send one line to ``to``, from ``sender`` (None: the server), with the tags
        its capabilities ask for (``tags`` are client tags, for message-tags).

        ``source`` replaces the sender's prefix (a replayed line, whose sender may be
        gone); ``meta`` holds server tags: ``time`` (instead of now), ``msgid``,
        ``batch``, ``account``, each sent only with the capability it needs."""
        if source is None:
            source = sender.prefix if sender is not None else self.name
        account = sender.account if sender is not None else None
        line = fit(format_line(source, command, params))
        line = tag_prefix(to.caps, self.timestamp, meta or {}, account, tags) + line
        self.log.append(("out", to.nickname or "*", line))
        to.send_line(line)

    def reply(self, to: User, numeric: str, *params: str) -> None:
        """A numeric reply: ``:server NNN <nick or *> params``."""
        self.send(to, numeric, to.nickname or "*", *params)

    def stamp(
        self,
        channel: Channel | None,
        sender: User,
        command: str,
        text: str,
        tags: Mapping[str, str | None],
    ) -> dict[str, str] | None:
        """``time`` and ``msgid`` of a PRIVMSG or NOTICE relayed now (None: no history)."""
        return self.history.record(self.wall, channel, sender, command, text, tags)

    def timestamp(self) -> str:
        """The ``server-time`` value for now: ``YYYY-MM-DDThh:mm:ss.sssZ``."""
        now = self.wall()
        millis = int(now * 1000) % 1000
        return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{millis:03d}Z"

    # -- state -------------------------------------------------------------------------

    def find_user(self, nick: str) -> User | None:
        """The registered user holding ``nick`` (any case), or None."""
        user = self.users.get(fold(nick))
        return user if user is not None and user.registered else None

    def peers(self, user: User) -> list[User]:
        """Everyone sharing a channel with ``user``, each once, ``user`` excluded."""
        seen: dict[User, None] = {}
        for channel in user.channels.values():
            seen.update(dict.fromkeys(channel.users))
        seen.pop(user, None)
        return list(seen)

    def leave(self, user: User, channel: Channel) -> None:
        """Take ``user`` out of ``channel``; an empty channel ceases to exist."""
        channel.users.pop(user, None)
        user.channels.pop(fold(channel.name), None)
        if not channel.users:
            self.channels.pop(fold(channel.name), None)
            self.history.forget(channel.name)

    def quit(self, user: User, reason: str | None) -> None:
        """``user`` leaves the network: QUIT to each peer once, then forget the nick.

        A TCP client also gets ``ERROR`` and its connection is closed."""
        if user.registered:
            params = (reason,) if reason else ()
            for peer in self.peers(user):
                self.send(peer, "QUIT", *params, sender=user)
        for channel in list(user.channels.values()):
            self.leave(user, channel)
        if user.nickname and self.users.get(fold(user.nickname)) is user:
            del self.users[fold(user.nickname)]
        user.registered = False
        if isinstance(user, LocalUser):
            user.gone = True
        elif isinstance(user, Connection):
            self._close(user, reason or "Client Quit")

    def try_register(self, user: User) -> None:
        """Complete registration once NICK, USER (and CAP END, PASS) are in."""
        if user.registered or user.negotiating or not user.nickname or not user.username:
            return
        if self.password is not None and user.password != self.password:
            self.reply(user, "464", "Password incorrect")
            self.quit(user, "Bad password")
            return
        user.registered = True
        self._welcome(user)

    def _welcome(self, user: User) -> None:
        created = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(self.created))
        self.reply(user, "001", f"Welcome to the {self.network} IRC Network {user.prefix}")
        self.reply(user, "002", f"Your host is {self.name}, running version {VERSION}")
        self.reply(user, "003", f"This server was created {created}")
        self.reply(user, "004", self.name, VERSION, USER_MODES, "bklov" + CHANNEL_FLAGS, "bklov")
        self.reply(
            user,
            "005",
            f"CASEMAPPING={CASEMAPPING}",
            "CHANTYPES=#",
            "PREFIX=(ov)@+",
            f"CHANMODES=b,k,l,{CHANNEL_FLAGS}",
            f"NETWORK={self.network}",
            f"NICKLEN={NICKLEN}",
            f"CHANNELLEN={CHANNELLEN}",
            f"TOPICLEN={TOPICLEN}",
            *self.history.isupport(),
            "are supported by this server",
        )
        if self.motd is None:
            self.reply(user, "422", "MOTD File is missing")
            return
        self.reply(user, "375", f"- {self.name} Message of the Day -")
        for text in self.motd.splitlines() or [""]:
            self.reply(user, "372", f"- {text}")
        self.reply(user, "376", "End of /MOTD command.")

    # -- connections -------------------------------------------------------------------

    def _close(self, conn: Connection, reason: str) -> None:
        """ERROR, then close; the user is taken out of every channel first."""
        if conn.registered:
            self.quit(conn, reason)  # comes back here once unregistered
            return
        if conn in self._connections:
            self._connections.remove(conn)
        if conn.nickname and self.users.get(fold(conn.nickname)) is conn:
            del self.users[fold(conn.nickname)]
        if conn.alive and conn.transport is not None and not conn.transport.disconnecting:
            conn.send_line(f"ERROR :Closing Link: {conn.host} ({reason})")
            conn.transport.loseConnection()

    def _lost(self, conn: Connection) -> None:
        """The socket closed under us (no QUIT): the peers see a QUIT."""
        if conn.registered:
            self.quit(conn, "Connection closed")
        elif conn in self._connections:
            self._close(conn, "Connection closed")
