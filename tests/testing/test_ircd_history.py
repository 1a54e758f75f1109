"""The test IRC server's chat history (``history_size=N``): msgid, batch, draft/chathistory.

Raw ``Peer`` clients over real TCP on 127.0.0.1, local users speaking.  The server's
wall clock is injected, so every ``time`` tag is known; msgids are made readable by
setting the history's prefix (``m1``, ``m2``... in hexadecimal).  Nothing sleeps: each
step waits for the line it needs, and the timeouts are bounds, never waits.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest

from logbot.reactor.testing import MemoryReactor
from logbot.testing.ircd import LocalUser, TestIRCServer
from tests.ircd.peer import Peer, connect
from tests.testing.test_ircd import run

T0 = datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC).timestamp()
ALL_CAPS = "draft/chathistory batch server-time message-tags"


def iso(seconds: float) -> str:
    """The ``time`` tag of a line sent ``seconds`` after T0."""
    when = datetime.fromtimestamp(T0 + seconds, UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


class Clock:
    """The server's wall clock: stands still until a test moves it."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now

    def at(self, seconds: float) -> None:
        self.now = T0 + seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


def make_server(reactor: Any, clock: Clock, **kw: Any) -> TestIRCServer:
    server = TestIRCServer(reactor, wall=clock, **kw)
    server.history.prefix = "m"
    server.start()
    return server


@pytest.fixture
def server(reactor: Any, clock: Clock) -> Any:
    server = make_server(reactor, clock, history_size=10, history_limit=5)
    yield server
    server.stop()


async def client(reactor: Any, server: TestIRCServer, nick: str, caps: str = ALL_CAPS) -> Peer:
    """A registered raw client with ``caps`` (all acknowledged: checked)."""
    peer = await connect(reactor, server, nick, register=False)
    if caps:
        peer.send(f"CAP REQ :{caps}")
        await peer.expect(f" CAP \\* ACK :{re.escape(caps)}$")
    peer.send(f"NICK {nick}")
    peer.send(f"USER {nick} 0 * :{nick}")
    peer.send("CAP END")
    await peer.expect(f" 422 {nick} ")  # no MOTD: the end of the welcome
    return peer


async def join(peer: Peer, channel: str) -> None:
    peer.send(f"JOIN {channel}")
    await peer.expect(f" 366 {peer.nick} {channel} ")


WORDS = ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]


def chatter(server: TestIRCServer, clock: Clock, channel: str, count: int, start: int = 1) -> None:
    """alice says ``one``... in ``channel``, second ``start`` + i each (joins it first)."""
    alice = server.find_user("alice") or server.add_user("alice")
    assert isinstance(alice, LocalUser)
    alice.send("JOIN", channel)
    for i in range(count):
        clock.at(start + i)
        alice.send("PRIVMSG", channel, WORDS[start + i - 1])


async def fetch(peer: Peer, request: str) -> list[str]:
    """Send a CHATHISTORY request; the lines of the batch that answers it."""
    peer.send(request)
    opening = await peer.expect(r" BATCH \+(\S+) ")
    assert peer.match is not None
    ref = peer.match.group(1)
    await peer.expect(f" BATCH :-{ref}$")
    inside = re.compile(f"[@;]batch={ref}[; ]")
    start = peer.lines.index(opening)
    return [line for line in peer.lines[start:] if inside.search(line)]


def texts(lines: list[str]) -> list[str]:
    return [line.rsplit(" :", 1)[1] for line in lines]


async def words(peer: Peer, request: str) -> str:
    """The texts of the batch that answers ``request``, joined by spaces."""
    return " ".join(texts(await fetch(peer, request)))


async def fail(peer: Peer, request: str) -> str:
    """Send a request that must fail; the reply without its tags and source."""
    peer.send(request)
    line = await peer.expect(r" (FAIL|421) ")
    return line.split(" ", 2)[2] if line.startswith("@") else line.split(" ", 1)[1]


# -- capabilities, ISUPPORT, live msgid ---------------------------------------------------


