"""``--log-level`` before or after the command and from ``$LOGBOT_LOG_LEVEL``; at debug,
the IRC traffic both ways with the network and secrets masked; "joined" at info.

The bot and ``check --connect`` run as child processes against the test IRC server (on
the test's reactor), which takes a server password, and with a keyed channel where a
simulated user already is.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import click
import pytest
import yaml

from logbot.cli.log_level import lift_log_level
from logbot.irc.redact import redact
from logbot.reactor.backends import available
from logbot.testing.ircd import TestIRCServer
from tests.cli.logbot_child import run_logbot, start_logbot
from tests.e2e.botproc import wait_for_log

ONE_REACTOR = pytest.mark.parametrize("reactor", [available()[0]], indirect=True)
PASSWORD = "pass-Secret-4711"
KEY = "chan-Key-0815"


@pytest.mark.parametrize(
    ("args", "lifted"),
    [
        (["run", "--log-level", "debug"], ["--log-level", "debug", "run"]),
        (["--log-level", "debug", "run"], ["--log-level", "debug", "run"]),
        (
            ["run", "-c", "x.yaml", "--log-level=warning"],
            ["--log-level=warning", "run", "-c", "x.yaml"],
        ),
        (
            ["--log-level", "info", "check", "--log-level", "debug"],
            ["--log-level", "info", "--log-level", "debug", "check"],  # the last one wins
        ),
        (["search", "--", "--log-level", "debug"], ["search", "--", "--log-level", "debug"]),
        (["check", "--connect"], ["check", "--connect"]),
    ],
)
def test_lift_log_level(args: list[str], lifted: list[str]) -> None:
    assert lift_log_level(args) == lifted


def test_a_bare_log_level_at_the_end_is_a_usage_error() -> None:
    with pytest.raises(click.BadOptionUsage, match="requires an argument"):
        lift_log_level(["run", "--log-level"])


def _config(tmp_path: Path, port: int, channel: str) -> Path:
    path = tmp_path / "bot.yaml"
    network = {
        "name": "testnet",
        "servers": [f"127.0.0.1:{port}"],
        "nick": "logbot",
        "password": PASSWORD,
        "channels": [{"name": channel, "key": KEY}],
        "line_rate": 0,
    }
    config = {"logging": {"root": str(tmp_path / "logs")}, "networks": [network]}
    path.write_text(yaml.safe_dump(config))
    return path


@ONE_REACTOR
def test_run_with_debug_after_the_command_shows_the_traffic_masked(
    reactor: Any, run_until: Any, tmp_path: Path
) -> None:
    server = TestIRCServer(reactor, password=PASSWORD)
    port = server.start()
    server.add_user("alice").join("#keyed")
    config = _config(tmp_path, port, "#keyed")
    child = start_logbot(tmp_path / "run", ["run", str(config), "--log-level", "debug"])
    try:
        run_until(
            wait_for_log(reactor, lambda: child.err, lambda t: "joined #keyed" in t, 15, "stderr")
        )
        assert child.terminate(reactor, run_until) == 0
    finally:
        child.stop()
        run_until(server.stop())
    err = child.err
    assert PASSWORD not in err and KEY not in err
    lines = err.splitlines()

    def one(pattern: str) -> str:
        found = [line for line in lines if re.search(pattern, line)]
        assert len(found) == 1, (pattern, lines)
        return found[0]

    one(r" DEBUG logbot\.traffic: testnet >> PASS \*\*\*$")
    one(r" DEBUG logbot\.traffic: testnet >> NICK logbot$")
    one(r" DEBUG logbot\.traffic: testnet >> JOIN #keyed \*\*\*$")
    one(r" DEBUG logbot\.traffic: testnet << \S* ?:irc\.demo\.test 001 logbot :Welcome")
    one(r" DEBUG logbot\.traffic: testnet << \S* ?:logbot!\S+ JOIN #keyed")
    one(r" INFO logbot\.bot\.network: testnet: joined #keyed \(2 users\)$")
    # each line the server read from the bot is in the log once, in order, masked
    read = [line for way, nick, line in server.log if way == "in" and nick != "alice"]
    logged = [line.split(" >> ", 1)[1] for line in lines if "logbot.traffic: testnet >> " in line]
    assert read[:3] == ["CAP LS 302", f"PASS {PASSWORD}", "NICK logbot"]
    assert logged[: len(read)] == [redact(line) for line in read]


@ONE_REACTOR
def test_the_environment_sets_the_level_and_the_option_wins_over_it(
    reactor: Any, run_until: Any, tmp_path: Path
) -> None:
    server = TestIRCServer(reactor, password=PASSWORD)
    port = server.start()
    config = _config(tmp_path, port, "#keyed")
    env = {"LOGBOT_LOG_LEVEL": "debug"}
    try:
        by_env = run_logbot(
            reactor, run_until, tmp_path / "a", ["check", "--connect", str(config)], env
        )
        quiet = run_logbot(
            reactor,
            run_until,
            tmp_path / "b",
            ["check", str(config), "--connect", "--log-level", "warning"],
            env,
        )
    finally:
        run_until(server.stop())
    assert by_env.proc.returncode == 0 and quiet.proc.returncode == 0, by_env.out + by_env.err
    assert "DEBUG logbot.traffic: testnet >> PASS ***" in by_env.err
    assert "DEBUG logbot.traffic: testnet << " in by_env.err
    assert PASSWORD not in by_env.err + by_env.out
    assert " DEBUG " not in quiet.err and " INFO " not in quiet.err
    assert "registration OK" in re.sub(r" +", " ", quiet.out)
    assert not any("JOIN" in line for _, _, line in server.log)  # check joins nothing


def test_a_bad_level_from_the_environment_is_a_usage_error(tmp_path: Path) -> None:
    import subprocess
    import sys

    from tests.e2e.botproc import REPO

    result = subprocess.run(
        [sys.executable, "-m", "logbot", "version", "--log-level"],
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2 and "Option '--log-level' requires an argument." in result.stderr
    result = subprocess.run(
        [sys.executable, "-m", "logbot", "version"],
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin", "LOGBOT_LOG_LEVEL": "loud"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2 and "LOGBOT_LOG_LEVEL" in result.stderr
