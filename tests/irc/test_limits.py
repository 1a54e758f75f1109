"""What a server can make one connection hold (logbot.irc.limits, issue 15 items 5, 6):
members, channels, ISUPPORT tokens, CAP entries, SASL challenges, SCRAM iterations,
the raw-filter cache, mode letters and CASEMAPPING re-keyings are bounded; past a
limit what is over is dropped, said once, and every line still gives its event.

Memory and CPU are measured by ``bench/bench_irc_floods.py``, not here: these tests
check the bounds and what happens at them."""

from __future__ import annotations

import base64
import logging

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from logbot.irc import events as ev
from logbot.irc import sasl as sasl_module
from logbot.irc.caps import CapNegotiator
from logbot.irc.core import RAW_CACHE_LIMIT, IRCConnection
from logbot.irc.flood import FloodControl
from logbot.irc.isupport import ISupport
from logbot.irc.limits import (
    MAX_CAP_ENTRIES,
    MAX_CHANNEL_MEMBERS,
    MAX_ISUPPORT_TOKENS,
    MAX_SASL_CHALLENGE,
    MAX_SCRAM_ITERATIONS,
    ReceiveLimits,
)
from logbot.irc.message import parse
from logbot.irc.sasl import SaslConfig, SaslSession, Secret
from tests.irc.test_state_sequences import _consistency_errors

ME = "bot!~b@bot.host"


def lines(*items: str) -> bytes:
    return "".join(item + "\r\n" for item in items).encode()


def connection(limits: ReceiveLimits | None = None) -> IRCConnection:
    conn = IRCConnection("bot", flood=FloodControl(enabled=False), limits=limits)
    conn.connection_made(0.0)
    conn.data_to_send(0.0)
    conn.receive_data(
        lines(
            f":srv 001 bot :Welcome {ME}",
            ":srv 005 bot PREFIX=(ov)@+ CHANTYPES=# CASEMAPPING=ascii :are supported",
        ),
        0.0,
    )
    return conn


def feed(conn: IRCConnection, *items: str) -> list[ev.Event]:
    return [e for e in conn.receive_data(lines(*items), 1.0) if not isinstance(e, ev.RawMessage)]


def names(channel: str, nicks: list[str]) -> list[str]:
    """353 lines of a dozen ``nick!user@host`` entries each."""
    return [
        f":srv 353 bot = {channel} :" + " ".join(f"+{n}!u@h.example" for n in nicks[i : i + 12])
        for i in range(0, len(nicks), 12)
    ]


def warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


# -- members and channels ----------------------------------------------------------------


def test_one_channel_tracks_at_most_max_channel_members_and_its_lines_are_still_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The issue's NAMES flood, at the default limit: the members past it are not
    tracked, it is said once, and the channel's lines still come out."""
    conn = connection()
    feed(conn, f":{ME} JOIN #big")
    nicks = [f"n{i}" for i in range(MAX_CHANNEL_MEMBERS + 100)]
    events = feed(conn, *names("#big", nicks), ":n5!u@h PRIVMSG #big :hello", ":zed!u@h JOIN #big")
    state = conn.state
    members = state.channel("#big").members
    assert len(members) == MAX_CHANNEL_MEMBERS  # us and the first 9,999 listed
    assert "n0" in members and f"n{MAX_CHANNEL_MEMBERS}" not in members
    assert state.memberships == MAX_CHANNEL_MEMBERS
    assert len(state.users) == MAX_CHANNEL_MEMBERS
    assert [type(e) for e in events] == [ev.Privmsg, ev.Joined]  # the JOIN is reported
    assert state.user("zed") is None  # ... but zed is not tracked
    [said] = warnings(caplog)
    assert "'#big' has 10000 members tracked" in said


def test_all_channels_together_track_at_most_max_members(
    caplog: pytest.LogCaptureFixture,
) -> None:
    conn = connection(ReceiveLimits(channel_members=5, members=8))
    for channel in ("#a", "#b", "#c"):
        feed(conn, f":{ME} JOIN {channel}", *names(channel, [f"{channel[1]}{i}" for i in range(9)]))
    state = conn.state
    sizes = [len(state.channel(c).members) for c in ("#a", "#b", "#c")]
    assert sizes == [5, 3, 1]  # 5, then 8 in all, then only us (always)
    assert state.memberships == 9 == sum(sizes)
    assert not _consistency_errors(state)
    assert len(warnings(caplog)) == 2  # "#a is full", then "8 in all"; once each