def test_history_adds_its_cap_isupport_and_a_msgid_on_live_messages(
    reactor, run_until, server, clock
):
    async def scenario():
        probe = await connect(reactor, server, "probe", register=False)
        probe.send("CAP LS 302")
        caps = (await probe.expect(r" CAP \* LS :")).split(" :", 1)[1].split()
        assert {"batch", "draft/chathistory", "message-tags", "server-time"} <= set(caps)
        await probe.quit()

        tagged = await client(reactor, server, "tagged", ALL_CAPS + " echo-message account-tag")
        isupport = next(line for line in tagged.lines if " 005 " in line)
        assert " CHATHISTORY=5 MSGREFTYPES=timestamp,msgid :are supported" in isupport
        plain = await client(reactor, server, "plain", "")
        for peer in (tagged, plain):
            await join(peer, "#c")
        alice = server.add_user("alice", account="alice")
        alice.join("#c")
        clock.at(1)
        alice.say("#c", "hello")
        line = await tagged.expect(" PRIVMSG #c :hello$")
        assert (
            line
            == f"@time={iso(1)};msgid=m1;account=alice :alice!alice@demo.test PRIVMSG #c :hello"
        )
        assert (await plain.expect(" PRIVMSG ")) == ":alice!alice@demo.test PRIVMSG #c :hello"

        clock.at(2)
        tagged.send("@+draft/reply=m1 PRIVMSG #c :hi alice")
        echo = await tagged.expect(" PRIVMSG #c :hi alice$")  # echo-message: the same msgid
        assert echo == (
            f"@time={iso(2)};msgid=m2;+draft/reply=m1 :tagged!tagged@127.0.0.1 PRIVMSG #c :hi alice"
        )
        assert alice.received[-1] == ":tagged!tagged@127.0.0.1 PRIVMSG #c :hi alice"
        clock.at(3)
        alice.say("tagged", "psst")  # private: a msgid, but no history kept
        assert (await tagged.expect(" PRIVMSG tagged ")).startswith(f"@time={iso(3)};msgid=m3;")

        lines = await fetch(tagged, "CHATHISTORY LATEST #c * 10")
        assert lines == [
            f"@time={iso(1)};msgid=m1;batch=h1;account=alice"
            " :alice!alice@demo.test PRIVMSG #c :hello",
            f"@time={iso(2)};msgid=m2;batch=h1;+draft/reply=m1"
            " :tagged!tagged@127.0.0.1 PRIVMSG #c :hi alice",
        ]
        opening, closing = tagged.lines[-4], tagged.lines[-1]
        assert opening == f"@time={iso(3)} :irc.demo.test BATCH +h1 chathistory :#c"
        assert closing == f"@time={iso(3)} :irc.demo.test BATCH :-h1"
        await tagged.quit()
        await plain.quit()

    run(run_until, scenario())


def test_without_history_size_nothing_changes_but_the_batch_cap(reactor, run_until, clock):
    server = make_server(reactor, clock)  # history_size=0, the default

    async def scenario():
        peer = await connect(reactor, server, "peer", register=False)
        peer.send("CAP LS 302")
        caps = (await peer.expect(r" CAP \* LS :")).split(" :", 1)[1].split()
        assert "batch" in caps and not any("chathistory" in cap for cap in caps)
        peer.send("CAP REQ :draft/chathistory")
        await peer.expect(r" CAP \* NAK :draft/chathistory$")
        peer.send("CAP REQ :batch server-time message-tags")
        peer.send("NICK peer")
        peer.send("USER peer 0 * :peer")
        peer.send("CAP END")
        isupport = await peer.expect(" 005 peer ")
        assert "CHATHISTORY" not in isupport and "MSGREFTYPES" not in isupport
        await join(peer, "#c")
        chatter(server, clock, "#c", 1)
        assert (await peer.expect(" PRIVMSG ")) == (
            f"@time={iso(1)} :alice!alice@demo.test PRIVMSG #c :one"  # no msgid
        )
        assert (await fail(peer, "CHATHISTORY LATEST #c * 10")) == (
            "421 peer CHATHISTORY :Unknown command"
        )
        await peer.quit()
        await server.stop()

    run(run_until, scenario())


# -- the subcommands ------------------------------------------------------------------------


