"""The README's config reference names every key the config loader accepts, so a key
added to the loader without documentation fails here; and the README's two commands
are the ones ``.ci/run`` and a new user run."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from logbot.config.health_section import HEALTH_KEYS
from logbot.config.loader import TOP_KEYS
from logbot.config.logging_section import EVENT_KEYS, LOG_KEYS
from logbot.config.networks_section import (
    CHANNEL_KEYS,
    NETWORK_KEYS,
    RECONNECT_KEYS,
    SASL_KEYS,
    SERVER_KEYS,
)
from logbot.config.plugins_section import EXEC_KEYS, PLUGIN_KEYS, RATE_KEYS

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text()


def _section(title: str) -> str:
    match = re.search(rf"(?ms)^## {re.escape(title)}\n(.*?)(?=^## )", README)
    assert match is not None, f"the README has no '## {title}' section"
    return match.group(1)


GROUPS = {
    "top level": TOP_KEYS,
    "logging": LOG_KEYS,
    "logging.events": EVENT_KEYS,
    "networks[]": NETWORK_KEYS,
    "a server": SERVER_KEYS,
    "sasl": SASL_KEYS,
    "a channel": CHANNEL_KEYS,
    "reconnect": RECONNECT_KEYS,
    "plugins": PLUGIN_KEYS,
    "plugins.exec[]": EXEC_KEYS,
    "a rate": RATE_KEYS,
    "health": HEALTH_KEYS,
}


@pytest.mark.parametrize("group", GROUPS)
def test_the_config_reference_names_every_key(group: str) -> None:
    reference = _section("Config reference")
    named = set(re.findall(r"`([a-z_]+)`", reference))
    missing = [key for key in GROUPS[group] if key not in named]
    assert not missing, f"README config reference lacks {group} keys: {missing}"


def test_the_two_commands() -> None:
    commands = _section("Two commands")
    assert ".venv/bin/pip install -q -e . && .venv/bin/logbot demo" in commands
    test_command = (
        "python3 -m venv .venv && .venv/bin/pip install -q -e '.[test]' && "
        ".venv/bin/python -m pytest -q -n 2"
    )
    assert test_command in commands
    assert test_command in (REPO / ".ci" / "run").read_text()