def test_a_user_not_tracked_is_still_reported_but_their_quit_names_no_channel() -> None:
    """The documented cost of the member limit: a QUIT or NICK of a user we do not
    track cannot say which channels they were in, so it is logged in none; their
    PART and KICK, which name the channel, are still reported."""
    conn = connection(ReceiveLimits(channel_members=2))
    feed(conn, f":{ME} JOIN #a", ":alice!u@h JOIN #a")
    [joined] = feed(conn, ":carol!u@h JOIN #a :hi")
    assert joined.nick == "carol" and joined.channel == "#a"
    assert conn.state.user("carol") is None
    [quit_] = feed(conn, ":carol!u@h QUIT :bye")
    assert isinstance(quit_, ev.Quit) and quit_.channels == ()
    [nick] = feed(conn, ":dave!u@h NICK dave2")
    assert isinstance(nick, ev.NickChanged) and nick.channels == ()
    [part] = feed(conn, ":erin!u@h PART #a :later")
    assert isinstance(part, ev.Parted) and part.channel == "#a"
    [quit_] = feed(conn, ":alice!u@h QUIT :bye")  # a tracked member: as before
    assert quit_.channels == ("#a",)


def test_our_channels_past_the_limit_are_reported_but_not_tracked(
    caplog: pytest.LogCaptureFixture,
) -> None:
    conn = connection(ReceiveLimits(channels=2))
    events = feed(conn, f":{ME} JOIN #a", f":{ME} JOIN #b", f":{ME} JOIN #c")
    assert [e.channel for e in events if isinstance(e, ev.Joined)] == ["#a", "#b", "#c"]
    assert sorted(conn.state.channels) == ["#a", "#b"]
    assert feed(conn, ":x!u@h PRIVMSG #c :still logged")[0].target == "#c"
    assert feed(conn, f":{ME} PART #c") == []  # the documented cost
    assert len(warnings(caplog)) == 1
    assert not _consistency_errors(conn.state)


def test_we_are_tracked_in_our_new_channel_even_when_members_are_full() -> None:
    conn = connection(ReceiveLimits(members=3))
    feed(conn, f":{ME} JOIN #a", *names("#a", ["x", "y", "z"]))
    feed(conn, f":{ME} JOIN #b", ":srv 353 bot = #b :@bot w")
    assert set(conn.state.channel("#b").members) == {"bot"}
    assert conn.state.channel("#b").members["bot"] == {"o"}  # our prefix still read
    assert not _consistency_errors(conn.state)


def test_names_of_members_already_tracked_still_update_them_at_the_limit() -> None:
    conn = connection(ReceiveLimits(channel_members=3))
    feed(conn, f":{ME} JOIN #a", ":srv 353 bot = #a :bot Alice bob")
    feed(conn, ":srv 353 bot = #a :bot @Alice!al@new.host carol")
    state = conn.state
    assert state.channel("#a").members["alice"] == {"o"}
    assert state.user("alice").host == "new.host"
    assert state.user("carol") is None


def test_an_untracked_names_flood_leaves_the_fold_cache_alone() -> None:
    """Folding each name through the shared cache would fill it and so empty it
    (it is cleared when full), for every line of every channel."""
    conn = connection(ReceiveLimits(channel_members=2))
    feed(conn, f":{ME} JOIN #a")
    before = len(conn.state.isupport.folded)
    feed(conn, *names("#a", [f"N{i}" for i in range(3000)]))
    assert len(conn.state.isupport.folded) <= before + 2


