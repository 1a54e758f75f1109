"""More channels than one connection may join (logbot.bot.shards), on the reactor's fakes:
further connections open one at a time, each channel is held by one connection, every
line is logged once, markers stay per connection, and 405 refusals move channels on."""

from __future__ import annotations

import logging
from dataclasses import replace
from types import SimpleNamespace
from typing import Any

import pytest

from logbot.bot.network import NetworkBot
from logbot.bot.shards import group_of, shard_config
from logbot.config.settings import ChannelConfig, SaslOptions
from logbot.health.metrics import render_metrics
from logbot.health.report import health_report
from logbot.logs.writer import WriterStats
from logbot.plugins.manager import PluginStats
from logbot.reactor.error import ConnectionDone
from logbot.reactor.failure import Failure
from logbot.reactor.testing import MemoryReactorClock, StringTransport
from tests.bot.fakes import WALL0, FakeWriter, FixedRng, network

ALICE = "alice!~alice@alice.host"
CHANNELS = tuple(ChannelConfig(f"#c{i}") for i in range(1, 9))


class Conn:
    """One connection of the network: its bot, protocol and transport."""

    def __init__(self, bot: NetworkBot) -> None:
        self.bot = bot
        self.client: Any = bot.buildProtocol(None)
        self.transport = StringTransport()
        self.client.makeConnection(self.transport)

    def feed(self, *lines: str) -> None:
        self.client.dataReceived("".join(line + "\r\n" for line in lines).encode())

    def sent(self) -> list[str]:
        lines = self.transport.value().decode().split("\r\n")
        self.transport.clear()
        return lines[:-1]

    def register(self, isupport: str = "CHANLIMIT=#:3") -> list[str]:
        """001 and 005; the channels it then JOINs (each JOIN echoed by the server)."""
        nick = self.bot.config.nick
        self.sent()
        self.feed(
            f":irc.example 001 {nick} :Welcome",
            f":irc.example 005 {nick} CASEMAPPING=rfc1459 CHANTYPES=#& NICKLEN=9 {isupport} :ok",
        )
        return self.joins()

    def joins(self) -> list[str]:
        return [c for line in self.sent() if line.startswith("JOIN ") for c in line[5:].split(",")]

    def joined(self, *channels: str) -> None:
        nick = self.client.nickname
        self.feed(*(f":{nick}!~u@bot.host JOIN {c}" for c in channels))

    def lose(self, net: Net) -> None:
        failure = Failure(ConnectionDone("closed"))
        self.client.connectionLost(failure)
        self.bot.clientConnectionLost(net.reactor.connectors[-1], failure)


class Net:
    def __init__(self, **overrides: Any) -> None:
        self.reactor = MemoryReactorClock()
        self.reactor.advance(100.0)
        self.writer = FakeWriter()
        config = network(**{"channels": CHANNELS, **overrides})
        wall = lambda: WALL0 + self.reactor.seconds()  # noqa: E731
        self.bot = NetworkBot(config, self.reactor, self.writer, wall=wall, rng=FixedRng())
        self.bot.start()

    def connect(self, number: int) -> Conn:
        return Conn(self.bot.shards.bots[number - 1])

    @property
    def opened(self) -> int:
        return len(self.reactor.tcpClients)

    def up(self, number: int, isupport: str = "CHANLIMIT=#:3") -> Conn:
        """Connection ``number`` connects, registers and is in every channel it asks."""
        conn = self.connect(number)
        conn.joined(*conn.register(isupport))
        return conn


def spread() -> tuple[Net, Conn, Conn, Conn]:
    """8 channels, 3 a connection: 3 connections (3 + 3 + 2 channels)."""
    net = Net()
    one = net.up(1)
    two = net.up(2)
    three = net.up(3)
    net.writer.clear()
    return net, one, two, three


def test_chanlimit_is_read_by_prefix_group() -> None:
    limits: dict[str, int | None] = {"#&": 100, "!": None}
    assert group_of("#a", limits) == "#&" and group_of("&b", limits) == "#&"
    assert group_of("!x", limits) == "!" and group_of("+y", limits) == ""


