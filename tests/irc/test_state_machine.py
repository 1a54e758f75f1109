"""Issue 14 (B): no sequence of membership messages, however inconsistent, may raise
out of the core or leave the state contradicting itself.

The state is fed by the server, and servers, bouncers and test servers send JOINs we
already had, PARTs of channels we are not in, NICKs of users we never saw and numerics
with parameters missing.  An exception there escaped ``IRCConnection.receive_data``:
the adapter dropped the connection and the rest of that read was lost.

Everything here goes through the public core API: bytes in with ``receive_data`` and
a time, events out.
"""

from __future__ import annotations

import logging

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from logbot.irc import events as ev
from logbot.irc.core import IRCConnection
from logbot.irc.flood import FloodControl


def registered() -> IRCConnection:
    """A connection that has gone through CAP and 001 as ``bot``."""
    conn = IRCConnection("bot", flood=FloodControl(enabled=False))
    conn.connection_made(0.0)
    conn.data_to_send(0.0)
    lines = [
        ":srv CAP * LS :server-time",
        ":srv CAP * ACK :server-time",
        ":srv 001 bot :Welcome bot!~b@bot.host",
        ":srv 005 bot PREFIX=(ov)@+ CHANTYPES=# :are supported",
        ":srv 376 bot :End of MOTD",
    ]
    conn.receive_data("".join(f"{line}\r\n" for line in lines).encode(), 0.5)
    conn.data_to_send(0.5)
    assert conn.registered
    return conn


def _read(*lines: str) -> bytes:
    return "".join(f"{line}\r\n" for line in lines).encode()


# -- the regression, by hand -------------------------------------------------------------


def test_nick_of_a_member_after_a_duplicate_join_and_a_part() -> None:
    """The issue's sequence: our JOIN twice, our PART, then a member's NICK.  The
    second JOIN replaced the channel (alice's membership went with it but her user
    still named the channel), the PART dropped it, and the NICK looked the channel up:
    ``KeyError`` out of ``receive_data``, and the message after it was lost."""
    conn = registered()
    events = conn.receive_data(
        _read(
            ":bot!~b@bot.host JOIN #a",
            ":alice!a@a.host JOIN #a",
            ":bot!~b@bot.host JOIN #a",
            ":bot!~b@bot.host PART #a",
            ":alice!a@a.host NICK alice2",
            ":carol!c@c.host PRIVMSG #b :after the NICK",
        ),
        1.0,
    )
    assert [e.text for e in events if isinstance(e, ev.Privmsg)] == ["after the NICK"]
    [nick] = [e for e in events if isinstance(e, ev.NickChanged)]
    assert (nick.old, nick.new, nick.channels) == ("alice", "alice2", ())
    assert conn.state.channels == {}
    assert set(conn.state.users) == {"bot"}  # alice shares no channel with us now


def test_duplicate_join_starts_the_channel_afresh() -> None:
    """A second JOIN of ours means the server has us joining now (its NAMES follow):
    the members we knew are stale and are forgotten with the old channel."""
    conn = registered()
    conn.receive_data(
        _read(
            ":bot!~b@bot.host JOIN #a",
            ":srv 353 bot = #a :bot @alice bob",
            ":bot!~b@bot.host JOIN #A",
            ":srv 353 bot = #A :bot +bob",
        ),
        1.0,
    )
    channel = conn.state.channel("#a")
    assert channel is not None and channel.name == "#A"
    assert channel.members == {"bot": set(), "bob": {"v"}}
    assert conn.state.user("alice") is None
    assert conn.state.shared_channels("bob") == ("#A",)


def test_nick_onto_a_known_user_forgets_the_stale_one() -> None:
    """``alice NICK bob`` while we still list a bob: the server says bob is alice now,
    so the bob we knew is gone (we missed his QUIT or NICK)."""
    conn = registered()
    conn.receive_data(
        _read(
            ":bot!~b@bot.host JOIN #a",
            ":bot!~b@bot.host JOIN #b",
            ":srv 353 bot = #a :bot alice",
            ":srv 353 bot = #b :bot @bob",
            ":alice!a@a.host NICK bob",
        ),
        1.0,
    )
    state = conn.state
    assert state.shared_channels("bob") == ("#a",)
    assert state.channel("#b").members == {"bot": set()}
    assert state.user("alice") is None


def test_nick_onto_our_own_nick_is_ignored() -> None:
    """Only our own NICK changes our nick; another user taking it makes no sense."""
    conn = registered()
    conn.receive_data(_read(":bot!~b@h JOIN #a", ":alice!a@h JOIN #a", ":alice!a@h NICK BOT"), 1.0)
    assert conn.current_nick == "bot"
    assert conn.state.shared_channels("alice") == ("#a",)
    assert set(conn.state.channel("#a").members) == {"bot", "alice"}


