"""The ``health`` section of the config: defaults, values, and every way it can be wrong."""

from __future__ import annotations

import pathlib
from typing import Any

import pytest
import yaml

from logbot.config.health_section import HEALTH_KEYS
from logbot.config.loader import load_config, summary
from logbot.config.settings import HealthOptions
from tests.config.test_loader import parse, problem, problems, without_line

REPO = pathlib.Path(__file__).resolve().parents[2]
NETWORK = {"name": "local", "servers": ["127.0.0.1"], "nick": "logbot"}
BAD_HOST = "expected an IP address or a host name (such as 127.0.0.1, ::1 or 0.0.0.0)"


def doc(health: Any = "absent") -> str:
    data: dict[str, Any] = {"networks": [NETWORK]}
    if health != "absent":
        data["health"] = health
    return yaml.safe_dump(data, sort_keys=False)


def health(section: Any = "absent") -> HealthOptions:
    return parse(doc(section)).health


def test_off_by_default() -> None:
    assert health() == HealthOptions(port=None, host="127.0.0.1", pending_grace=30.0)
    assert health(None) == HealthOptions()  # "health:" with everything commented out
    assert health({"port": None}) == HealthOptions()
    assert str(HealthOptions()) == "off"


@pytest.mark.parametrize(
    "section, expected",
    [
        ({"port": 9100}, HealthOptions(9100, "127.0.0.1")),
        ({"port": 1, "host": "0.0.0.0"}, HealthOptions(1, "0.0.0.0")),
        ({"port": 65535, "host": "::1"}, HealthOptions(65535, "::1")),
        ({"port": 8080, "host": "localhost"}, HealthOptions(8080, "localhost")),
        ({"pending_grace": 5}, HealthOptions(pending_grace=5.0)),
        ({"pending_grace": 0}, HealthOptions(pending_grace=0.0)),
        ({"pending_grace": 0.5}, HealthOptions(pending_grace=0.5)),
    ],
)
def test_values(section: dict[str, Any], expected: HealthOptions) -> None:
    assert health(section) == expected


def test_env_substitution_in_the_host() -> None:
    text = doc({"port": 9100, "host": "${H}"})
    assert parse(text, {"H": "::"}).health == HealthOptions(9100, "::")


@pytest.mark.parametrize(
    "section, message",
    [
        ({"port": 0}, "health.port: must be between 1 and 65535"),
        ({"port": 65536}, "health.port: must be between 1 and 65535"),
        ({"port": "9100"}, "health.port: expected an integer"),
        ({"port": True}, "health.port: expected an integer"),
        ({"port": 91.5}, "health.port: expected an integer"),
        ({"port": 9100, "host": ""}, f"health.host: {BAD_HOST}"),
        ({"port": 9100, "host": "a b"}, f"health.host: {BAD_HOST}"),
        ({"port": 9100, "host": 127}, "health.host: expected a string"),
        ({"prot": 9100}, "health.prot: unknown key (did you mean 'port'?)"),
        ({"pending_grace": -1}, "health.pending_grace: must be at least 0"),
        ({"pending_grace": "30s"}, "health.pending_grace: expected a number"),
        ({"pending_grace": True}, "health.pending_grace: expected a number"),
        ([9100], "health: expected a mapping"),
        (9100, "health: expected a mapping"),
    ],
)
def test_bad_values(section: Any, message: str) -> None:
    assert without_line(problem(doc(section))) == message


def test_unknown_keys_and_bad_values_are_reported_with_their_lines() -> None:
    text = (
        "networks:\n  - name: local\n    servers: [a]\n    nick: logbot\n"
        "health:\n  port: 0\n  host: 127.0.0.1\n  path: /healthz\n"
    )
    assert problems(text) == [  # in file order
        "health.port: must be between 1 and 65535 (config.yaml line 6)",
        "health.path: unknown key (known keys: host, pending_grace, port) (config.yaml line 8)",
    ]


def test_summary_shows_the_listener_only_when_there_is_one() -> None:
    assert "health" not in summary(parse(doc()))
    lines = summary(parse(doc({"port": 9100, "host": "::"}))).splitlines()
    assert "health: http://[::]:9100/healthz and /metrics" in lines


def test_the_sample_config_documents_the_section_and_keeps_it_off() -> None:
    sample = (REPO / "config.yaml").read_text()
    for key in (*HEALTH_KEYS, "health"):
        assert f"{key}:" in sample, key
    assert load_config(REPO / "config.yaml", environ={}).health == HealthOptions()