def test_latest_before_and_after_page_by_msgid_and_timestamp(reactor, run_until, server, clock):
    async def scenario():
        peer = await client(reactor, server, "peer")
        await join(peer, "#c")
        chatter(server, clock, "#c", 8)  # one..eight at T0+1..8, m1..m8
        await peer.expect(" :eight$")

        latest = await fetch(peer, "CHATHISTORY LATEST #c * 10")  # capped at 5
        assert " ".join(texts(latest)) == "four five six seven eight"
        assert " ".join(re.search("msgid=(\\w+)", line)[1] for line in latest) == "m4 m5 m6 m7 m8"
        # Paging back: BEFORE the oldest we have, newest first chosen, sent oldest first.
        assert await words(peer, "CHATHISTORY BEFORE #c msgid=m4 2") == "two three"
        assert await words(peer, "CHATHISTORY BEFORE #c msgid=m2 5") == "one"
        assert await fetch(peer, "CHATHISTORY BEFORE #c msgid=m1 5") == []  # an empty batch
        # Paging forwards: AFTER takes the oldest first.
        assert await words(peer, "CHATHISTORY AFTER #c msgid=m1 3") == "two three four"
        limit0 = await words(peer, "CHATHISTORY AFTER #c msgid=m4 0")  # 0: the most allowed
        assert limit0 == "five six seven eight"
        assert await fetch(peer, "CHATHISTORY AFTER #c msgid=m8 5") == []
        # Timestamps exclude the messages at that very time, and may fall between two.
        assert await words(peer, f"CHATHISTORY AFTER #c timestamp={iso(2)} 2") == "three four"
        assert await words(peer, f"CHATHISTORY BEFORE #c timestamp={iso(2.5)} 9") == "one two"
        assert await words(peer, f"CHATHISTORY LATEST #c timestamp={iso(6)} 9") == "seven eight"
        assert await words(peer, "CHATHISTORY LATEST #c msgid=m5 2") == "seven eight"
        assert await words(peer, "CHATHISTORY latest #C * 1") == "eight"  # any case
        await peer.quit()

    run(run_until, scenario())


def test_between_and_around(reactor, run_until, server, clock):
    async def scenario():
        peer = await client(reactor, server, "peer")
        await join(peer, "#c")
        chatter(server, clock, "#c", 9)
        await peer.expect(" :nine$")

        between = "CHATHISTORY BETWEEN #c"
        assert await words(peer, f"{between} msgid=m2 msgid=m6 9") == "three four five"
        # Backwards in time: the newest of the range are kept, still sent oldest first.
        assert await words(peer, f"{between} msgid=m9 msgid=m1 3") == "six seven eight"
        assert await words(peer, f"{between} msgid=m1 msgid=m9 3") == "two three four"
        assert await words(peer, f"{between} timestamp={iso(0)} msgid=m3 9") == "one two"
        assert await words(peer, f"{between} timestamp={iso(7.5)} timestamp={iso(9)} 9") == "eight"
        assert await fetch(peer, f"{between} msgid=m4 msgid=m4 9") == []
        assert await fetch(peer, f"{between} msgid=m4 msgid=m5 9") == []

        # AROUND: limit // 2 before, then the message itself and what follows.
        around = "CHATHISTORY AROUND #c"
        assert await words(peer, f"{around} msgid=m5 3") == "four five six"
        assert await words(peer, f"{around} msgid=m5 4") == "three four five six"
        assert await words(peer, f"{around} msgid=m5 1") == "five"
        assert await words(peer, f"{around} msgid=m1 3") == "one two three"
        assert await words(peer, f"{around} msgid=m9 3") == "seven eight nine"
        assert await words(peer, f"{around} timestamp={iso(4.5)} 2") == "four five"
        await peer.quit()

    run(run_until, scenario())


def test_targets_lists_the_users_channels_by_their_latest_message(
    reactor, run_until, server, clock
):
    async def scenario():
        peer = await client(reactor, server, "peer")
        for channel in ("#a", "#b", "#quiet"):
            await join(peer, channel)
        chatter(server, clock, "#b", 2, start=1)  # #b at 1, 2
        chatter(server, clock, "#a", 2, start=3)  # #a at 3, 4
        chatter(server, clock, "#elsewhere", 1, start=5)  # not peer's
        await peer.expect(" PRIVMSG #a :four$")

        request = f"CHATHISTORY TARGETS timestamp={iso(0)} timestamp={iso(9)} 10"
        assert await fetch(peer, request) == [
            f"@time={iso(5)};batch=h1 :irc.demo.test CHATHISTORY TARGETS #b :{iso(2)}",
            f"@time={iso(5)};batch=h1 :irc.demo.test CHATHISTORY TARGETS #a :{iso(4)}",
        ]
        assert peer.lines[-4].endswith(" BATCH +h1 :draft/chathistory-targets")
        # The latest message within the range; a backward range keeps the newest.
        request = f"CHATHISTORY TARGETS timestamp={iso(0)} timestamp={iso(3.5)} 10"
        assert [line.split()[-2:] for line in await fetch(peer, request)] == [
            ["#b", f":{iso(2)}"],
            ["#a", f":{iso(3)}"],
        ]
        request = f"CHATHISTORY TARGETS timestamp={iso(9)} timestamp={iso(0)} 1"
        assert [line.split()[-2] for line in await fetch(peer, request)] == ["#a"]
        request = f"CHATHISTORY TARGETS timestamp={iso(0)} timestamp={iso(9)} 1"
        assert [line.split()[-2] for line in await fetch(peer, request)] == ["#b"]
        await peer.quit()

    run(run_until, scenario())