def test_bare_and_empty_welcome_keep_our_nick() -> None:
    """A 001 without a nick, or with one that cannot be a nick, leaves ours alone
    (what the core does about a second 001 is not the state's business)."""
    conn = registered()
    conn.receive_data(_read(":srv 001", ":srv 001 :", "001", ":srv 001 :a b", "PING :here"), 1.0)
    assert conn.current_nick == "bot"
    assert conn.data_to_send(1.0).endswith(b"PONG here\r\n")  # the rest of the read ran


# -- every sequence ----------------------------------------------------------------------

SELF = "<self>"  # stands for whatever our nick is at that step
# Case variants, and two nicks that are one under rfc1459 (the CASEMAPPING rule below
# switches to it) but two under ascii.
NICKS = ("alice", "ALICE", "bob", "x[", "X{", SELF)
CHANNELS = ("#a", "#A", "#b", "#[", "#{")
MAPPINGS = ("ascii", "rfc1459", "strict-rfc1459")
BROKEN = (
    ":srv 001",
    "001",
    ":srv 001 :",
    ":srv 001 : ",
    ":srv 001 :two words",
    ":srv 353",
    ":srv 353 bot",
    ":srv 353 bot =",
    ":srv 353 bot = #a",
    ":srv 353 bot = #a :",
    ":srv 353 bot = #a :@ + !u@h",
    ":srv 366",
    ":srv 366 bot",
    ":srv 005",
    ":srv 005 bot",
    ":alice!a@h JOIN",
    ":alice!a@h JOIN :",
    ":alice!a@h PART",
    ":alice!a@h KICK",
    ":alice!a@h KICK #a",
    ":alice!a@h KICK #a :",
    ":alice!a@h NICK",
    ":alice!a@h NICK :",
    ":alice!a@h NICK :two words",
    ":alice!a@h QUIT",
    ":alice!a@h MODE #a",
    ":alice!a@h MODE #a +o",
    "JOIN #a",
    "PART #a",
    "KICK #a bot",
    "NICK carol",
    "QUIT :gone",
    ":bot JOIN",
    ":bot NICK :",
)


