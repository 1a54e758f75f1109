"""Issue 14 (B): no sequence of membership messages may raise out of the core.

A server, a bouncer or a lost line can leave our picture of a channel out of step
with the server's: a JOIN for a channel we think we are in, a PART for one we are
not in, a NICK of a user we do not know, a bare ``001``, numerics with parameters
missing.  Each such line is ignored where it makes no sense (a debug log); none may
raise, because an exception out of ``receive_data`` drops the connection and the
rest of that read with it.  The state machine below sends random sequences of them
through :class:`~logbot.irc.core.IRCConnection` and checks, after every read, that
the rest of the read was handled and that the state is still consistent.
"""

from __future__ import annotations

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from logbot.irc import events as ev
from logbot.irc.core import IRCConnection
from logbot.irc.flood import FloodControl
from logbot.irc.message import ParseError, parse
from logbot.irc.state import IRCState


def _connection() -> IRCConnection:
    conn = IRCConnection("bot", flood=FloodControl(enabled=False))
    conn.connection_made(0.0)
    conn.data_to_send(0.0)
    conn.receive_data(
        b":srv 001 bot :Welcome bot!b@bot.host\r\n"
        b":srv 005 bot PREFIX=(ov)@+ CASEMAPPING=rfc1459 :are supported\r\n",
        0.0,
    )
    conn.data_to_send(0.0)
    return conn


def _sent(conn: IRCConnection, now: float) -> list[str]:
    return conn.data_to_send(now).decode().split("\r\n")[:-1]


def _consistency_errors(state: IRCState) -> list[str]:
    """Everything that must hold between ``channels`` and ``users``, as messages."""
    errors = []
    me = state.fold(state.nick)
    if state.users.get(me) is not state.me or state.me.nick != state.nick:
        errors.append(f"our own entry is not users[{me!r}]")
    for key, channel in state.channels.items():
        if key != state.fold(channel.name):
            errors.append(f"channel {channel.name!r} filed under {key!r}")
        if me not in channel.members:
            errors.append(f"we are in {key} but not among its members")
        for member in channel.members:
            user = state.users.get(member)
            if user is None:
                errors.append(f"{member!r} is a member of {key} but no known user")
            elif key not in user.channels:
                errors.append(f"{member!r} is a member of {key} that it does not list")
    for key, user in state.users.items():
        if key != state.fold(user.nick):
            errors.append(f"user {user.nick!r} filed under {key!r}")
        for channel_key in user.channels:
            channel = state.channels.get(channel_key)
            if channel is None:
                errors.append(f"{key!r} lists {channel_key}, which we are not in")
            elif key not in channel.members:
                errors.append(f"{key!r} lists {channel_key} but is not among its members")
        if not user.channels and user is not state.me:
            errors.append(f"{key!r} shares no channel with us but is still tracked")
    return errors


# -- the regression, by hand --------------------------------------------------------------


def test_duplicate_own_join_then_part_then_nick_of_a_member_is_handled() -> None:
    """The issue's sequence: the second JOIN replaced the channel and its member
    list, alice still listed #a, and after our PART her NICK looked #a up:
    ``KeyError`` out of ``receive_data``, the PING after it never answered."""
    conn = _connection()
    events = conn.receive_data(
        b":bot!b@h JOIN #a\r\n"
        b":alice!a@h JOIN #a\r\n"
        b":bot!b@h JOIN #a\r\n"
        b":bot!b@h PART #a\r\n"
        b":alice!a@h NICK al\r\n"
        b"PING :still-here\r\n",
        1.0,
    )
    assert _sent(conn, 1.0) == ["PONG still-here"]
    [nick] = [e for e in events if isinstance(e, ev.NickChanged)]
    assert nick.channels == ()  # we left #a: alice shares nothing with us now
    assert conn.state.channels == {} and conn.state.user("alice") is None
    assert _consistency_errors(conn.state) == []


def test_duplicate_own_join_keeps_the_books_straight() -> None:
    """A JOIN of ours for a channel we are in means we missed leaving it: the old
    member list is dropped (the NAMES that follow refill it), never half kept."""
    conn = _connection()
    conn.receive_data(b":bot!b@h JOIN #a\r\n:alice!a@h JOIN #a\r\n:bot!b@h JOIN #a\r\n", 1.0)
    assert _consistency_errors(conn.state) == []
    conn.receive_data(b":srv 353 bot = #a :@bot alice bob\r\n:bob!b@h NICK alice\r\n", 2.0)
    assert _consistency_errors(conn.state) == []
    assert set(conn.state.channel("#a").members) == {"bot", "alice"}


