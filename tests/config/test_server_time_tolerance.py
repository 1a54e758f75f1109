"""``logging.server_time_tolerance``: its default, its levels, null and 0, its errors.

How far a server-time stamp may be from our clock and still date its line (issue 14,
item 9); resolved per channel like every other logging option.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from logbot.config.loader import ConfigError, parse_config
from logbot.config.settings import Config, LogOptions


def parse(top: dict[str, Any] | None = None, **network: Any) -> Config:
    net: dict[str, Any] = {"name": "local", "servers": ["127.0.0.1"], "nick": "logbot"}
    net.update(network)
    doc = {"logging": top, "networks": [net]} if top is not None else {"networks": [net]}
    return parse_config(yaml.safe_dump(doc, sort_keys=False), environ={})


def test_the_default_is_one_day() -> None:
    config = parse()
    assert LogOptions().server_time_tolerance == 86400.0
    assert config.log.server_time_tolerance == 86400.0
    assert config.networks[0].log.server_time_tolerance == 86400.0


def test_network_and_channel_override_it_like_any_logging_option() -> None:
    config = parse(
        {"server_time_tolerance": 3600},
        logging={"server_time_tolerance": None},
        channels=[
            "#plain",
            {"name": "#strict", "logging": {"server_time_tolerance": 0}},
            {"name": "#loose", "logging": {"server_time_tolerance": 2.5}},
        ],
    )
    assert config.log.server_time_tolerance == 3600.0
    net = config.networks[0]
    assert net.log.server_time_tolerance is None  # null: any usable stamp
    tolerances = {c.name: c.log.server_time_tolerance for c in net.channels}
    assert tolerances == {"#plain": None, "#strict": 0.0, "#loose": 2.5}
    assert isinstance(tolerances["#loose"], float)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (-1, "logging.server_time_tolerance: must be at least 0"),
        ("1d", "logging.server_time_tolerance: expected a number"),
        (True, "logging.server_time_tolerance: expected a number"),
        (float("inf"), "logging.server_time_tolerance: expected a number"),
    ],
)
def test_bad_values_are_reported_with_their_key(value: Any, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse({"server_time_tolerance": value})
    (problem,) = info.value.problems
    assert problem.startswith(message), problem
