"""TestIRCServer over real sockets on 127.0.0.1, on every reactor backend.

Clients: the raw ``Peer`` of tests/ircd (exact lines), the ``RecordingBot`` of
tests/integration (our IRCClient), and the real LogService.  Nothing sleeps: each
scenario is a coroutine run until it ends, and a line handled by the server is waited
for through ``server.on_line``.  The timeouts are bounds, never waits.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from logbot.bot.service import LogService
from logbot.config.loader import parse_config
from logbot.reactor import defer
from logbot.reactor.testing import MemoryReactor
from logbot.testing.ircd import TestIRCServer
from tests.integration.recording_bot import start_bot, stop_bot
from tests.ircd.peer import RegistrationFailed, connect

TAGGED = re.compile(r"@time=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z :irc\.demo\.test ")


def run(run_until: Any, coro: Any, timeout: float = 5.0) -> Any:
    return run_until(defer.Deferred.fromCoroutine(coro), timeout)


@pytest.fixture
def server(reactor: Any) -> Any:
    server = TestIRCServer(reactor, motd="Welcome to the demo.\nBe nice.")
    server.start()
    yield server
    server.stop()


def handled(server: TestIRCServer, match: Callable[[Any, str], Any]) -> defer.Deferred[str]:
    """Fires with the first line the server handles (from anyone) that ``match``es.

    Hooks chain: each calls the one installed before it."""
    d: defer.Deferred[str] = defer.Deferred()
    previous = server.on_line

    def hook(user: Any, line: str) -> None:
        if previous is not None:
            previous(user, line)
        if not d.called and match(user, line):
            d.callback(line)

    server.on_line = hook
    return d


# -- 1. registration, capabilities, server-time ------------------------------------------


def test_registration_with_cap_negotiation_and_server_time(reactor, run_until, server):
    async def scenario():
        peer = await connect(reactor, server, "raw", register=False)
        peer.send("CAP LS 302")
        caps = (await peer.expect(r"^:irc\.demo\.test CAP \* LS :")).split(" :", 1)[1].split()
        assert {"server-time", "message-tags", "multi-prefix"} <= set(caps)
        peer.send("NICK raw")
        peer.send("USER raw 0 * :Raw Client")
        peer.send("CAP REQ :server-time multi-prefix")
        await peer.expect(r" CAP raw ACK :server-time multi-prefix$")
        peer.send("CAP REQ :server-time no-such-cap")
        await peer.expect(r" CAP raw NAK :server-time no-such-cap$")
        assert not any(" 001 " in line for line in peer.lines)  # waits for CAP END
        peer.send("CAP END")
        for numeric in ("001", "002", "003", "004", "005", "375", "372", "376"):
            line = await peer.expect(f" {numeric} raw ")
            assert TAGGED.match(line), line
        lines = peer.lines
        assert lines[0].startswith(":irc.demo.test CAP * LS ")  # no tags before the ACK
        welcome = next(line for line in lines if " 001 " in line)
        assert welcome.endswith(" :Welcome to the demo IRC Network raw!raw@127.0.0.1")
        isupport = next(line for line in lines if " 005 " in line)
        for token in (
            "CASEMAPPING=rfc1459",
            "CHANTYPES=#",
            "PREFIX=(ov)@+",
            "CHANMODES=b,k,l,imnst",
            "NETWORK=demo",
            "NICKLEN=30",
            "CHANNELLEN=50",
            "TOPICLEN=390",
        ):
            assert f" {token} " in isupport
        assert any(line.endswith(" 372 raw :- Be nice.") for line in lines)
        assert [c.nick for c in server.clients] == ["raw"]

        local = server.add_user("local")
        local.join("#demo")
        local.mode("#demo", "+v", "local")
        peer.send("JOIN #demo")
        await peer.expect(" 366 raw #demo ")
        assert peer.lines[-2].endswith(" 353 raw = #demo :@+local raw")  # multi-prefix
        local.say("#demo", "hello")
        line = await peer.expect(" PRIVMSG ")
        assert re.fullmatch(r"@time=\S+Z :local!local@demo\.test PRIVMSG #demo :hello", line)
        await peer.quit()

    run(run_until, scenario())


# -- 2. our IRCClient and local users see each other ---------------------------------------


def test_irc_client_and_local_users(reactor, run_until, server):
    async def scenario():
        bot = await start_bot(reactor, server, "bot")
        alice = server.add_user("alice", user="al", host="demo.test", realname="Alice")
        bob = server.add_user("bob")
        bot.join("#demo")
        await bot.expect_call("joined", "#demo")
        alice.join("#demo")
        await bot.expect_call("userJoined", "alice", "#demo")
        alice.say("#demo", "hello")
        assert (await bot.expect_call("privmsg"))[1:] == ("alice!al@demo.test", "#demo", "hello")
        alice.action("#demo", "waves")
        assert (await bot.expect_call("action"))[2:] == ("#demo", "waves")
        alice.notice("#demo", "a notice")
        assert (await bot.expect_call("noticed"))[2:] == ("#demo", "a notice")
        alice.say("bot", "just to you")
        assert (await bot.expect_call("privmsg"))[2:] == ("bot", "just to you")
        assert not any("PRIVMSG" in line for line in alice.received)  # no echo to oneself

        seen = len(alice.received)
        alice.kick("#demo", "bot", "no")  # alice is no op: the bot was first
        assert alice.lines_since(seen) == [
            ":irc.demo.test 482 alice #demo :You're not channel operator"
        ]
        bot.sendLine("MODE #demo +o alice")
        call = await bot.expect_call("modeChanged")
        assert call[1].startswith("bot!") and call[2:] == ("#demo", True, "o", ("alice",))
        assert server.channels["#demo"].members == {"bot": {"@"}, "alice": {"@"}}
        alice.topic("#demo", "new topic")
        assert (await bot.expect_call("topicUpdated"))[1:] == ("alice", "#demo", "new topic")
        bob.join("#DEMO")
        await bot.expect_call("userJoined", "bob", "#demo")
        alice.mode("#demo", "+v-o", "bob", "bot")
        assert (await bot.expect_call("modeChanged"))[2:] == ("#demo", True, "v", ("bob",))
        assert (await bot.expect_call("modeChanged"))[2:] == ("#demo", False, "o", ("bot",))
        alice.kick("#demo", "bob", "reason")
        await bot.expect_call("userKicked", "bob", "#demo", "alice", "reason")
        alice.nick("alice_")
        await bot.expect_call("userRenamed", "alice", "alice_")
        alice.part("#demo", "bye")
        await bot.expect_call("userLeft", "alice_", "#demo")
        alice.join("#demo")
        await bot.expect_call("userJoined", "alice_", "#demo")

        said = handled(server, lambda user, line: user.nickname == "bot" and "PRIVMSG" in line)
        bot.say("#demo", "hi from the bot")
        await said
        assert alice.received[-1] == ":bot!bot@127.0.0.1 PRIVMSG #demo :hi from the bot"
        assert not any("hi from the bot" in line for line in bob.received)  # kicked

        alice.quit("gone")
        await bot.expect_call("userQuit", "alice_", "gone")
        assert "alice_" not in server.channels["#demo"].members
        with pytest.raises(RuntimeError):
            alice.say("#demo", "ghost")
        await stop_bot(bot)
        assert server.clients == []

    run(run_until, scenario())


# -- 3. errors, PING, WHO ------------------------------------------------------------------


def test_nick_collision_errors_ping_and_who(reactor, run_until, server):
    async def scenario():
        server.add_user("a[1]")
        with pytest.raises(ValueError):
            server.add_user("A{1}")  # the same nick under rfc1459 folding
        with pytest.raises(RegistrationFailed, match=" 433 "):
            await connect(reactor, server, "A{1}")
        peer = await connect(reactor, server, "peer", register=False)
        peer.send("JOIN #early")
        await peer.expect(r"^:irc\.demo\.test 451 \* :You have not registered$")
        peer.send("NICK 1bad")
        await peer.expect(" 432 \\* 1bad :Erroneous nickname$")
        peer.send("NICK peer")
        peer.send("USER peer 0 * :Peer")
        await peer.expect(" 376 peer ")
        peer.send("FROB x")
        await peer.expect(r"^:irc\.demo\.test 421 peer FROB :Unknown command$")
        peer.send("PING :tok en")
        await peer.expect(r"^:irc\.demo\.test PONG irc\.demo\.test :tok en$")
        peer.send_raw(b"PING lf-only\n")  # LF alone ends a line too
        await peer.expect(r"PONG irc\.demo\.test :lf-only$")
        peer.send("JOIN")
        await peer.expect(" 461 peer JOIN :Not enough parameters$")
        peer.send("PRIVMSG nobody :hi")
        await peer.expect(" 401 peer nobody ")
        peer.send("PART #nowhere")
        await peer.expect(" 403 peer #nowhere ")
        peer.send("PRIVMSG #demo :" + "x" * 600)
        await peer.expect(" 417 peer :Input line was too long$")

        carol = server.add_user("carol", user="c", host="carol.test", realname="Carol C")
        carol.join("#demo")
        carol.set_away("lunch")
        peer.send("JOIN #demo")
        peer.send("PART #demo :later")
        peer.send("PART #demo")
        await peer.expect(" 442 peer #demo ")
        peer.send("WHO #demo")
        line = await peer.expect(" 352 ")
        assert (
            line == ":irc.demo.test 352 peer #demo c carol.test irc.demo.test carol G@ :0 Carol C"
        )
        await peer.expect(r" 315 peer #demo :End of /WHO list\.$")
        peer.send("WHOIS carol")
        await peer.expect(" 311 peer carol c carol.test \\* :Carol C$")
        await peer.expect(" 318 peer carol ")
        assert carol.lines_since(0)[-2:] == [
            ":peer!peer@127.0.0.1 JOIN :#demo",
            ":peer!peer@127.0.0.1 PART #demo :later",
        ]
        await peer.quit()

    run(run_until, scenario())


# -- 4. stop and restart -------------------------------------------------------------------


def test_stop_closes_every_connection_and_a_restart_accepts_new_ones(reactor, run_until, server):
    async def scenario():
        port = server.port
        bot = await start_bot(reactor, server, "bot")
        watcher = server.add_user("watcher")
        watcher.join("#demo")
        bot.join("#demo")
        await bot.expect_call("joined", "#demo")
        await server.stop()
        await bot.closed
        assert bot.lost_reason is not None
        assert "Server shutting down" in (bot.disconnect_reason or "")
        assert watcher.received[-1] == ":bot!bot@127.0.0.1 QUIT :Server shutting down"
        assert server.clients == [] and "bot" not in server.channels["#demo"].members

        assert server.start() == port  # the same port again
        peer = await connect(reactor, server, "again")
        peer.send("JOIN #demo")
        await peer.expect(" 353 again = #demo :@watcher again$")
        await server.stop()
        await peer.closed
        assert peer.lines[-1].startswith("ERROR :Closing Link: 127.0.0.1")

        other = TestIRCServer(reactor, port=port)  # a new server on the same port
        assert other.start() == port
        peer = await connect(reactor, other, "third")
        await peer.expect(r"^:irc\.demo\.test 422 third :MOTD File is missing$")
        await peer.quit()
        await other.stop()

    run(run_until, scenario())


# -- 5. the real logging bot ---------------------------------------------------------------


def test_the_logging_bot_logs_local_users(reactor, run_until, server, tmp_path: Path):
    config = parse_config(
        f"""
