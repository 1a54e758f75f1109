"""``networks[].max_connections``: how many connections a network with more channels than
one connection may join can have (logbot.bot.shards)."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from logbot.config.loader import ConfigError, parse_config


def _net(**keys: Any) -> str:
    net = {"name": "local", "servers": ["127.0.0.1"], "nick": "logbot", **keys}
    return yaml.safe_dump({"networks": [net]})


def test_default_and_value() -> None:
    assert parse_config(_net(), environ={}).networks[0].max_connections == 10
    assert parse_config(_net(max_connections=4), environ={}).networks[0].max_connections == 4


@pytest.mark.parametrize("value", [0, 101, "many", None])
def test_out_of_range_is_refused(value: Any) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(_net(max_connections=value), environ={})
    assert "networks[0].max_connections: " in str(info.value)
