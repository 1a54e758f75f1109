"""``networks[].max_members``: the channel memberships a connection tracks
(``logbot.irc.limits.MAX_MEMBERS`` by default), raised for a bot in thousands of
channels."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from logbot.bot.network import NetworkBot
from logbot.config.loader import ConfigError, parse_config
from logbot.irc.limits import MAX_MEMBERS
from logbot.logs.writer import LogWriter
from logbot.reactor.testing import MemoryReactorClock


def _net(**keys: Any) -> str:
    net = {"name": "local", "servers": ["127.0.0.1"], "nick": "logbot", **keys}
    return yaml.safe_dump({"networks": [net]})


def test_default_and_value() -> None:
    assert parse_config(_net(), environ={}).networks[0].max_members == MAX_MEMBERS == 50_000
    assert parse_config(_net(max_members=250_000), environ={}).networks[0].max_members == 250_000


@pytest.mark.parametrize("value", [0, 5_000_001, "many", None, 1.5])
def test_out_of_range_is_refused(value: Any) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(_net(max_members=value), environ={})
    assert "networks[0].max_members: " in str(info.value)


@pytest.mark.parametrize("value", [3, MAX_MEMBERS, 250_000])
def test_the_connection_tracks_that_many(tmp_path: Path, value: int) -> None:
    """The setting reaches the IRC core of every connection the network opens: past
    it, members go untracked (and a warning names the setting)."""
    config = parse_config(_net(max_members=value), environ={})
    reactor = MemoryReactorClock()
    bot = NetworkBot(config.networks[0], reactor, LogWriter(reactor, root=str(tmp_path)))
    core = bot.buildProtocol(None).build_core()
    assert core.limits.members == value
    assert core.state.limits.members == value
