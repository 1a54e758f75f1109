"""Lines the bot cannot write are seen by the operator: ``logbot run`` against a real
ngircd with its log tree made read-only for real (chmod, or chattr as root).

/healthz answers 503 naming the log lines once they have waited longer than
``health.pending_grace`` (short here) and 200 again once they are written; ``logbot
health`` exits 1 meanwhile.  Stopped with lines still unwritten, ``logbot run`` exits 3
and says how many and for which channels.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from logbot.reactor.backends import available
from tests.e2e.botproc import BotProcess, wait_for_log
from tests.e2e.test_faults import _set_writable
from tests.e2e.test_health import get, logbot_health, sample
from tests.integration.recording_bot import unique
from tests.ircd.peer import connect
from tests.ircd.servers import free_ports

pytestmark = pytest.mark.parametrize("reactor", [available()[0]], indirect=True)

GRACE = 0.5  # seconds: the test waits for the 503, it does not sleep


def _bot(tmp_path: Path, server: Any, nick: str, chans: list[str]) -> BotProcess:
    # One open file at a time: switching channels reopens, so the read-only files are
    # noticed at once (an already open descriptor would go on writing, as it should).
    bot = BotProcess(
        tmp_path, server, nick, chans, logging={"max_open_files": 1, "formats": ["text"]}
    )
    bot.config["health"] = {"pending_grace": GRACE}
    return bot


def _read_only_with_lines_pending(
    bot: BotProcess, peer: Any, run_until: Any, reactor: Any, chans: list[str]
) -> None:
    chan1, chan2 = chans
    peer.send(f"PRIVMSG {chan1} :one")
    peer.send(f"PRIVMSG {chan2} :two")
    run_until(wait_for_log(reactor, lambda: bot.raw(chan2), lambda t: "two" in t))
    _set_writable(bot.root, False)
    for i in range(3):
        peer.send(f"PRIVMSG {chan1} :while read-only {i}")
        peer.send(f"PRIVMSG {chan2} :while read-only {i}")
    run_until(
        wait_for_log(
            reactor,
            bot.stderr,
            lambda t: re.search(r"Permission denied|not permitted", t),
            what="a write error on stderr",
        )
    )


def test_healthz_says_503_while_lines_wait_past_the_grace_then_200(
    ngircd: Any, reactor: Any, run_until: Any, tmp_path: Path
) -> None:
    chans = [f"#w{unique('')}", f"#v{unique('')}"]
    nick, alice = unique("lb"), unique("alice")
    (port,) = free_ports(1)
    bot = _bot(tmp_path, ngircd, nick, chans)
    peer = run_until(connect(reactor, ngircd, alice))
    try:
        bot.start_seen_by(run_until, peer, chans, args=("--health-port", str(port)))
        run_until(wait_for_log(reactor, lambda: get(port, "/healthz"), lambda r: r[0] == 200))
        try:
            _read_only_with_lines_pending(bot, peer, run_until, reactor, chans)
            status, body = run_until(
                wait_for_log(
                    reactor,
                    lambda: get(port, "/healthz"),
                    lambda r: r[0] == 503,
                    what="/healthz 503",
                )
            )
            report = json.loads(body)
            assert report["unhealthy"] == ["logs"], report
            assert report["networks"]["local"]["registered"]
            logs = report["logs"]
            assert logs["overdue"] and logs["pending"] >= 1 and logs["pending_grace"] == GRACE
            assert logs["pending_seconds"] > GRACE
            assert set(logs["channels"]) <= {f"local {c.lower()}" for c in chans}
            assert logs["channels"]
            _, metrics = get(port, "/metrics")
            assert sample(metrics, "logbot_log_oldest_pending_seconds") > GRACE
            unhealthy = logbot_health("--port", str(port))
            assert unhealthy.returncode == 1, unhealthy.stdout + unhealthy.stderr
            assert unhealthy.stdout.startswith("unhealthy: logs ("), unhealthy.stdout
        finally:
            _set_writable(bot.root, True)
        status, body = run_until(  # the writer retries every 5 s
            wait_for_log(
                reactor,
                lambda: get(port, "/healthz"),
                lambda r: r[0] == 200,
                timeout=30,
                what="/healthz 200 again",
            )
        )
        assert "logs" not in json.loads(body)
        assert logbot_health("--port", str(port)).returncode == 0
        assert bot.terminate(5) == 0
    finally:
        bot.stop_quietly()
        peer.abort()
    said = [line.split("> ", 1)[1] for line in bot.text_lines(chans[1]) if line.startswith("<")]
    assert said == ["two"] + [f"while read-only {i}" for i in range(3)]


def test_run_exits_3_naming_the_lines_and_channels_it_could_not_write(
    ngircd: Any, reactor: Any, run_until: Any, tmp_path: Path
) -> None:
    chans = [f"#w{unique('')}", f"#v{unique('')}"]
    nick, alice = unique("lb"), unique("alice")
    (port,) = free_ports(1)
    bot = _bot(tmp_path, ngircd, nick, chans)
    peer = run_until(connect(reactor, ngircd, alice))
    try:
        bot.start_seen_by(run_until, peer, chans, args=("--health-port", str(port)))
        try:
            _read_only_with_lines_pending(bot, peer, run_until, reactor, chans)
            pending = "logbot_log_lines_pending"
            run_until(  # all six lines have reached the writer
                wait_for_log(
                    reactor,
                    lambda: get(port, "/metrics")[1],
                    lambda m: sample(m, pending) == 6,
                    what="6 lines pending",
                )
            )
            status = bot.terminate(5)
        finally:
            _set_writable(bot.root, True)
    finally:
        bot.stop_quietly()
        peer.abort()
    stderr = bot.stderr()
    assert status == 3, stderr
    names = ", ".join(sorted(f"local {c.lower()}" for c in chans))
    said = re.search(r"logbot stopped with (\d+) log lines unwritten, for (.*)$", stderr, re.M)
    assert said, stderr
    # The six, and what the stop itself logged (the bot's QUIT, in each channel).
    lost = re.search(r"(\d+) log lines could not be written", stderr)
    assert lost and int(said.group(1)) == int(lost.group(1)) >= 6
    assert said.group(2) == f"{names} (exit status 3)"
