"""The people and rooms of :mod:`logbot.testing.ircd`: ``User``, ``LocalUser``, ``Channel``.

A ``User`` is whoever holds a nick on the test server.  Two kinds exist and the server
treats them the same way, so a bot cannot tell them apart:

* a TCP client (``ircd.Connection``, a ``User`` and a ``LineReceiver``): lines go out
  on its socket;
* a ``LocalUser``, simulated inside the server: its commands are plain method calls
  (``alice.say("#demo", "hello")``) that go through the same command handlers as a
  client's lines, and the lines the server sends it are kept in ``received``.

The current nick is ``nickname`` on every user, because ``LocalUser.nick(new)`` is the
request to change it (``Connection.nick`` is the same string, for reading).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import Protocol

from logbot.irc.message import Message, format

__all__ = ["Channel", "LocalUser", "Server", "User", "names_prefix"]


class Server(Protocol):
    """What users and the command handlers use of
    :class:`~logbot.testing.ircd.Server`.

    Why a protocol: the server module imports the users and the handlers, so they name
    the server's parts they touch here instead of importing it back (mypy checks that
    ``Server`` has them).
    """

    name: str
    network: str
    users: dict[str, User]
    channels: dict[str, Channel]
    caps: tuple[str, ...]  # the capabilities offered, as CAP LS lists them ("sasl=...")
    wall: Callable[[], float]

    def dispatch(self, user: User, msg: Message, line: str) -> None: ...

    def send(
        self,
        to: User,
        command: str,
        *params: str,
        sender: User | None = None,
        tags: dict[str, str | None] | None = None,
        source: str | None = None,
        meta: Mapping[str, str | None] | None = None,
    ) -> None: ...

    def stamp(
        self,
        channel: Channel | None,
        sender: User,
        command: str,
        text: str,
        tags: Mapping[str, str | None],
    ) -> dict[str, str] | None: ...

    def reply(self, to: User, numeric: str, *params: str) -> None: ...

    def find_user(self, nick: str) -> User | None: ...

    def peers(self, user: User) -> list[User]: ...

    def leave(self, user: User, channel: Channel) -> None: ...

    def quit(self, user: User, reason: str | None) -> None: ...

    def try_register(self, user: User) -> None: ...


class User:
    """What the server knows of one nick holder (see the module docstring)."""

    server: Server

    def __init__(
        self,
        server: Server,
        nickname: str | None,
        user: str | None,
        host: str,
        realname: str | None,
        account: str | None = None,
    ) -> None:
        self.server = server
        self.nickname = nickname
        self.username = user
        self.host = host
        self.realname = realname
        self.account = account
        self.away: str | None = None
        self.modes: set[str] = set()  # user modes: "i", "w"
        self.caps: set[str] = set()  # IRCv3 capabilities enabled (TCP clients only)
        self.channels: dict[str, Channel] = {}  # folded name -> channel
        self.registered = False
        self.negotiating = False  # CAP LS or REQ seen, CAP END not yet
        self.password: str | None = None  # from PASS

    @property
    def prefix(self) -> str:
        """``nick!user@host``, the source of what this user sends."""
        return f"{self.nickname}!{self.username}@{self.host}"

    def send_line(self, line: str) -> None:
        """Deliver one formatted line (without CRLF) to this user."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.nickname or '*'}>"