def test_extra_connections_take_alt_nicks_then_numbered_nicks_within_nicklen() -> None:
    config = network(nick="logbotlong", alt_nicks=("lb-a",), sasl=SaslOptions(password=None))
    assert shard_config(config, 2, 9).nick == "lb-a"
    third = shard_config(config, 3, 9)
    assert third.nick == "logbotlo3" and third.alt_nicks == ()
    assert third.user == "logbotlong" and third.sasl is not None
    assert third.sasl.username == "logbotlong"  # logs in as the network does
    assert shard_config(config, 12, None).nick == "logbotlong12"


def test_channels_within_the_limit_stay_on_one_connection() -> None:
    net = Net()
    conn = net.connect(1)
    assert sorted(conn.register("CHANLIMIT=#:20")) == sorted(c.name for c in CHANNELS)
    assert net.opened == 1 and net.bot.shards.assigned == {}


def test_channels_over_chanlimit_are_spread_one_connection_at_a_time() -> None:
    net = Net()
    one = net.connect(1)
    assert one.register() == ["#c1", "#c2", "#c3"]
    assert net.opened == 2  # the second opens once the first registered, not the third
    two = net.connect(2)
    assert two.bot.config.nick == "bot2"
    assert two.register() == ["#c4", "#c5", "#c6"]
    assert net.opened == 3
    three = net.connect(3)
    assert three.register() == ["#c7", "#c8"]
    assert net.opened == 3  # 8 channels: 3 connections
    assert [b.label for b in net.bot.connections()] == ["testnet", "testnet[2]", "testnet[3]"]


def test_each_line_is_logged_once_by_the_connection_holding_its_channel() -> None:
    net, one, two, three = spread()
    # Alice is in #c1 (connection 1) and #c5 (connection 2): each sees her join there.
    one.feed(f":{ALICE} JOIN #c1")
    two.feed(f":{ALICE} JOIN #c5")
    two.feed(f":{ALICE} PRIVMSG #c5 :hello five")
    one.feed(f":{ALICE} QUIT :bye")
    two.feed(f":{ALICE} QUIT :bye")
    assert net.writer.types("#c1") == ["join", "quit"]
    assert net.writer.types("#c5") == ["join", "message", "quit"]
    assert [r.text for r in net.writer.records("#c5") if r.type == "message"] == ["hello five"]
    assert all(r.network == "testnet" for r in net.writer.records())


def test_a_lost_connection_marks_and_rejoins_only_its_own_channels() -> None:
    net, one, two, three = spread()
    two.lose(net)
    assert sorted(f for f, _, _ in net.writer.lines) == ["#c4", "#c5", "#c6"]
    assert {r.type for r in net.writer.records()} == {"disconnect"}
    assert one.bot.stats.registered and not two.bot.stats.registered
    healthy, body = health_report(_service(net), now=200.0)
    assert not healthy and body["unhealthy"] == ["testnet"]
    assert [c["state"] for c in body["networks"]["testnet"]["connections"]] == [
        "registered",
        "disconnected",
        "registered",
    ]
    net.writer.clear()
    net.reactor.advance(1.0)
    again = Conn(two.bot)
    assert again.register() == ["#c4", "#c5", "#c6"]
    again.joined("#c4")
    assert net.writer.types("#c4")[0] == "gap"
    assert net.writer.types("#c1") == []


def test_metrics_add_up_the_connections() -> None:
    net, one, two, three = spread()
    two.feed(f":{ALICE} PRIVMSG #c5 :hi")
    text = render_metrics(_service(net), now=200.0)
    assert 'logbot_network_channels_joined{network="testnet"} 8' in text
    assert 'logbot_network_connections{network="testnet"} 3' in text
    assert 'logbot_network_registered{network="testnet"} 1' in text
    assert 'logbot_network_lines_logged_total{network="testnet"} 1' in text


def test_a_405_moves_the_channel_to_another_connection() -> None:
    net = Net(channels=CHANNELS[:5])
    one = net.connect(1)
    assert one.register("") == ["#c1", "#c2", "#c3", "#c4", "#c5"]  # no limit said
    one.joined("#c1", "#c2", "#c3")
    one.feed(
        ":irc.example 405 bot #c4 :You are on too many channels",
        ":irc.example 405 bot #c5 :You are on too many channels",
    )
    assert net.opened == 2
    two = net.connect(2)
    assert two.register("") == ["#c4", "#c5"]
    assert net.bot.shards.assigned["#c1"] == 0 and net.bot.shards.assigned["#c5"] == 1