class CoreMachine(RuleBasedStateMachine):
    """Drives a registered connection with random JOIN, PART, KICK, QUIT, NICK, MODE,
    353, 366, 001 and CASEMAPPING lines and broken ones, each followed in the same read
    by a PRIVMSG that must come out as an event (the rest of the read is processed)."""

    def __init__(self) -> None:
        super().__init__()
        self.conn = registered()
        self.now = 1.0
        self.step = 0
        self.problems: list[logging.LogRecord] = []
        self._handler = _Collect(self.problems)
        logging.getLogger("logbot.irc").addHandler(self._handler)

    def teardown(self) -> None:
        logging.getLogger("logbot.irc").removeHandler(self._handler)

    # -- helpers ---------------------------------------------------------------------

    def nick(self, who: str) -> str:
        return self.conn.current_nick if who == SELF else who

    def mask(self, who: str) -> str:
        nick = self.nick(who)
        return f"{nick}!{nick.lower().strip('[{')}@{nick}.host"

    def is_us(self, who: str) -> bool:
        """Whether ``who`` is our nick now (a pool nick is, after a NICK or 001)."""
        return self.conn.state.is_self(self.nick(who))

    def is_ours(self, channel: str) -> bool:
        return self.conn.state.channel(channel) is not None

    def members(self, channel: str) -> set[str]:
        found = self.conn.state.channel(channel)
        return set() if found is None else set(found.members)

    def fold(self, name: str) -> str:
        return self.conn.state.fold(name)

    def feed(self, *lines: str) -> list[ev.Event]:
        self.step += 1
        marker = f"step {self.step}"
        data = _read(*lines, f":zed!z@z.host PRIVMSG #marker :{marker}")
        events = self.conn.receive_data(data, self.now)
        self.conn.data_to_send(self.now)  # runs the timers, as the adapter does
        self.now += 0.25
        texts = [e.text for e in events if isinstance(e, ev.Privmsg) and e.target == "#marker"]
        assert texts == [marker], f"the rest of the read after {lines!r} was lost"
        return events

    # -- rules -----------------------------------------------------------------------

    @rule(who=st.sampled_from(NICKS), channel=st.sampled_from(CHANNELS), extended=st.booleans())
    def join(self, who: str, channel: str, extended: bool) -> None:
        ours, us = self.is_ours(channel), self.is_us(who)
        tail = " acct :Real Name" if extended else ""
        self.feed(f":{self.mask(who)} JOIN {channel}{tail}")
        if us:
            assert self.members(channel) == {self.fold(self.conn.current_nick)}
        elif ours:
            assert self.fold(who) in self.members(channel)

    @rule(who=st.sampled_from(NICKS), channel=st.sampled_from(CHANNELS))
    def part(self, who: str, channel: str) -> None:
        key, us = self.fold(self.nick(who)), self.is_us(who)
        self.feed(f":{self.mask(who)} PART {channel} :bye")
        if us:
            assert not self.is_ours(channel)
        else:
            assert key not in self.members(channel)

    @rule(
        by=st.sampled_from(NICKS), channel=st.sampled_from(CHANNELS), victim=st.sampled_from(NICKS)
    )
    def kick(self, by: str, channel: str, victim: str) -> None:
        key, us = self.fold(self.nick(victim)), self.is_us(victim)
        self.feed(f":{self.mask(by)} KICK {channel} {self.nick(victim)} :out")
        if us:
            assert not self.is_ours(channel)
        else:
            assert key not in self.members(channel)

    @rule(who=st.sampled_from(NICKS))
    def quit(self, who: str) -> None:
        us = self.is_us(who)
        self.feed(f":{self.mask(who)} QUIT :gone")
        if not us:
            assert self.conn.state.user(who) is None

    @rule(who=st.sampled_from(NICKS), new=st.sampled_from(NICKS))
    def nick_change(self, who: str, new: str) -> None:
        state = self.conn.state
        old, new_nick = self.nick(who), self.nick(new)
        known, us = state.user(old) is not None, state.is_self(old)
        onto_us = not us and state.is_self(new_nick)
        self.feed(f":{self.mask(who)} NICK {new_nick}")
        if us:
            assert self.conn.current_nick == new_nick
        if known and not onto_us:
            assert state.user(new_nick) is not None
            if self.fold(old) != self.fold(new_nick):
                assert state.user(old) is None

    @rule(
        channel=st.sampled_from(CHANNELS),
        entries=st.lists(
            st.tuples(st.sampled_from(["", "@", "+", "@+"]), st.sampled_from(NICKS), st.booleans()),
            max_size=4,
        ),
    )
    def names(self, channel: str, entries: list[tuple[str, str, bool]]) -> None:
        ours = self.is_ours(channel)
        words = [p + (self.mask(n) if full else self.nick(n)) for p, n, full in entries]
        self.feed(f":srv 353 {self.conn.current_nick} = {channel} :{' '.join(words)}")
        if ours:
            assert {self.fold(self.nick(n)) for _, n, _ in entries} <= self.members(channel)

    @rule(channel=st.sampled_from(CHANNELS))
    def end_of_names(self, channel: str) -> None:
        self.feed(f":srv 366 {self.conn.current_nick} {channel} :End of /NAMES list.")

    @rule(
        channel=st.sampled_from(CHANNELS),
        modes=st.sampled_from(["+o", "-o", "+ov", "+v-o"]),
        who=st.sampled_from(NICKS),
    )
    def mode(self, channel: str, modes: str, who: str) -> None:
        self.feed(f":srv MODE {channel} {modes} {self.nick(who)} {self.nick(who)}")

    @rule(nick=st.sampled_from((*NICKS, None)))
    def welcome(self, nick: str | None) -> None:
        line = ":srv 001" if nick is None else f":srv 001 {self.nick(nick)} :Welcome"
        self.feed(line)
        if nick is not None:
            assert self.conn.current_nick == self.nick(nick)

    @rule(mapping=st.sampled_from(MAPPINGS))
    def casemapping(self, mapping: str) -> None:
        self.feed(f":srv 005 {self.conn.current_nick} CASEMAPPING={mapping} :are supported")

    @rule(line=st.sampled_from(BROKEN))
    def broken(self, line: str) -> None:
        self.feed(line)

    # -- what must hold after every step ---------------------------------------------

    @invariant()
    def consistent(self) -> None:
        state = self.conn.state
        fold = state.fold
        me = fold(state.nick)
        assert state.users.get(me) is state.me and state.me.nick == state.nick
        for key, channel in state.channels.items():
            assert fold(channel.name) == key
            assert me in channel.members, f"we are not listed in {channel.name}"
            for member in channel.members:
                assert key in state.users[member].channels, (member, key)
        for key, user in state.users.items():
            assert fold(user.nick) == key
            assert user.channels or user is state.me, f"{user.nick} kept with no channel"
            for channel_key in user.channels:
                assert key in state.channels[channel_key].members, (key, channel_key)

    @invariant()
    def nothing_went_wrong_quietly(self) -> None:
        assert not self.problems, [r.getMessage() for r in self.problems]


class _Collect(logging.Handler):
    """Warnings and errors of logbot.irc: the state's last-resort guard logs one when
    a handler raised, which the invariants would otherwise never see."""

    def __init__(self, into: list[logging.LogRecord]) -> None:
        super().__init__(logging.WARNING)
        self.into = into

    def emit(self, record: logging.LogRecord) -> None:
        self.into.append(record)


CoreMachine.TestCase.settings = settings(max_examples=200, stateful_step_count=40, deadline=None)
TestCoreMachine = CoreMachine.TestCase