class LimitedMachine(RuleBasedStateMachine):
    """Random JOIN, NAMES, PART, KICK, QUIT, NICK and CASEMAPPING lines under tiny
    limits: the limits hold, ``memberships`` stays the count of all members, and
    ``channels`` and ``users`` agree (as without limits)."""

    LIMITS = ReceiveLimits(channels=2, channel_members=3, members=5, refold_budget=40)

    def __init__(self) -> None:
        super().__init__()
        self.conn = connection(self.LIMITS)

    @rule(who=st.sampled_from(["bot", "a", "B", "c", "d", "e["]), channel=st.sampled_from("wxyz"))
    def join(self, who: str, channel: str) -> None:
        feed(self.conn, f":{who}!u@h JOIN #{channel}")

    @rule(channel=st.sampled_from("wxyz"), who=st.lists(st.sampled_from("abcdef"), max_size=6))
    def names(self, channel: str, who: list[str]) -> None:
        feed(self.conn, f":srv 353 bot = #{channel} :" + " ".join(f"@{w}" for w in who))

    @rule(who=st.sampled_from(["bot", "a", "b", "c"]), channel=st.sampled_from("wxyz"))
    def part(self, who: str, channel: str) -> None:
        feed(self.conn, f":{who}!u@h PART #{channel}")

    @rule(who=st.sampled_from(["bot", "a", "b"]), channel=st.sampled_from("wxyz"))
    def kick(self, who: str, channel: str) -> None:
        feed(self.conn, f":op!u@h KICK #{channel} {who}")

    @rule(who=st.sampled_from("abcdef"))
    def quit(self, who: str) -> None:
        feed(self.conn, f":{who}!u@h QUIT :bye")

    @rule(old=st.sampled_from("abcdef"), new=st.sampled_from(["A", "b", "e{", "f"]))
    def nick(self, old: str, new: str) -> None:
        feed(self.conn, f":{old}!u@h NICK {new}")

    @rule(mapping=st.sampled_from(["ascii", "rfc1459"]))
    def casemapping(self, mapping: str) -> None:
        feed(self.conn, f":srv 005 bot CASEMAPPING={mapping} :are supported")

    @invariant()
    def bounded_and_consistent(self) -> None:
        state, limits = self.conn.state, self.LIMITS
        assert not _consistency_errors(state)
        assert state.memberships == sum(len(c.members) for c in state.channels.values())
        assert len(state.channels) <= limits.channels
        assert all(len(c.members) <= limits.channel_members for c in state.channels.values())
        assert state.memberships <= limits.members + limits.channels  # ours always fit


LimitedMachine.TestCase.settings = settings(max_examples=150, stateful_step_count=40, deadline=None)
TestLimitedMachine = LimitedMachine.TestCase


def test_mode_letters_that_are_not_ascii_are_reported_but_not_kept() -> None:
    """A mode letter is a key of ``Channel.modes``: a server sending a new non-ASCII
    character in each MODE could grow it by a million entries per channel."""
    conn = connection()
    feed(conn, f":{ME} JOIN #a")
    letters = "".join(chr(0x4E00 + i) for i in range(150))
    [event] = feed(conn, f":op!u@h MODE #a +{letters}m")
    assert len(event.changes) == 151
    assert conn.state.channel("#a").modes == {"m": None}
    feed(conn, f":srv 324 bot #a +{letters}n")
    assert conn.state.channel("#a").modes == {"n": None}
    feed(conn, f":bot MODE bot +{letters}i")
    assert conn.state.user_modes == {"i"}


