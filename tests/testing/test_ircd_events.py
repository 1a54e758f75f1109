"""The test IRC server's renames, netsplits and netjoins, and standard replies
(logbot.testing.ircd_events), as raw clients see them over real sockets: with and
without the capabilities, exact lines."""

from __future__ import annotations

from typing import Any

import pytest

from logbot.reactor.backends import available
from logbot.testing.ircd import TestIRCServer
from logbot.testing.ircd_events import netjoin, netsplit, standard_reply
from tests.testing.test_ircd import run
from tests.testing.test_ircd_history import client, join

ONE_REACTOR = pytest.mark.parametrize("reactor", [available()[0]], indirect=True)
RENAMING = "draft/channel-rename batch"
NO_TAGS = r"^:"  # a line without tags starts with its source


@pytest.fixture
def server(reactor: Any) -> Any:
    server = TestIRCServer(reactor)
    server.start()
    yield server
    server.stop()


@ONE_REACTOR
def test_rename_with_and_without_the_capability(reactor: Any, run_until: Any, server: Any) -> None:
    async def scenario() -> None:
        op = await client(reactor, server, "op", RENAMING)
        old = await client(reactor, server, "old", "")
        await join(op, "#old")
        op.send("TOPIC #old :the topic")
        await op.expect(" TOPIC #old :the topic$")
        await join(old, "#old")
        assert "draft/channel-rename" in server.caps
        op.send("RENAME #old #new :a better name")
        await op.expect(r"^:op!op@127\.0\.0\.1 RENAME #old #new :a better name$")
        # The fallback: PART, JOIN, the topic and NAMES of a join.
        await old.expect(r"^:old!old@127\.0\.0\.1 PART #old :a better name$")
        await old.expect(r"^:old!old@127\.0\.0\.1 JOIN :#new$")
        await old.expect(" 332 old #new :the topic$")
        await old.expect(r" 353 old = #new :@op old$")
        await old.expect(" 366 old #new ")
        assert "#old" not in server.channels and server.channels["#new"].name == "#new"
        # Refusals.
        old.send("RENAME #new #other")
        await old.expect(" 482 old #new ")
        op.send("RENAME #new nochannel")
        await op.expect(" FAIL RENAME CANNOT_RENAME #new nochannel :")
        await join(op, "#taken")
        op.send("RENAME #new #TAKEN :x")
        await op.expect(" FAIL RENAME CHANNEL_NAME_IN_USE #new #TAKEN :")
        # A change of case only: no fallback for the client without the capability.
        op.send("RENAME #new #NEW")
        await op.expect(" RENAME #new #NEW :$")
        op.send("PRIVMSG #NEW :marker")
        await old.expect(" PRIVMSG #NEW :marker$")
        assert not any(" PART #new" in line for line in old.lines)

    run(run_until, scenario())


@ONE_REACTOR
def test_a_join_of_an_old_name_is_redirected(reactor: Any, run_until: Any, server: Any) -> None:
    async def scenario() -> None:
        op = await client(reactor, server, "op", RENAMING)
        await join(op, "#old")
        op.send("RENAME #old #new :moved")
        await op.expect(" RENAME #old #new ")
        late = await client(reactor, server, "late", RENAMING)
        late.send("JOIN #old,#other")
        await late.expect(" FAIL JOIN CHANNEL_RENAMED #old #new :The channel has been renamed$")
        await late.expect(" 366 late #other ")  # the other channel is joined as ever
        assert "#old" not in server.channels
        plain = await client(reactor, server, "plain", "")
        plain.send("JOIN #old")
        await plain.expect(" 470 plain #old #new :")
        await plain.expect(r"^:plain!plain@127\.0\.0\.1 JOIN :#new$")

    run(run_until, scenario())


@ONE_REACTOR
def test_a_netsplit_and_netjoin_in_batches(reactor: Any, run_until: Any, server: Any) -> None:
    alice, bob = server.add_user("alice"), server.add_user("bob")
    for user in (alice, bob):
        user.join("#a")
    alice.join("#b")

    async def scenario() -> None:
        batched = await client(reactor, server, "batched", "batch")
        plain = await client(reactor, server, "plain", "")
        for peer in (batched, plain):
            await join(peer, "#a")
        split = netsplit(server, [alice, bob], ("irc.hub", "irc.leaf"))
        await batched.expect(r"^:irc\.demo\.test BATCH \+(s\d+) netsplit irc\.hub :irc\.leaf$")
        ref = batched.match.group(1)  # type: ignore[union-attr]
        await batched.expect(f"^@batch={ref} :alice!alice@demo.test QUIT :irc.hub irc.leaf$")
        await batched.expect(f"^@batch={ref} :bob!bob@demo.test QUIT :irc.hub irc.leaf$")
        await batched.expect(f"^:irc.demo.test BATCH :-{ref}$")
        await plain.expect(r"^:alice!alice@demo\.test QUIT :irc\.hub irc\.leaf$")
        await plain.expect(r"^:bob!bob@demo\.test QUIT :irc\.hub irc\.leaf$")
        assert server.find_user("alice") is None
        assert sorted(server.channels["#a"].members) == ["batched", "plain"]
        assert "#b" not in server.channels  # alice was its only member
        ref = netjoin(server, split)
        await batched.expect(f"^:irc.demo.test BATCH \\+{ref} netjoin irc.hub :irc.leaf$")
        await batched.expect(f"^@batch={ref} :alice!alice@demo.test JOIN :#a$")
        await batched.expect(f"^@batch={ref} :bob!bob@demo.test JOIN :#a$")
        await batched.expect(f"^@batch={ref} :irc.demo.test MODE #a \\+o :alice$")
        await batched.expect(f"^:irc.demo.test BATCH :-{ref}$")
        await plain.expect(r"^:irc\.demo\.test MODE #a \+o :alice$")
        assert server.channels["#a"].members["alice"] == {"@"}
        alice.say("#a", "back")  # a user who came back can talk again
        await plain.expect(" PRIVMSG #a :back$")

    run(run_until, scenario())


@ONE_REACTOR
def test_an_open_batch_and_a_standard_reply(reactor: Any, run_until: Any, server: Any) -> None:
    alice = server.add_user("alice")
    alice.join("#a")

    async def scenario() -> None:
        batched = await client(reactor, server, "batched", "batch")
        await join(batched, "#a")
        split = netsplit(server, [alice], end=False)
        await batched.expect(" QUIT :irc.hub.test irc.leaf.test$")
        (conn,) = [c for c in server.clients if c.nickname == "batched"]
        standard_reply(server, conn, "WARN", "*", "SOON", "ctx", "something is coming")
        line = await batched.expect(" WARN ")
        assert line.endswith(":irc.demo.test WARN * SOON ctx :something is coming")
        assert not any(f"BATCH :-{split.ref}" in line for line in batched.lines)

    run(run_until, scenario())
    with pytest.raises(ValueError):
        standard_reply(server, alice, "ERROR", "*", "X", "no")