# -- what is kept, and for how long ---------------------------------------------------------


def test_history_is_bounded_and_goes_with_the_channel(reactor, run_until, clock):
    server = make_server(reactor, clock, history_size=4, history_limit=0)

    async def scenario():
        peer = await client(reactor, server, "peer")
        assert any(" CHATHISTORY=0 " in line for line in peer.lines)  # no maximum
        await join(peer, "#c")
        chatter(server, clock, "#c", 6)
        await peer.expect(" :six$")
        kept = [entry.text for entry in server.history.lines("#C")]
        assert kept == ["three", "four", "five", "six"]
        assert await words(peer, "CHATHISTORY LATEST #c * 0") == "three four five six"
        assert await words(peer, "CHATHISTORY BEFORE #c msgid=m4 9") == "three"
        # An evicted msgid is an error, not an empty batch: the client learns of the gap.
        assert (await fail(peer, "CHATHISTORY AFTER #c msgid=m2 9")) == (
            "FAIL CHATHISTORY MESSAGE_ERROR AFTER #c msgid=m2 :Unknown msgid"
        )

        alice = server.find_user("alice")
        assert alice is not None
        alice.send("PART", "#c")
        peer.send("PART #c")
        await peer.expect(r":peer!\S+ PART :?#c")
        assert "#c" not in server.channels and server.history.lines("#c") == []
        await join(peer, "#c")
        assert await fetch(peer, "CHATHISTORY LATEST #c * 9") == []
        await peer.quit()
        await server.stop()

    run(run_until, scenario())


def test_ctcp_but_action_and_tagmsg_are_not_kept_and_time_never_goes_back(
    reactor, run_until, server, clock
):
    async def scenario():
        peer = await client(reactor, server, "peer")
        await join(peer, "#c")
        alice = server.add_user("alice")
        alice.join("#c")
        clock.at(1)
        alice.action("#c", "waves")
        alice.send("PRIVMSG", "#c", "\x01VERSION\x01")
        alice.send("NOTICE", "#c", "\x01PING 1\x01")
        clock.at(0.5)  # the wall clock steps back
        alice.notice("#c", "a notice")
        peer.send("@+draft/react=x TAGMSG #c")
        clock.at(2)
        alice.say("#c", "done")
        await peer.expect(" :done$")
        kept = await fetch(peer, "CHATHISTORY LATEST #c * 9")
        assert [line.split(" ", 2)[2] for line in kept] == [
            "PRIVMSG #c :\x01ACTION waves\x01",
            "NOTICE #c :a notice",
            "PRIVMSG #c :done",
        ]
        # The notice kept the time of the message before it, for every recipient.
        notice = next(line for line in peer.lines if " NOTICE #c :a notice" in line)
        assert notice.startswith(f"@time={iso(1)};msgid=m4 ")
        after = await words(peer, f"CHATHISTORY AFTER #c timestamp={iso(0.5)} 9")
        assert after == "\x01ACTION waves\x01 a notice done"
        await peer.quit()

    run(run_until, scenario())


# -- tags follow the asking user's capabilities --------------------------------------------


def test_replayed_lines_carry_the_tags_the_user_asked_for(reactor, run_until, server, clock):
    async def scenario():
        bare = await client(reactor, server, "bare", "draft/chathistory")
        batch_only = await client(reactor, server, "batchonly", "draft/chathistory batch")
        accounts = await client(reactor, server, "accts", "draft/chathistory account-tag")
        for peer in (bare, batch_only, accounts):
            await join(peer, "#c")
        carol = server.add_user("carol", account="carol")
        carol.join("#c")
        clock.at(1)
        carol.say("#c", "first")
        clock.at(2)
        carol.say("#c", "second")
        for peer in (bare, batch_only, accounts):
            await peer.expect(" :second$")

        # No batch: the same lines, no BATCH around them, no tag at all.
        start = len(bare.lines)
        bare.send("CHATHISTORY LATEST #c * 9")
        await bare.expect(" :second$")
        assert bare.lines[start:] == [
            ":carol!carol@demo.test PRIVMSG #c :first",
            ":carol!carol@demo.test PRIVMSG #c :second",
        ]
        lines = await fetch(batch_only, "CHATHISTORY LATEST #c * 1")
        assert lines == ["@batch=h1 :carol!carol@demo.test PRIVMSG #c :second"]
        assert batch_only.lines[-3:] == [
            ":irc.demo.test BATCH +h1 chathistory :#c",
            lines[0],
            ":irc.demo.test BATCH :-h1",
        ]
        # account-tag: the account the sender had then, even after it quit.
        carol.quit("bye")
        accounts.send("CHATHISTORY LATEST #c * 1")
        assert (await accounts.expect(" PRIVMSG ")) == (
            "@account=carol :carol!carol@demo.test PRIVMSG #c :second"
        )
        for peer in (bare, batch_only, accounts):
            await peer.quit()

    run(run_until, scenario())


