"""``logbot run --health-port`` against a real ngircd: /healthz and /metrics over real
HTTP follow the server going away, and ``logbot health`` says so with its exit status."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from logbot.reactor.backends import available
from tests.e2e.botproc import REPO, BotProcess, wait_for_log
from tests.integration.recording_bot import unique
from tests.ircd.peer import connect
from tests.ircd.servers import free_ports

pytestmark = pytest.mark.parametrize("reactor", [available()[0]], indirect=True)

# No proxy from the environment between us and 127.0.0.1.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def get(port: int, path: str) -> tuple[int | None, str]:
    """(status, body) of GET http://127.0.0.1:<port><path>; (None, why) if unreachable."""
    try:
        with _OPENER.open(f"http://127.0.0.1:{port}{path}", timeout=2) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
    except (urllib.error.URLError, OSError) as e:
        return None, str(e)


def logbot_health(*args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    for name in ("LOGBOT_CONFIG", "LOGBOT_HEALTH_PORT", "LOGBOT_HEALTH_HOST"):
        env.pop(name, None)
    return subprocess.run(
        [sys.executable, "-m", "logbot", "health", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def sample(metrics: str, name: str) -> float:
    match = re.search(rf"^{re.escape(name)} (\S+)$", metrics, re.MULTILINE)
    assert match, f"no {name} in:\n{metrics}"
    return float(match.group(1))


def test_health_and_metrics_follow_the_server(
    fresh_ngircd: Any, reactor: Any, run_until: Any, tmp_path: Path
) -> None:
    server = fresh_ngircd
    chan, nick, alice = f"#m{unique('')}", unique("lb"), unique("alice")
    (port,) = free_ports(1)
    bot = BotProcess(tmp_path, server, nick, [chan])
    peer = run_until(connect(reactor, server, alice))
    try:
        bot.start_seen_by(run_until, peer, [chan], args=("--health-port", str(port)))
        status, body = run_until(
            wait_for_log(
                reactor, lambda: get(port, "/healthz"), lambda r: r[0] == 200, what="/healthz 200"
            )
        )
        report = json.loads(body)
        assert report["status"] == "ok" and report["networks"]["local"]["registered"]

        peer.send(f"PRIVMSG {chan} :count me")
        run_until(wait_for_log(reactor, lambda: bot.raw(chan), lambda t: "count me" in t))
        status, metrics = get(port, "/metrics")
        assert status == 200
        assert 'logbot_network_connected{network="local"} 1' in metrics.splitlines()
        assert sample(metrics, 'logbot_network_registered{network="local"}') == 1
        assert sample(metrics, 'logbot_network_lines_logged_total{network="local"}') >= 2
        assert sample(metrics, "logbot_log_lines_written_total") >= 2
        assert "# TYPE logbot_network_lag_seconds gauge" in metrics
        lag = 'logbot_network_lag_seconds{network="local"}'
        _, metrics = run_until(
            wait_for_log(  # the first probe goes 5 s after 001
                reactor, lambda: get(port, "/metrics"), lambda r: lag in r[1], what="the lag"
            )
        )
        assert 0 <= sample(metrics, lag) < 5

        healthy = logbot_health("--port", str(port))
        assert (healthy.returncode, healthy.stdout) == (0, "healthy: local\n"), healthy.stderr

        server.stop()
        peer.abort()
        status, body = run_until(
            wait_for_log(
                reactor, lambda: get(port, "/healthz"), lambda r: r[0] == 503, what="/healthz 503"
            )
        )
        report = json.loads(body)
        assert report["status"] == "unhealthy" and report["unhealthy"] == ["local"]
        local = report["networks"]["local"]
        assert not local["registered"] and local["state"] in ("disconnected", "connecting")
        assert local["down_since"] and local["last_error"]
        _, metrics = get(port, "/metrics")
        assert sample(metrics, 'logbot_network_connected{network="local"}') == 0

        unhealthy = logbot_health("--port", str(port))
        assert unhealthy.returncode == 1, unhealthy.stdout + unhealthy.stderr
        assert unhealthy.stdout.startswith("unhealthy: local (")
        assert bot.terminate(5) == 0
    finally:
        bot.stop_quietly()
        peer.abort()
    assert get(port, "/healthz")[0] is None  # the listener went with the bot
    assert f"health: listening on http://127.0.0.1:{port}" in bot.stderr()
    assert "Traceback" not in bot.stderr()


def test_a_taken_health_port_stops_logbot_run_with_status_2(
    ngircd: Any, reactor: Any, tmp_path: Path
) -> None:
    bot = BotProcess(tmp_path, ngircd, unique("lb"), [])
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        bot.start("--health-port", str(taken.getsockname()[1]))
        assert bot.proc is not None
        assert bot.proc.wait(20) == 2
    stderr = bot.stderr()
    assert "health: cannot listen on 127.0.0.1:" in stderr and "Address already in use" in stderr
    assert "Traceback" not in stderr and "connecting to" not in stderr


def test_a_failed_optional_sasl_login_is_said_on_stderr_healthz_and_metrics(
    inspircd_anope: Any, reactor: Any, run_until: Any, tmp_path: Path
) -> None:
    """``required: false`` and a wrong password: the bot registers unauthenticated (it
    stays healthy: the login was optional) and says so on stderr (mechanism, numeric,
    the server's text), in /healthz and in /metrics, never showing the password."""
    server = inspircd_anope
    wrong = "not-the-password-" + unique("")
    chan, nick, alice = f"#f{unique('')}", unique("lb"), unique("alice")
    (port,) = free_ports(1)
    bot = BotProcess(
        tmp_path,
        server,
        nick,
        [chan],
        extra={
            "sasl": {
                "username": "testbot",
                "password": wrong,
                "mechanisms": ["PLAIN"],
                "required": False,
            }
        },
    )
    peer = run_until(connect(reactor, server, alice))
    try:
        # registered and joined, unauthenticated
        bot.start_seen_by(run_until, peer, [chan], args=("--health-port", str(port)))
        status, body = run_until(
            wait_for_log(
                reactor, lambda: get(port, "/healthz"), lambda r: r[0] == 200, what="/healthz 200"
            )
        )
        report = json.loads(body)
        assert report["status"] == "ok"
        sasl = report["networks"]["local"]["sasl"]
        assert sasl["authenticated"] is False and sasl["required"] is False
        assert sasl["mechanism"] == "PLAIN" and sasl["account"] is None
        assert re.fullmatch(r"904 \S.*", sasl["error"]), sasl
        _, metrics = get(port, "/metrics")
        assert sample(metrics, 'logbot_network_sasl_failures_total{network="local"}') == 1
        assert sample(metrics, 'logbot_network_authenticated{network="local"}') == 0
        assert bot.terminate(5) == 0
    finally:
        bot.stop_quietly()
        peer.abort()
    stderr = bot.stderr()
    said = [t for t in stderr.splitlines() if "logbot.traffic" not in t]  # (debug: the wire)
    (line,) = [t for t in said if "SASL" in t and "904" in t]
    assert "PLAIN" in line and sasl["error"] in line and "unauthenticated" in line, line
    for text in (stderr, body, metrics, *(p.read_text() for p in bot.root.rglob("*.*"))):
        assert wrong not in text