def test_a_user_renamed_to_our_nick_leaves_us_alone() -> None:
    """It cannot be right (the server gave us that nick), and taking it would put
    another user in our own entry."""
    conn = _connection()
    conn.receive_data(b":bot!b@h JOIN #a\r\n:alice!a@h JOIN #a\r\n:alice!a@h NICK Bot\r\n", 1.0)
    assert conn.current_nick == "bot" and conn.state.user("bot") is conn.state.me
    assert _consistency_errors(conn.state) == []


def test_our_rename_onto_a_known_user_forgets_that_user() -> None:
    """The server gave us that nick, so its former holder is gone (a missed QUIT)."""
    conn = _connection()
    conn.receive_data(b":bot!b@h JOIN #a\r\n:alice!a@h JOIN #a\r\n:bot!b@h NICK alice\r\n", 1.0)
    assert conn.current_nick == "alice" and conn.state.user("alice") is conn.state.me
    assert set(conn.state.channel("#a").members) == {"alice"}
    assert _consistency_errors(conn.state) == []


def test_bare_001_and_nicks_that_are_no_nicks_change_nothing() -> None:
    """An empty nick for us would make every line without a source look like ours;
    one of two words would never match a source at all."""
    conn = _connection()
    conn.receive_data(
        b":bot!b@h JOIN #a\r\n:srv 001\r\n:srv 001 :\r\n:srv 001 : \r\n"
        b":bot!b@h NICK :\r\n:bot!b@h NICK :two words\r\n",
        1.0,
    )
    assert conn.current_nick == "bot" and conn.state.channel("#a") is not None
    assert _consistency_errors(conn.state) == []


# -- every sequence --------------------------------------------------------------------

ME = "%me%"  # our nick at the time the line is sent
# Small pools, so that the same nicks and channels meet again and again: ourselves
# most often, another spelling of our nick, a nick we may take, two users (one in two
# spellings), no nick at all; a source may also be a server.
_NICKS = st.sampled_from([ME, ME, "Bot", "bot2", "alice", "ALICE", "bob", ""])
_CHANNELS = st.sampled_from(["#a", "#A", "#b"])
_SOURCES = st.sampled_from([ME, ME, "Bot", "bot2", "alice", "ALICE", "bob", "", "srv"]).map(
    lambda nick: "" if not nick else ":srv " if nick == "srv" else f":{nick}!u@h "
)
_USERS = st.sampled_from(["alice", "ALICE", "bob", "bot2"])
_REASONS = st.sampled_from(["", " :bye", " :", " :a b"])
_NAMES = st.lists(
    st.tuples(st.sampled_from(["", "@", "+", "@+", "@@"]), _NICKS, st.sampled_from(["", "!u@h"])),
    max_size=5,
).map(lambda names: " ".join(f"{p}{n}{h}" for p, n, h in names))


def _line(*parts: st.SearchStrategy[str] | str) -> st.SearchStrategy[str]:
    return st.tuples(*(st.just(p) if isinstance(p, str) else p for p in parts)).map("".join)


_JOIN_TAILS = st.sampled_from(["", "", " acct :Real Name", " * :x"])
_WELL_FORMED = st.one_of(
    _line(_SOURCES, "JOIN ", _CHANNELS, _JOIN_TAILS),
    _line(_SOURCES, "PART ", _CHANNELS, _REASONS),
    _line(_SOURCES, "KICK ", _CHANNELS, " ", _NICKS, _REASONS),
    _line(_SOURCES, "QUIT", _REASONS),
    _line(_SOURCES, "NICK ", _NICKS),
    _line(":srv 353 ", _NICKS, " ", st.sampled_from(["=", "@", "*"]), " ", _CHANNELS, " :", _NAMES),
    _line(":srv 366 ", _NICKS, " ", _CHANNELS, " :End of /NAMES list."),
    _line(":srv 001 ", _NICKS.filter(bool), " :Welcome"),
    _line(_SOURCES, "MODE ", _CHANNELS, " ", st.sampled_from(["+o", "-o+v", "+ov"]), " ", _NICKS),
)
_MISSING_PARAMETERS = st.sampled_from(
    [
        "JOIN",
        "PART",
        "KICK #a",
        "NICK",
        "NICK :",
        ":srv 353",
        ":srv 353 bot",
        ":srv 353 bot = #a",
        ":srv 366",
        ":srv 366 bot",
        ":srv 001",
        ":srv 001 :",
        ":srv 001 : ",
        "NICK :two words",
        "MODE #a",
    ]
).flatmap(lambda line: _SOURCES.map(lambda source: line if line[0] == ":" else source + line))