def test_casemapping_flips_stop_once_the_refold_budget_is_spent(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Each CASEMAPPING change re-keys every user and membership (75 ms at the member
    limits): a server flipping it in every 005 line stalled the loop for minutes."""
    conn = connection(ReceiveLimits(refold_budget=100))
    feed(conn, f":{ME} JOIN #a", *names("#a", [f"u{i}" for i in range(30)]))
    state = conn.state
    assert (len(state.users), state.memberships, state.refolded) == (31, 31, 1)
    caplog.clear()
    for i in range(20):
        feed(conn, f":srv 005 bot CASEMAPPING={('rfc1459', 'ascii')[i % 2]} NETWORK=n{i} :ok")
    assert state.refolded == 1 + 62  # the first flip; the second would pass 100
    assert state.isupport.casemapping == "rfc1459"
    assert state.isupport.network == "n19"  # the other tokens still apply
    assert len(warnings(caplog)) == 1
    assert not _consistency_errors(state)


def test_a_casemapping_that_changes_nothing_costs_no_budget() -> None:
    conn = connection(ReceiveLimits(refold_budget=1))
    for _ in range(3):
        feed(conn, ":srv 005 bot CASEMAPPING=ascii :ok", ":srv 005 bot CASEMAPPING=ASCII :ok")
    assert conn.state.refolded == 1  # the first, at registration
    assert conn.state.isupport.get("CASEMAPPING") == "ASCII"
    assert not conn.diagnostics.said


# -- ISUPPORT and CAP ------------------------------------------------------------------


def test_isupport_keeps_at_most_max_tokens_and_still_updates_those_it_has(
    caplog: pytest.LogCaptureFixture,
) -> None:
    isupport = ISupport()
    isupport.apply(["bot", "CHANTYPES=#", ":are supported"])
    for n in range(0, MAX_ISUPPORT_TOKENS + 200, 10):
        isupport.apply(["bot", *(f"T{i}=v" for i in range(n, n + 10)), "are supported"])
    assert len(isupport.tokens) == MAX_ISUPPORT_TOKENS
    isupport.apply(["bot", "CHANTYPES=&", "-T0", "NEW", "are supported"])
    assert isupport.chantypes == "&"
    assert "T0" not in isupport
    assert "NEW" in isupport  # room again after the withdrawal
    assert len(warnings(caplog)) == 1


def test_cap_ls_keeps_at_most_max_entries_but_always_what_we_request(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caps = CapNegotiator()
    caps.start()
    junk = [f"vendor/cap{i}=x" for i in range(MAX_CAP_ENTRIES + 500)]
    for i in range(0, len(junk), 30):
        caps.handle(parse(":srv CAP * LS * :" + " ".join(junk[i : i + 30])))
    update = caps.handle(parse(":srv CAP * LS :server-time sasl=PLAIN"))
    assert len(caps.available) == MAX_CAP_ENTRIES + 2
    assert caps.sasl_mechanisms == ["PLAIN"]
    assert update.lines == ["CAP REQ :sasl server-time"]
    caps.handle(parse(":srv CAP * NEW :" + " ".join(f"more{i}" for i in range(40))))
    assert len(caps.available) == MAX_CAP_ENTRIES + 2
    assert len(warnings(caplog)) == 1


def test_an_ack_of_names_never_requested_is_bounded() -> None:
    caps = CapNegotiator(max_entries=10)
    for i in range(0, 100, 20):
        caps.handle(parse(":srv CAP * ACK :" + " ".join(f"x{j}" for j in range(i, i + 20))))
    caps.handle(parse(":srv CAP * ACK :server-time"))
    assert len(caps.enabled) == 11 and "server-time" in caps.enabled


# -- SASL --------------------------------------------------------------------------------


def sasl_session(mechanism: str = "PLAIN") -> SaslSession:
    session = SaslSession(SaslConfig("user", Secret("pencil"), (mechanism,)), scram_nonce="abc")
    session.start(0.0)
    return session


def authenticate(session: SaslSession, payload: str) -> list[str]:
    return session.handle(parse(f"AUTHENTICATE {payload}"), 0.0)


def test_a_challenge_past_max_sasl_challenge_fails_the_attempt_at_once() -> None:
    """The issue's 8 MB of AUTHENTICATE chunks were all joined (by repeated
    concatenation, 6 s of CPU here); now the attempt fails as soon as the challenge
    is too long, and the rest is ignored."""
    session = sasl_session()
    chunk = "A" * 400
    replies = [authenticate(session, chunk) for _ in range(MAX_SASL_CHALLENGE // 400)]
    assert replies == [[]] * (MAX_SASL_CHALLENGE // 400)  # 16,000 bytes: still waiting
    assert authenticate(session, chunk) == ["AUTHENTICATE *"]
    assert session.done and not session.success
    assert session.reason == f"server challenge over {MAX_SASL_CHALLENGE} bytes"
    assert authenticate(session, chunk) == []


def test_a_long_challenge_within_the_limit_is_answered() -> None:
    session = sasl_session()
    for _ in range(40):
        assert authenticate(session, "A" * 400) == []
    [reply] = authenticate(session, "+")
    assert reply == "AUTHENTICATE " + base64.b64encode(b"user\0user\0pencil").decode()


def server_first(iterations: int) -> str:
    salt = base64.b64encode(b"salt").decode()
    return base64.b64encode(f"r=abcdef,s={salt},i={iterations}".encode()).decode()


@pytest.fixture
def pbkdf2_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The iteration counts PBKDF2 is asked for (computed with one iteration, fast)."""
    calls: list[int] = []
    real = sasl_module.hashlib.pbkdf2_hmac

    def pbkdf2(name: str, password: bytes, salt: bytes, iterations: int) -> bytes:
        calls.append(iterations)
        return real(name, password, salt, 1)

    monkeypatch.setattr(sasl_module.hashlib, "pbkdf2_hmac", pbkdf2)
    return calls


