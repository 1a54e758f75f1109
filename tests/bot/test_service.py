"""LogService on a MemoryReactorClock: start, stop, reload (good, bad, networks, root)."""

from __future__ import annotations

import signal
from dataclasses import replace
from pathlib import Path

import pytest

from logbot.bot.config import ConfigError
from logbot.bot.service import LogService
from logbot.bot.settings import Config, LogOptions, PluginOptions
from logbot.reactor.testing import MemoryReactorClock
from tests.bot.fakes import network


class Reactor(MemoryReactorClock):
    def __init__(self) -> None:
        super().__init__()
        self.signals: dict[int, object] = {}

    def addSignalCallback(self, signum: int, callback: object) -> None:
        self.signals[signum] = callback


def config(tmp_path: Path, *names: str, root: str = "logs") -> Config:
    return Config(networks=tuple(network(name=n) for n in names),
                  log=LogOptions(root=str(tmp_path / root)), source=str(tmp_path / "c.yaml"),
                  plugins=PluginOptions(data_dir=str(tmp_path / "data")))


@pytest.fixture
def reactor() -> Reactor:
    return Reactor()


def test_start_connects_every_network_and_installs_the_hooks(reactor: Reactor,
                                                             tmp_path: Path) -> None:
    service = LogService(config(tmp_path, "one", "two"), reactor)
    service.start()
    assert [c[:2] for c in reactor.tcpClients] == [("irc1.example", 6667)] * 2
    assert reactor.signals[signal.SIGHUP] == service.reload
    assert [f for f, _, _ in reactor.triggers["before"]["shutdown"]] == [service.stop]
    assert [f for f, _, _ in reactor.triggers["during"]["shutdown"]] == [
        service.writer.close, service.plugins.close]


def test_stop_fires_at_once_when_nothing_is_connected(reactor: Reactor,
                                                      tmp_path: Path) -> None:
    service = LogService(config(tmp_path, "one"), reactor)
    service.start()
    done: list[object] = []
    service.stop().addCallback(done.append)
    assert done == [[None]]
    reactor.advance(1000)
    assert len(reactor.tcpClients) == 1  # stopped networks do not reconnect


def test_a_bad_config_on_reload_is_reported_and_the_running_one_kept(
        reactor: Reactor, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    def loader(path: str) -> Config:
        raise ConfigError(["networks[0].nick: expected a string (c.yaml line 3)"])

    old = config(tmp_path, "one")
    service = LogService(old, reactor, loader=loader)
    service.start()
    assert service.reload() is False
    assert service.config is old and service.reload_failures == 1
    assert "keeping the running config" in caplog.text and "line 3" in caplog.text


def test_reload_adds_removes_and_reconfigures_networks(reactor: Reactor,
                                                       tmp_path: Path) -> None:
    new = config(tmp_path, "two", "three")
    two = new.networks[0]
    new = replace(new, networks=(replace(two, nick="renamed"), new.networks[1]))
    service = LogService(config(tmp_path, "one", "two"), reactor, loader=lambda p: new)
    service.start()
    bots = dict(service.networks)
    assert service.reload() is True
    assert set(service.networks) == {"two", "three"}
    assert service.networks["two"] is bots["two"]  # the same connection, new settings
    assert service.networks["two"].config.nick == "renamed"
    assert bots["one"].continueTrying == 0  # removed: stopped
    assert len(reactor.tcpClients) == 3  # "three" connected


def test_reload_with_a_new_log_root_swaps_the_writer(reactor: Reactor,
                                                     tmp_path: Path) -> None:
    new = config(tmp_path, "one", root="elsewhere")
    service = LogService(config(tmp_path, "one"), reactor, loader=lambda p: new)
    service.start()
    old_writer = service.writer
    service.reload()
    assert service.writer is not old_writer
    assert service.networks["one"].writer is service.writer
    assert str(service.writer._root).endswith("elsewhere")
    closers = [f for f, _, _ in reactor.triggers["during"]["shutdown"]]
    assert service.writer.close in closers