logging:
  root: {tmp_path / "logs"}
  formats: [text]
  timezone: UTC
networks:
  - name: demo
    servers: ["127.0.0.1:{server.port}"]
    nick: logbot
    channels: ["#demo"]
    line_rate: 0
plugins:
  enabled: [ping]
  data_dir: {tmp_path / "data"}
""",
        source=str(tmp_path / "config.yaml"),
    )
    service = LogService(config, reactor)

    async def scenario():
        joined = handled(server, lambda user, line: line == "JOIN #demo")
        service.start(signals=False)
        await joined
        alice = server.add_user("alice", host="demo.test")
        alice.join("#demo")
        alice.say("#demo", "hello")
        alice.action("#demo", "waves")
        replied = handled(server, lambda user, line: "pong" in line)
        alice.say("#demo", "!ping")
        await replied
        assert alice.received[-1] == ":logbot!logbot@127.0.0.1 PRIVMSG #demo :alice: pong"
        alice.nick("alicia")
        alice.part("#demo", "bye")
        await service.stop()
        service.writer.close()

    run(run_until, scenario())
    [log] = (tmp_path / "logs" / "demo").glob("*/*.log")
    # Limnoria's layout (the default): the time, two spaces, the event.
    text = [line.split("  ", 1)[1] for line in log.read_text().splitlines()]
    assert text[0].startswith(f"*** logbot: connected to 127.0.0.1:{server.port} as logbot")
    assert text[1:-1] == [
        "*** logbot <logbot!logbot@127.0.0.1> has joined #demo",
        "*** alice <alice!alice@demo.test> has joined #demo",
        "<alice> hello",
        "* alice waves",
        "<alice> !ping",
        "<logbot> alice: pong",
        "*** alice is now known as alicia",
        "*** alicia <alicia!alice@demo.test> has left #demo (bye)",
    ]
    assert text[-1].startswith("*** logbot: disconnected")


# -- capabilities between clients -----------------------------------------------------------


def test_tags_echo_account_and_extended_join(reactor, run_until, server):
    async def scenario():
        tagged = await connect(reactor, server, "tagged", register=False)
        tagged.send("CAP REQ :message-tags echo-message account-tag extended-join")
        tagged.send("NICK tagged")
        tagged.send("USER tagged 0 * :Tagged")
        tagged.send("CAP END")
        await tagged.expect(" 376 tagged ")
        plain = await connect(reactor, server, "plain")
        local = server.add_user("acct", realname="Has Account", account="acct")
        for user in (tagged, plain):
            user.send("JOIN #demo")
            await user.expect(" 366 ")
        local.join("#demo")
        line = await tagged.expect(r":acct!\S+ JOIN ")
        assert line == "@account=acct :acct!acct@demo.test JOIN #demo acct :Has Account"
        assert (await plain.expect(r":acct!\S+ JOIN ")) == ":acct!acct@demo.test JOIN :#demo"

        tagged.send(r"@+draft/react=\\o/;secret=x TAGMSG #demo")  # value: \o/
        tagged.send("@+draft/reply=1 PRIVMSG #demo :hi all")
        echo = await tagged.expect(" PRIVMSG ")  # echo-message: back to the sender
        assert echo == "@+draft/reply=1 :tagged!tagged@127.0.0.1 PRIVMSG #demo :hi all"
        assert (await plain.expect(" PRIVMSG ")) == (
            ":tagged!tagged@127.0.0.1 PRIVMSG #demo :hi all"
        )  # no tags, no TAGMSG
        assert not any("TAGMSG" in line for line in plain.lines + local.received)
        assert local.received[-1] == ":tagged!tagged@127.0.0.1 PRIVMSG #demo :hi all"
        tagged_echo = [line for line in tagged.lines if "TAGMSG" in line]
        assert tagged_echo == [r"@+draft/react=\\o/ :tagged!tagged@127.0.0.1 TAGMSG :#demo"]
        await tagged.quit()
        await plain.quit()

    run(run_until, scenario())


def test_a_password_is_checked_when_set(reactor, run_until):
    server = TestIRCServer(reactor, password="sesame")
    server.start()

    async def scenario():
        good = await connect(reactor, server, "good", register=False)
        good.send("PASS sesame")
        good.send("NICK good")
        good.send("USER good 0 * :Good")
        await good.expect(" 001 good ")
        with pytest.raises(RegistrationFailed, match=r"ERROR .*\(Bad password\)"):
            await connect(reactor, server, "bad")
        await good.quit()
        await server.stop()

    run(run_until, scenario())


# -- local users only: no socket needed ------------------------------------------------------


@pytest.fixture
def local() -> TestIRCServer:
    return TestIRCServer(MemoryReactor())


def test_channel_modes_and_the_refusals_they_cause(local):
    op, bob, carol = (local.add_user(n) for n in ("op", "bob", "carol"))
    op.join("#m")
    bob.join("#m")
    bob.mode("#m", "+m")
    assert bob.received[-1] == ":irc.demo.test 482 bob #m :You're not channel operator"
    op.mode("#m", "+mikl-t+b", "sesame", "3", "carol!*@*")
    assert bob.received[-1] == ":op!op@demo.test MODE #m +mikl-t+b sesame 3 :carol!*@*"
    op.mode("#m")
    assert op.received[-2:] == [
        ":irc.demo.test 324 op #m +imnkl sesame :3",
        f":irc.demo.test 329 op #m :{int(local.created)}",
    ]
    bob.mode("#m")
    carol.mode("#m")  # the key is shown to members only
    assert carol.received[-2] == ":irc.demo.test 324 carol #m +imnkl * :3"
    bob.say("#m", "muted")  # +m: no voice
    assert bob.received[-1] == ":irc.demo.test 404 bob #m :Cannot send to channel"
    op.topic("#m", "anyone may")  # -t
    bob.topic("#m", "as I said")
    assert local.channels["#m"].topic == "as I said"
    for key, numeric in ((None, "475"), ("sesame", "473")):
        carol.join("#m", key)
        assert carol.received[-1].startswith(f":irc.demo.test {numeric} carol #m ")
    op.mode("#m", "-ik", "x")
    carol.join("#m")
    assert carol.received[-1] == ":irc.demo.test 474 carol #m :Cannot join channel (+b)"
    op.mode("#m", "-b", "carol!*@*")
    op.mode("#m", "+b")
    assert op.received[-1] == ":irc.demo.test 368 op #m :End of channel ban list"
    carol.join("#m")
    dave = local.add_user("dave")
    dave.join("#m")  # +l 3: op, bob, carol
    assert dave.received[-1] == ":irc.demo.test 471 dave #m :Cannot join channel (+l)"
    op.mode("#m", "+vz", "bob")
    assert op.received[-2:] == [
        ":irc.demo.test 472 op z :is unknown mode char to me",
        ":op!op@demo.test MODE #m +v :bob",
    ]
    bob.say("#m", "now I may")
    assert carol.received[-1] == ":bob!bob@demo.test PRIVMSG #m :now I may"
    assert local.channels["#m"].members == {"op": {"@"}, "bob": {"+"}, "carol": set()}
    bob.mode("bob", "+i")
    bob.mode("op", "+i")
    bob.mode("bob")
    assert bob.received[-3:] == [
        ":bob!bob@demo.test MODE bob :+i",
        ":irc.demo.test 502 bob :Can't change mode for other users",
        ":irc.demo.test 221 bob :+i",
    ]


def test_quit_and_nick_reach_each_peer_once(local):
    alice, bob, carol = (local.add_user(n) for n in ("alice", "bob", "carol"))
    for channel in ("#a", "#b"):
        alice.join(channel)
        bob.join(channel)
    alice.nick("Alice")  # a change of case only
    bob.nick("ALICE")
    assert bob.received[-1] == ":irc.demo.test 433 bob ALICE :Nickname is already in use"
    alice.quit("bye")
    nicks = [line for line in bob.received if " NICK " in line]
    quits = [line for line in bob.received if " QUIT " in line]
    assert nicks == [":alice!alice@demo.test NICK :Alice"]
    assert quits == [":Alice!alice@demo.test QUIT :bye"]
    assert not any("QUIT" in line for line in carol.received)  # shares no channel
    bob.join("0")
    assert local.channels == {} and set(local.users) == {"bob", "carol"}
    local.add_user("alice")  # the nick is free again


def test_long_lines_are_cut_and_names_are_split(local):
    alice = local.add_user("alice")
    bob = local.add_user("bob")
    for channel in ("#odd", "#long"):
        alice.join(channel)
        bob.join(channel)
    alice.say("#odd", "\u00e9" * 300)  # 600 bytes of text, after 37 bytes of prefix
    line = bob.received[-1]
    assert len(line.encode()) == 509 and line.endswith("\u00e9")  # not in a character
    crowd = [local.add_user(f"user{i:03d}") for i in range(100)]
    for user in crowd:
        user.join("#long")
    bob.send("NAMES", "#long")
    names = [line for line in bob.received if " 353 " in line][-4:]
    assert all(len(line.encode()) <= 510 for line in names)
    listed = " ".join(line.split(" :", 1)[1] for line in names if "user" in line).split()
    assert listed[-1] == "user099" and len(listed) >= 100
    with pytest.raises(ValueError):
        alice.say("#long", "two\r\nlines")