def test_scram_iterations_past_the_cap_fail_the_login_without_computing(
    pbkdf2_calls: list[int],
) -> None:
    """Issue 15 item 6: 1,000,000 iterations (allowed before) blocked the loop 0.2-0.4 s.
    Through the connection: the failed login is reported as any other, with why."""
    config = SaslConfig("user", Secret("pencil"), ("SCRAM-SHA-256",), required=True)
    conn = IRCConnection("bot", sasl=config, flood=FloodControl(enabled=False))
    conn.connection_made(0.0)
    feed(conn, ":srv CAP * LS :sasl", ":srv CAP * ACK :sasl", "AUTHENTICATE +")
    conn.data_to_send(1.0)
    conn.sasl._mech._nonce = "abc"  # type: ignore[union-attr]  # (the server's extends it)
    events = feed(conn, f"AUTHENTICATE {server_first(1_000_000)}")
    reason = "server asked for 1000000 iterations, more than the 100000 allowed"
    assert events == [
        ev.SaslResult(success=False, mechanism="SCRAM-SHA-256", account=None, reason=reason),
        ev.Aborted(reason=f"SASL required but failed: SCRAM-SHA-256: {reason}"),
    ]
    assert conn.data_to_send(1.0).startswith(b"AUTHENTICATE *\r\n")
    assert pbkdf2_calls == []


def test_scram_iterations_at_the_cap_are_computed(pbkdf2_calls: list[int]) -> None:
    session = sasl_session("SCRAM-SHA-256")
    authenticate(session, "+")
    [reply] = authenticate(session, server_first(MAX_SCRAM_ITERATIONS))
    assert reply.startswith("AUTHENTICATE ") and reply != "AUTHENTICATE *"
    assert pbkdf2_calls == [MAX_SCRAM_ITERATIONS]


def test_the_scram_cap_is_a_limit_of_the_connection(pbkdf2_calls: list[int]) -> None:
    session = SaslSession(
        SaslConfig("user", Secret("p"), ("SCRAM-SHA-256",)), scram_nonce="abc", max_iterations=10
    )
    session.start(0.0)
    authenticate(session, "+")
    assert authenticate(session, server_first(11)) == ["AUTHENTICATE *"]
    assert "more than the 10 allowed" in session.reason


# -- the core ----------------------------------------------------------------------------


def test_the_raw_filter_cache_stays_bounded() -> None:
    """A server picks its commands: a million made-up ones were each cached (84 MiB)."""
    conn = connection()
    conn.set_raw_filter(lambda command: command == "NICK")
    feed(conn, *(f":srv X{i} a" for i in range(RAW_CACHE_LIMIT * 3)))
    assert len(conn._raw_cache) <= RAW_CACHE_LIMIT
    events = conn.receive_data(b":a!b@c NICK d\r\n", 2.0)
    assert [type(e) for e in events] == [ev.RawMessage, ev.NickChanged]


@pytest.mark.parametrize("name", list(ReceiveLimits.__dataclass_fields__))
def test_a_limit_below_one_is_refused(name: str) -> None:
    with pytest.raises(ValueError, match=name):
        ReceiveLimits(**{name: 0})