class MembershipSequences(RuleBasedStateMachine):
    """Reads of a few such lines each, every read ended by a PING that must be
    answered; a model of our own nick and channels to compare the state with."""

    def __init__(self) -> None:
        super().__init__()
        self.conn = _connection()
        self.now = 0.0
        self.pings = 0
        self.nick = "bot"  # the model: what the server told us of ourselves
        self.channels: set[str] = set()

    @initialize()
    def check_start(self) -> None:
        assert self.conn.registered and _consistency_errors(self.conn.state) == []

    def _model(self, line: str) -> None:
        """Follow our own nick and channels the way a server means them."""
        fold = self.conn.state.fold
        try:
            msg = parse(line)
        except ParseError:
            return
        command, params = msg.command, [*msg.params, "", ""]
        source = None if msg.source is None else msg.source.partition("!")[0]
        mine = source is not None and fold(source) == fold(self.nick)
        we_left = (command == "PART" and mine) or (
            command == "KICK" and fold(params[1]) == fold(self.nick)
        )
        a_nick = params[0] and " " not in params[0]  # (else no nick at all)
        if command == "JOIN" and mine and params[0]:
            self.channels.add(fold(params[0]))
        elif we_left and params[0]:
            self.channels.discard(fold(params[0]))
        elif (command == "001" or (command == "NICK" and mine)) and a_nick:
            self.nick = params[0]

    def _read(self, *lines: str) -> None:
        """One read of ``lines`` and a PING after them, which must be answered."""
        self.now += 0.01
        self.pings += 1
        token = f"after-{self.pings}"
        data = b""
        for template in lines:
            line = template.replace(ME, self.conn.current_nick)
            data += line.encode() + b"\r\n"
            self._model(line)
        data += f"PING :{token}\r\n".encode()
        self.conn.receive_data(data, self.now)  # must not raise
        assert f"PONG {token}" in _sent(self.conn, self.now)  # the rest of the read ran

    # One rule per kind of line, so that the runs reach deep states (we joined #a
    # twice with a user in it, then parted, then the user changed nick) quickly.

    @rule(channel=_CHANNELS, tail=_JOIN_TAILS)
    def we_join(self, channel: str, tail: str) -> None:
        self._read(f":{ME}!b@h JOIN {channel}{tail}")

    @rule(user=_USERS, channel=_CHANNELS, tail=_JOIN_TAILS)
    def user_joins(self, user: str, channel: str, tail: str) -> None:
        self._read(f":{user}!u@h JOIN {channel}{tail}")

    @rule(channel=_CHANNELS, reason=_REASONS)
    def we_part(self, channel: str, reason: str) -> None:
        self._read(f":{ME}!b@h PART {channel}{reason}")

    @rule(source=_SOURCES, channel=_CHANNELS, reason=_REASONS)
    def someone_parts(self, source: str, channel: str, reason: str) -> None:
        self._read(f"{source}PART {channel}{reason}")

    @rule(source=_SOURCES, channel=_CHANNELS, victim=_NICKS, reason=_REASONS)
    def kick(self, source: str, channel: str, victim: str, reason: str) -> None:
        self._read(f"{source}KICK {channel} {victim}{reason}")

    @rule(source=_SOURCES, reason=_REASONS)
    def quit(self, source: str, reason: str) -> None:
        self._read(f"{source}QUIT{reason}")

    @rule(user=_USERS, new=_NICKS)
    def user_renames(self, user: str, new: str) -> None:
        self._read(f":{user}!u@h NICK {new}")

    @rule(source=_SOURCES, new=_NICKS)
    def nick(self, source: str, new: str) -> None:
        self._read(f"{source}NICK {new}")

    @rule(me=_NICKS, kind=st.sampled_from(["=", "@", "*"]), channel=_CHANNELS, names=_NAMES)
    def names(self, me: str, kind: str, channel: str, names: str) -> None:
        self._read(f":srv 353 {me} {kind} {channel} :{names}", f":srv 366 {me} {channel} :End")

    @rule(nick=_NICKS.filter(bool))
    def welcome(self, nick: str) -> None:
        self._read(f":srv 001 {nick} :Welcome")

    @rule(line=_MISSING_PARAMETERS)
    def missing_parameters(self, line: str) -> None:
        self._read(line)

    @rule(lines=st.lists(st.one_of(_WELL_FORMED, _MISSING_PARAMETERS), min_size=2, max_size=6))
    def several(self, lines: list[str]) -> None:
        self._read(*lines)

    @invariant()
    def state_is_consistent(self) -> None:
        state = self.conn.state
        assert _consistency_errors(state) == []
        assert state.nick == self.nick
        assert set(state.channels) == self.channels


MembershipSequences.TestCase.settings = settings(
    max_examples=200, stateful_step_count=50, deadline=None
)
test_membership_sequences = MembershipSequences.TestCase