class LocalUser(User):
    """A simulated user living inside the server; no socket.

    Each request formats one IRC line and hands it to the server's command handlers,
    exactly as if a client had sent it: errors come back as numerics in ``received``
    (a ``kick`` by a non-op gets 482), nothing is raised for IRC-level refusals.  A
    text with CR, LF or NUL raises ``ValueError`` (it would be a second command).  A
    user that has quit raises ``RuntimeError`` on any request.
    """

    def __init__(
        self,
        server: Server,
        nickname: str,
        user: str,
        host: str,
        realname: str,
        account: str | None = None,
    ) -> None:
        super().__init__(server, nickname, user, host, realname, account)
        self.received: list[str] = []  # every line the server sent us, without CRLF
        self.registered = True
        self.gone = False

    def send_line(self, line: str) -> None:
        self.received.append(line)

    def lines_since(self, n: int) -> list[str]:
        """The lines received after the first ``n`` (``n = len(user.received)`` earlier)."""
        return self.received[n:]

    # -- requests (IRC commands) -------------------------------------------------------

    def send(self, command: str, *params: str) -> None:
        """Send any command, as a client would (``alice.send("WHO", "#demo")``)."""
        if self.gone:
            raise RuntimeError(f"{self.nickname} has quit")
        msg = Message(command, params)
        line = format(msg)  # ValueError for CR/LF/NUL or a bad middle parameter
        self.server.dispatch(self, msg, line)

    def join(self, channel: str, key: str | None = None) -> None:
        self.send("JOIN", channel, *([key] if key else []))

    def part(self, channel: str, reason: str | None = None) -> None:
        self.send("PART", channel, *([reason] if reason else []))

    def say(self, target: str, text: str) -> None:
        self.send("PRIVMSG", target, text)

    def action(self, target: str, text: str) -> None:
        """A CTCP ACTION (``/me waves``)."""
        self.send("PRIVMSG", target, f"\x01ACTION {text}\x01")

    def notice(self, target: str, text: str) -> None:
        self.send("NOTICE", target, text)

    def nick(self, new: str) -> None:
        """Change nick (the current one is ``nickname``)."""
        self.send("NICK", new)

    def topic(self, channel: str, text: str | None = None) -> None:
        """Set the topic (``""`` clears it); without ``text``, ask for it."""
        self.send("TOPIC", channel, *([] if text is None else [text]))

    def kick(self, channel: str, nick: str, reason: str | None = None) -> None:
        self.send("KICK", channel, nick, *([reason] if reason else []))

    def mode(self, target: str, *args: str) -> None:
        """``alice.mode("#demo", "+o", "bob")``, ``alice.mode("#demo", "+nt")``."""
        self.send("MODE", target, *args)

    def set_away(self, message: str | None = None) -> None:
        """AWAY: with a message, away; without, back."""
        self.send("AWAY", *([message] if message else []))

    def quit(self, reason: str | None = None) -> None:
        self.send("QUIT", *([reason] if reason else []))


class Channel:
    """One channel: members in join order with their prefixes, topic, modes.

    ``members`` is computed on each access (``{"alice": {"@"}, "bob": set()}``, by
    current nick): read it, do not change it; changes go through IRC commands.
    ``topic`` is None when there is none.
    """

    def __init__(self, name: str, created: float) -> None:
        self.name = name
        self.created = created
        self.topic: str | None = None
        self.topic_setter: str | None = None
        self.topic_time = 0
        self.modes: set[str] = {"n", "t"}  # flags among "imnst"; "+nt" as most servers
        self.key: str | None = None
        self.limit: int | None = None
        self.bans: list[str] = []
        self.users: dict[User, set[str]] = {}  # user -> {"@", "+"}, in join order

    @property
    def members(self) -> dict[str, set[str]]:
        return {user.nickname or "*": set(prefixes) for user, prefixes in self.users.items()}

    def is_op(self, user: User) -> bool:
        return "@" in self.users.get(user, ())

    def can_speak(self, user: User, banned: bool) -> bool:
        """+n keeps outsiders out; +m and bans silence members without @ or +."""
        prefixes = self.users.get(user)
        if prefixes is None:
            return "n" not in self.modes
        return bool(prefixes) or ("m" not in self.modes and not banned)

    def mode_string(self, show_key: bool) -> tuple[str, ...]:
        """``("+ntk", "key")`` for 324; the key shown only to members."""
        flags = "".join(sorted(self.modes))
        params: list[str] = []
        if self.key is not None:
            flags += "k"
            params.append(self.key if show_key else "*")
        if self.limit is not None:
            flags += "l"
            params.append(str(self.limit))
        return ("+" + flags, *params)

    def __repr__(self) -> str:
        return f"<Channel {self.name} {len(self.users)} members>"


def names_prefix(prefixes: Collection[str], multi: bool) -> str:
    """``"@+"``, ``"@"`` or ``"+"`` for a member: all with multi-prefix, else the highest."""
    ordered = "".join(p for p in "@+" if p in prefixes)
    return ordered if multi else ordered[:1]
