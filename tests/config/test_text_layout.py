"""``logging.text_layout`` and ``logging.time_format``: defaults, levels, errors.

The text layouts of issue 16: per network or channel like every logging option; a
time format only if logbot can read it back; a time without a date only in files of
one day each.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from logbot.config.loader import ConfigError, parse_config
from logbot.config.settings import Config, LogOptions
from logbot.config.text_layout import check_time_format, has_date


def parse(top: dict[str, Any] | None = None, **network: Any) -> Config:
    net: dict[str, Any] = {"name": "local", "servers": ["127.0.0.1"], "nick": "logbot"}
    net.update(network)
    doc = {"logging": top, "networks": [net]} if top is not None else {"networks": [net]}
    return parse_config(yaml.safe_dump(doc, sort_keys=False), environ={})


def problems(top: dict[str, Any] | None = None, **network: Any) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse(top, **network)
    return list(info.value.problems)


def test_the_defaults_are_limnorias_layout_and_its_own_time() -> None:
    config = parse()
    assert (LogOptions().text_layout, LogOptions().time_format) == ("limnoria", None)
    assert (config.log.text_layout, config.log.time_format) == ("limnoria", None)


def test_network_and_channel_choose_their_own() -> None:
    config = parse(
        {"time_format": "%F %T"},
        logging={"text_layout": "irssi"},
        channels=[
            "#plain",
            {"name": "#znc", "logging": {"text_layout": "znc", "time_format": None}},
        ],
    )
    assert (config.log.text_layout, config.log.time_format) == ("limnoria", "%F %T")
    net = config.networks[0]
    assert (net.log.text_layout, net.log.time_format) == ("irssi", "%F %T")
    got = {c.name: (c.log.text_layout, c.log.time_format) for c in net.channels}
    assert got == {"#plain": ("irssi", "%F %T"), "#znc": ("znc", None)}


@pytest.mark.parametrize(
    ("logging", "message"),
    [
        ({"text_layout": "weechat"}, "logging.text_layout: expected one of"),
        ({"text_layout": None}, "logging.text_layout: "),
        ({"time_format": ""}, "logging.time_format: must not be empty"),
        ({"time_format": "%H:%M %Z"}, "logging.time_format: %Z is not a directive logbot"),
        ({"time_format": "%H:%M %"}, "logging.time_format: a lone % at the end"),
        ({"time_format": "%Y-%m-%d"}, "logging.time_format: must give the hour"),
        ({"time_format": "%I:%M"}, "logging.time_format: must give the hour"),
        ({"time_format": "%H:%M %H"}, "logging.time_format: gives %H more than once"),
        ({"time_format": "%H:%M\t"}, "logging.time_format: must hold printable"),
        ({"time_format": 5}, "logging.time_format: "),
    ],
)
def test_bad_values_are_reported_with_their_key(logging: dict[str, Any], message: str) -> None:
    (problem,) = problems(logging)
    assert problem.startswith(message), problem


def test_a_time_without_a_date_needs_a_file_per_day() -> None:
    (problem,) = problems(
        {"rotation": "size", "max_bytes": "1MB", "path": "{network}/{channel}.log"},
        channels=[{"name": "#c", "logging": {"text_layout": "irssi"}}],
    )
    assert problem.startswith("networks[0].channels[0].logging.text_layout: the text time")
    assert "'%H:%M' has no date" in problem
    (problem,) = problems({"time_format": "[%T]", "path": "{channel}/{date:%Y-%m}.log",
                           "rotation": "size", "max_bytes": 10})  # fmt: skip
    assert problem.startswith("logging.time_format: the text time '[%T]' has no date")
    # with the date in the time, or a file per day, or no text file: fine
    parse({"rotation": "size", "max_bytes": 10, "path": "{channel}.log", "time_format": "%F %R"})
    parse({"text_layout": "znc", "path": "{channel}/{date:%d}.log"})
    parse({"text_layout": "znc", "path": "{channel}.log", "rotation": "size", "max_bytes": 10,
           "formats": ["jsonl"]})  # fmt: skip


def test_which_formats_have_a_date() -> None:
    assert has_date("%Y-%m-%dT%H:%M:%S") and has_date("%F %R") and has_date("%y%j %H:%M")
    assert has_date("%d %b %Y %H:%M")
    assert not has_date("%H:%M") and not has_date("%m-%d %H:%M") and not has_date("%Y %H:%M")
    assert check_time_format("%I:%M %p") is None
