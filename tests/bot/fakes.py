"""Fakes for the bot's unit tests: a recording writer and a scripted connection.

``Harness`` is a NetworkBot on a ``MemoryReactorClock`` whose connections are
``StringTransport``s: ``connect()`` builds the protocol the way a real connector
would, ``feed()`` plays server lines, ``sent()`` returns what the bot wrote,
``lose()`` ends the connection as a transport would.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from logbot.bot.network import NetworkBot
from logbot.config.settings import ChannelConfig, LogOptions, NetworkConfig, ServerConfig
from logbot.logs.record import LogRecord
from logbot.reactor.error import ConnectionDone
from logbot.reactor.failure import Failure
from logbot.reactor.testing import MemoryReactorClock, StringTransport

WALL0 = 1_790_000_000.0  # 2026-09-21T14:13:20Z: the fake wall clock's start


class FakeWriter:
    def __init__(self) -> None:
        self.lines: list[tuple[str, LogRecord, LogOptions]] = []
        self.fail = False

    def hold(self) -> bool:
        return True

    def release(self) -> None:
        pass

    def write(self, record: LogRecord, folded: str, options: LogOptions) -> None:
        if self.fail:
            raise RuntimeError("writer broke")
        self.lines.append((folded, record, options))

    def records(self, folded: str | None = None) -> list[LogRecord]:
        return [r for f, r, _ in self.lines if folded is None or f == folded]

    def types(self, folded: str) -> list[str]:
        return [r.type for r in self.records(folded)]

    def clear(self) -> None:
        self.lines.clear()


class FixedRng:
    def normalvariate(self, mu: float, sigma: float) -> float:
        return mu


def network(**overrides: Any) -> NetworkConfig:
    base = NetworkConfig(
        name="testnet",
        servers=(ServerConfig("irc1.example", 6667), ServerConfig("irc2.example", 6667)),
        nick="bot",
        channels=(ChannelConfig("#a"), ChannelConfig("#B")),
        line_rate=0,
    )
    return replace(base, **overrides)


class Harness:
    def __init__(self, config: NetworkConfig | None = None) -> None:
        self.reactor = MemoryReactorClock()
        self.reactor.advance(100.0)
        self.writer = FakeWriter()
        self.bot = NetworkBot(
            config or network(),
            self.reactor,
            self.writer,
            wall=lambda: WALL0 + self.reactor.seconds(),
            rng=FixedRng(),
        )
        self.transport: StringTransport | None = None
        self.client: Any = None

    def start(self) -> None:
        self.bot.start()

    def connect(self) -> Any:
        self.client = self.bot.buildProtocol(None)
        self.transport = StringTransport()
        self.client.makeConnection(self.transport)
        return self.client

    def register(self, nick: str = "bot", caps: str = "") -> None:
        lines = []
        if caps:
            lines += [f":irc.example CAP * LS :{caps}", f":irc.example CAP * ACK :{caps}"]
        lines += [
            f":irc.example 001 {nick} :Welcome",
            (
                f":irc.example 005 {nick} CASEMAPPING=rfc1459 CHANTYPES=#& "
                "PREFIX=(ov)@+ STATUSMSG=@+ :are supported"
            ),
        ]
        self.feed(*lines)

    def feed(self, *lines: str) -> None:
        self.client.dataReceived("".join(line + "\r\n" for line in lines).encode())

    def sent(self) -> list[str]:
        assert self.transport is not None
        lines = self.transport.value().decode().split("\r\n")
        self.transport.clear()
        return lines[:-1]

    def lose(self, reason: BaseException | None = None) -> None:
        failure = Failure(reason or ConnectionDone("closed"))
        self.client.connectionLost(failure)
        self.bot.clientConnectionLost(self.reactor.connectors[-1], failure)

    def join(self, channel: str, nick: str = "bot") -> None:
        self.feed(f":{nick}!~{nick}@bot.host JOIN {channel}")