# -- refusals ------------------------------------------------------------------------------------


def test_refusals(reactor, run_until, server, clock):
    async def scenario():
        peer = await client(reactor, server, "peer")
        await join(peer, "#c")
        chatter(server, clock, "#c", 2)
        server.add_user("other").join("#other")
        await peer.expect(" :two$")
        cases = {
            "CHATHISTORY": "FAIL CHATHISTORY NEED_MORE_PARAMS :Missing parameters",
            "CHATHISTORY FROB #c": "FAIL CHATHISTORY UNKNOWN_COMMAND FROB :Unknown command",
            "CHATHISTORY :FROB x": "FAIL CHATHISTORY UNKNOWN_COMMAND * :Unknown command",
            "CHATHISTORY LATEST #c *": (
                "FAIL CHATHISTORY NEED_MORE_PARAMS LATEST :Missing parameters"
            ),
            "CHATHISTORY BETWEEN #c msgid=m1 5": (
                "FAIL CHATHISTORY NEED_MORE_PARAMS BETWEEN :Missing parameters"
            ),
            "CHATHISTORY TARGETS timestamp=x": (
                "FAIL CHATHISTORY NEED_MORE_PARAMS TARGETS :Missing parameters"
            ),
            "CHATHISTORY BEFORE #c * 5": (
                "FAIL CHATHISTORY INVALID_PARAMS BEFORE * :Invalid message reference"
            ),
            "CHATHISTORY BEFORE #c id=m1 5": (
                "FAIL CHATHISTORY INVALID_PARAMS BEFORE id=m1 :Invalid message reference"
            ),
            "CHATHISTORY AFTER #c timestamp=2023-02-30T00:00:00.000Z 5": (
                "FAIL CHATHISTORY INVALID_PARAMS AFTER timestamp=2023-02-30T00:00:00.000Z"
                " :Invalid message reference"
            ),
            "CHATHISTORY AFTER #c msgid= 5": (
                "FAIL CHATHISTORY INVALID_PARAMS AFTER msgid= :Invalid message reference"
            ),
            "CHATHISTORY LATEST #c * -1": (
                "FAIL CHATHISTORY INVALID_PARAMS LATEST -1 :Invalid limit"
            ),
            "CHATHISTORY LATEST #c * :a lot": (
                "FAIL CHATHISTORY INVALID_PARAMS LATEST * :Invalid limit"
            ),
            "CHATHISTORY TARGETS msgid=m1 timestamp=2023-11-14T22:13:20.000Z 5": (
                "FAIL CHATHISTORY INVALID_PARAMS TARGETS msgid=m1 :Invalid timestamp"
            ),
            "CHATHISTORY LATEST #other * 5": (
                "FAIL CHATHISTORY INVALID_TARGET LATEST #other :Messages could not be retrieved"
            ),
            "CHATHISTORY LATEST alice * 5": (
                "FAIL CHATHISTORY INVALID_TARGET LATEST alice :Messages could not be retrieved"
            ),
            "CHATHISTORY AROUND #c msgid=nope 5": (
                "FAIL CHATHISTORY MESSAGE_ERROR AROUND #c msgid=nope :Unknown msgid"
            ),
        }
        for request, reply in cases.items():
            assert (await fail(peer, request)) == reply, request
        await peer.quit()

        # Without the capability the command does not exist, even with history kept.
        nocap = await client(reactor, server, "nocap", "batch server-time message-tags")
        await join(nocap, "#c")
        assert (await fail(nocap, "CHATHISTORY LATEST #c * 5")) == (
            "421 nocap CHATHISTORY :Unknown command"
        )
        await nocap.quit()

    run(run_until, scenario())


def test_negative_sizes_are_refused():
    with pytest.raises(ValueError):
        TestIRCServer(MemoryReactor(), history_size=-1)
    with pytest.raises(ValueError):
        TestIRCServer(MemoryReactor(), history_size=5, history_limit=-1)
