"""LogService on a MemoryReactorClock: start, stop, reload (good, bad, networks, root)."""

from __future__ import annotations

import signal
from dataclasses import replace
from pathlib import Path

import pytest

from logbot.bot.service import LogService
from logbot.config.loader import ConfigError
from logbot.config.settings import Config, HealthOptions, LogOptions, PluginOptions
from logbot.health.server import HealthListenError
from logbot.reactor.testing import MemoryReactorClock
from tests.bot.fakes import network


class Reactor(MemoryReactorClock):
    def __init__(self) -> None:
        super().__init__()
        self.signals: dict[int, object] = {}

    def addSignalCallback(self, signum: int, callback: object) -> None:
        self.signals[signum] = callback


def config(tmp_path: Path, *names: str, root: str = "logs") -> Config:
    return Config(
        networks=tuple(network(name=n) for n in names),
        log=LogOptions(root=str(tmp_path / root)),
        source=str(tmp_path / "c.yaml"),
        plugins=PluginOptions(data_dir=str(tmp_path / "data")),
    )


@pytest.fixture
def reactor() -> Reactor:
    return Reactor()


def test_start_connects_every_network_and_installs_the_hooks(
    reactor: Reactor, tmp_path: Path
) -> None:
    service = LogService(config(tmp_path, "one", "two"), reactor)
    service.start()
    assert [c[:2] for c in reactor.tcpClients] == [("irc1.example", 6667)] * 2
    assert reactor.signals[signal.SIGHUP] == service.reload
    assert [f for f, _, _ in reactor.triggers["before"]["shutdown"]] == [service.stop]
    assert [f for f, _, _ in reactor.triggers["during"]["shutdown"]] == [
        service.writer.close,
        service.plugins.close,
        service.stop_health,
    ]
    assert service.health is None and reactor.tcpServers == []  # no port: no listener


def test_stop_fires_at_once_when_nothing_is_connected(reactor: Reactor, tmp_path: Path) -> None:
    service = LogService(config(tmp_path, "one"), reactor)
    service.start()
    done: list[object] = []
    service.stop().addCallback(done.append)
    assert done == [[None]]
    reactor.advance(1000)
    assert len(reactor.tcpClients) == 1  # stopped networks do not reconnect


def test_a_bad_config_on_reload_is_reported_and_the_running_one_kept(
    reactor: Reactor, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    def loader(path: str) -> Config:
        raise ConfigError(["networks[0].nick: expected a string (c.yaml line 3)"])

    old = config(tmp_path, "one")
    service = LogService(old, reactor, loader=loader)
    service.start()
    assert service.reload() is False
    assert service.config is old and service.reload_failures == 1
    assert "keeping the running config" in caplog.text and "line 3" in caplog.text


def test_reload_adds_removes_and_reconfigures_networks(reactor: Reactor, tmp_path: Path) -> None:
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


def test_reload_with_a_new_log_root_swaps_the_writer(reactor: Reactor, tmp_path: Path) -> None:
    new = config(tmp_path, "one", root="elsewhere")
    service = LogService(config(tmp_path, "one"), reactor, loader=lambda p: new)
    service.start()
    old_writer = service.writer
    old_writer.stats.lines_written, old_writer.stats.write_errors = 5, 2
    service.reload()
    assert service.writer is not old_writer
    assert (service.retired_writes.lines_written, service.retired_writes.write_errors) == (5, 2)
    assert service.networks["one"].writer is service.writer
    assert str(service.writer._root).endswith("elsewhere")
    closers = [f for f, _, _ in reactor.triggers["during"]["shutdown"]]
    assert service.writer.close in closers


# -- the health listener ------------------------------------------------------------------


def with_health(cfg: Config, port: int | None, host: str = "127.0.0.1") -> Config:
    return replace(cfg, health=HealthOptions(port=port, host=host))


def listeners(reactor: Reactor) -> list[tuple[int, str]]:
    return [(port, interface) for port, _, _, interface in reactor.tcpServers]


def test_the_health_listener_starts_with_the_service_and_stops_at_shutdown(
    reactor: Reactor, tmp_path: Path
) -> None:
    service = LogService(with_health(config(tmp_path, "one"), 9100), reactor)
    service.start()
    assert listeners(reactor) == [(9100, "127.0.0.1")]
    assert service.health is not None and service.health.port == 9100
    service.start_health()  # at most once
    assert len(reactor.tcpServers) == 1
    port = service.health.listening
    service.stop_health()
    assert not port.listening and service.health is None


def test_the_command_line_wins_over_the_config_at_start_and_on_reloads(
    reactor: Reactor, tmp_path: Path
) -> None:
    new = with_health(config(tmp_path, "one"), 9300, "0.0.0.0")
    service = LogService(
        with_health(config(tmp_path, "one"), 9100), reactor, loader=lambda p: new, health_port=9200
    )
    service.start()
    assert listeners(reactor) == [(9200, "127.0.0.1")]
    service.reload()  # the config's port changed, but the command line's stays: new host
    assert listeners(reactor) == [(9200, "127.0.0.1"), (9200, "0.0.0.0")]


def test_a_reload_that_changes_health_restarts_the_listener(
    reactor: Reactor, tmp_path: Path
) -> None:
    configs = [
        with_health(config(tmp_path, "one"), 9101),
        with_health(config(tmp_path, "one"), 9101),
        with_health(config(tmp_path, "one"), None),
    ]
    service = LogService(
        with_health(config(tmp_path, "one"), 9100), reactor, loader=lambda p: configs.pop(0)
    )
    service.start()
    first = service.health
    assert first is not None
    service.reload()
    assert listeners(reactor) == [(9100, "127.0.0.1"), (9101, "127.0.0.1")]
    assert first.listening is None and service.health is not None
    service.reload()  # unchanged: the same listener
    assert len(reactor.tcpServers) == 2
    service.reload()  # port: null
    assert service.health is None and len(reactor.tcpServers) == 2


def test_a_port_that_cannot_be_had_on_reload_is_logged_and_the_bot_runs_on(
    reactor: Reactor, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    def refuse(port: int, factory: object, backlog: int = 50, interface: str = "") -> None:
        raise OSError(98, f"cannot listen on {interface}:{port}: Address already in use")

    new = with_health(config(tmp_path, "one"), 9101)
    service = LogService(with_health(config(tmp_path, "one"), 9100), reactor, loader=lambda p: new)
    service.start()
    reactor.listenTCP = refuse  # type: ignore[method-assign]
    assert service.reload() is True
    assert service.health is None
    assert (
        "reload: health: cannot listen on 127.0.0.1:9101: Address already in use; "
        "no health listener until a reload fixes it"
    ) in caplog.text


def test_start_fails_clearly_when_the_port_cannot_be_had(reactor: Reactor, tmp_path: Path) -> None:
    def refuse(port: int, factory: object, backlog: int = 50, interface: str = "") -> None:
        raise OSError(13, f"cannot listen on {interface}:{port}: Permission denied")

    reactor.listenTCP = refuse  # type: ignore[method-assign]
    service = LogService(with_health(config(tmp_path, "one"), 80), reactor)
    with pytest.raises(HealthListenError, match="^cannot listen on 127.0.0.1:80: Permission"):
        service.start_health()