def test_max_connections_bounds_a_server_that_refuses_everything(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, "logbot.bot.network")
    net = Net(channels=CHANNELS[:3], max_connections=2, rejoin_after_kick=10.0)
    one = net.connect(1)
    one.feed(*(f":irc.example 405 bot {c} :too many" for c in one.register("")))
    two = net.connect(2)
    two.feed(*(f":irc.example 405 bot2 {c} :too many" for c in two.register("")))
    net.reactor.advance(0)
    assert net.opened == 2  # no third connection

    def warnings() -> list[str]:
        return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]

    assert warnings() == [
        "testnet: not joined: #c1, #c2, #c3: every connection is at the server's channel "
        "limit and max_connections (2) are open; retrying every 10 s"
    ]
    for _ in range(2):  # each retry: one JOIN a channel; refused again, no new warning
        net.reactor.advance(10.0)
        retried = {"bot": one.joins(), "bot2": two.joins()}
        assert sorted(retried["bot"] + retried["bot2"]) == ["#c1", "#c2", "#c3"]
        one.feed(*(f":irc.example 405 bot {c} :too many" for c in retried["bot"]))
        two.feed(*(f":irc.example 405 bot2 {c} :too many" for c in retried["bot2"]))
        net.reactor.advance(0)
    assert len(warnings()) == 1 and net.opened == 2


def test_prefix_groups_count_apart() -> None:
    channels = (*CHANNELS[:3], ChannelConfig("&l1"), ChannelConfig("&l2"))
    net = Net(channels=channels)
    one = net.connect(1)
    assert sorted(one.register("CHANLIMIT=#:3,&:")) == ["#c1", "#c2", "#c3", "&l1", "&l2"]
    assert net.opened == 1


def test_stop_quits_every_connection() -> None:
    net, one, two, three = spread()
    done = net.bot.stop()
    for conn in (one, two, three):
        assert "QUIT :logbot shutting down" in conn.sent()
    fired: list[Any] = []
    done.addCallback(fired.append)
    one.lose(net)
    two.lose(net)
    assert not fired
    three.lose(net)
    assert fired == [None]
    net.reactor.advance(1000)
    assert net.opened == 3


def test_a_reload_gives_added_channels_a_connection_with_room() -> None:
    net, one, two, three = spread()
    more = (*CHANNELS, ChannelConfig("#c9"), ChannelConfig("#c10"))
    net.bot.configure(replace(net.bot.config, channels=more))
    assert three.joins() == ["#c9"]  # its room: one
    assert net.opened == 4
    four = net.connect(4)
    assert four.bot.config.nick == "bot4"
    assert four.register() == ["#c10"]
    # and a removed channel is left by the connection holding it
    net.bot.configure(replace(net.bot.config, channels=more[1:]))
    assert "PART #c1 :channel removed from the config" in one.sent()
    assert two.sent() == [] and three.sent() == []


def test_part_by_command_goes_through_the_holder() -> None:
    net, one, two, three = spread()
    assert net.bot.part_channel("#c5") == "leaving #c5"
    assert two.sent() == ["PART #c5"]


def _service(net: Net) -> Any:
    plugins = SimpleNamespace(stats=PluginStats(), plugins={})
    svc = SimpleNamespace(
        networks={"testnet": net.bot},
        plugins=plugins,
        started_mono=0.0,
        reloads=0,
        reload_failures=0,
    )
    svc.write_totals = WriterStats
    return svc


def test_join_by_command_is_held_by_the_connection_asked_and_never_twice() -> None:
    net, one, two, three = spread()
    assert three.bot.join_channel("#c1") == "already in #c1"  # held by the first
    assert three.bot.join_channel("#new") == "joining #new"
    assert three.sent() == ["JOIN #new"]
    assert net.bot.shards.holder("#new") is three.bot
    three.lose(net)
    net.reactor.advance(1.0)
    assert Conn(three.bot).register() == ["#c7", "#c8", "#new"]
