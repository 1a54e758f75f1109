"""``/metrics`` passes ``promtool check metrics``: the exposition format's syntax and the
Prometheus naming conventions it lints (counters end in ``_total`` and nothing else
does, base units spelled out, a HELP text for every family).

Once from a real ``logbot run`` (a child process, with its health port) logging a
channel on our test IRC server, with a second network that cannot connect, so that
every family the bot has then is in it with its labels, and the ``process_*``
families are the child's own; once from the fake service of ``test_metrics`` with
what a running bot does not show at once (SASL, a measured lag, an odd plugin name).
promtool is Debian's ``prometheus`` package, which CI installs: missing, the test
fails and says so.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from logbot.health.metrics import render_metrics
from logbot.reactor.backends import available
from logbot.testing.ircd import TestIRCServer
from logbot.testing.ircd_commands import fold
from tests.e2e.botproc import BotProcess, wait_for_log
from tests.e2e.test_health import get, sample
from tests.health.test_metrics import parse, registered_bot, service
from tests.health.test_metrics import sasl_bot as sasl_harness
from tests.ircd.servers import free_ports

ONE_REACTOR = pytest.mark.parametrize("reactor", [available()[0]], indirect=True)
#: Seconds promtool may take for a few KiB (it answers in some 20 ms).
PROMTOOL_TIMEOUT = 30


def promtool(text: str) -> subprocess.CompletedProcess[str]:
    """``promtool check metrics`` on ``text``; the test fails if there is no promtool."""
    path = shutil.which("promtool")
    if path is None:
        pytest.fail("promtool is missing: apt-get install prometheus (Debian's package)")
    return subprocess.run(
        [path, "check", "metrics"],
        input=text,
        capture_output=True,
        text=True,
        timeout=PROMTOOL_TIMEOUT,
        check=False,
    )


def assert_clean(text: str) -> None:
    result = promtool(text)
    said = (result.stdout + result.stderr).strip()
    assert result.returncode == 0 and said == "", f"promtool ({result.returncode}): {said}"


def test_promtool_is_strict_enough_to_catch_a_broken_convention() -> None:
    """The checks below would see a problem: a counter without ``_total`` and a family
    without HELP are each reported (exit 3), text that is not the format too (exit 1)."""
    text = render_metrics(service(), now=100.0)
    renamed = promtool(text.replace("logbot_reloads_total", "logbot_reloads"))
    assert renamed.returncode == 3 and 'should have "_total" suffix' in renamed.stderr
    helpless = re.sub(r"^# HELP logbot_log_files_open .*\n", "", text, flags=re.M)
    assert "no help text" in promtool(helpless).stderr
    assert promtool(text + "not a sample\n").returncode == 1


@ONE_REACTOR
def test_a_running_bots_metrics_pass_promtool(reactor: Any, run_until: Any, tmp_path: Path) -> None:
    server = TestIRCServer(reactor, network="promtest")
    server.start()
    health, refused = free_ports(2)  # nothing listens on ``refused``
    bot = BotProcess(
        tmp_path, server, "logbot", ["#prom"], network="promtest", extra={"line_rate": 0}
    )
    bot.config["networks"].append(
        {"name": "down", "servers": [f"127.0.0.1:{refused}"], "nick": "logbot", "channels": []}
    )
    bot.config["plugins"] = {"enabled": ["seen", "ping"], "data_dir": str(tmp_path / "data")}
    alice = server.add_user("alice")
    alice.join("#prom")
    started = time.time()
    try:
        bot.start("--health-port", str(health))
        run_until(
            wait_for_log(
                reactor,
                lambda: [u.nickname for u in server.channels[fold("#prom")].users],
                lambda nicks: "logbot" in nicks,
                what="the bot in #prom",
            )
        )
        alice.say("#prom", "count me")
        run_until(
            wait_for_log(
                reactor,
                lambda: bot.text_lines("#prom"),
                lambda lines: "<alice> count me" in lines,
                what="alice's line logged",
            )
        )
        status, text = get(health, "/metrics")
        assert status == 200, text
        assert bot.proc is not None and bot.proc.poll() is None, bot.stderr()
        types, samples = parse(text)
        for name in ("process_cpu_seconds_total", "process_resident_memory_bytes"):
            assert sample(text, name) > 0
        assert sample(text, "process_open_fds") >= 3
        assert sample(text, "process_max_fds") >= sample(text, "process_open_fds")
        # The child's own start (btime is whole seconds, rounded down), not ours.
        assert started - 1.05 <= sample(text, "process_start_time_seconds") <= time.time()
        assert "logbot_start_time_seconds" not in types
        assert samples['logbot_network_registered{network="promtest"}'] == 1
        assert samples['logbot_network_lines_logged_total{network="promtest"}'] >= 1
        assert samples['logbot_network_registered{network="down"}'] == 0
        assert samples['logbot_plugin_errors_total{plugin="seen"}'] == 0
        assert_clean(text)
    finally:
        bot.stop_quietly()
        run_until(server.stop())


def test_the_rarer_families_pass_promtool() -> None:
    failed, good = sasl_harness("failed"), sasl_harness("good")
    failed.feed(":irc.example 904 bot :SASL authentication failed")
    failed.register()
    good.feed(":irc.example 900 bot bot!u@h acct :logged in", ":irc.example 903 bot :SASL ok")
    good.register()
    lagging = registered_bot("lagging")
    lagging.reactor.advance(60.0)  # the first lag probe, answered
    lagging.feed(":irc.example PONG irc.example :lag1")
    lagging.feed(  # standard replies: labels by type and command, "other" among them
        ":irc.example FAIL CHATHISTORY MESSAGE_ERROR #a :no",
        ":irc.example NOTE * OPER_MESSAGE :hello",
        ':irc.example WARN we"ird CODE :a command no label takes',
    )
    svc = service(failed.bot, good.bot, lagging.bot)
    svc.plugins.stats.error('we"ird\\plug\nin')
    svc.writer.stats.pending, svc.writer.stats.pending_since = 3, 90.0
    text = render_metrics(svc, now=lagging.reactor.seconds())
    _, samples = parse(text)
    assert 'logbot_network_lag_seconds{network="lagging"}' in samples
    assert samples['logbot_network_authenticated{network="good"}'] == 1
    replies = 'logbot_network_standard_replies_total{network="lagging",type="%s",command="%s"}'
    assert samples[replies % ("WARN", "other")] == 1 and samples[replies % ("NOTE", "*")] == 1
    assert_clean(text)


def test_the_archive_feed_families_pass_promtool() -> None:
    """With ``archive.store: postgres``, the feed's status file (its process writes it)
    becomes the logbot_archive_* families; a status with a figure of the wrong type
    leaves that figure out."""
    status = {
        "database_up": False,
        "backlog_bytes": 123456,
        "events_new": 10,
        "events_matched": 7,
        "age_seconds": 1.25,
    }
    svc = service(registered_bot().bot, archive_feed_status=lambda: status)
    text = render_metrics(svc, now=100.0)
    _, samples = parse(text)
    assert samples["logbot_archive_database_up"] == 0
    assert samples["logbot_archive_backlog_bytes"] == 123456
    assert samples["logbot_archive_events_stored_total"] == 10
    assert samples["logbot_archive_events_matched_total"] == 7
    assert samples["logbot_archive_feed_age_seconds"] == 1.25
    assert_clean(text)
    status.update(backlog_bytes="lots", database_up=1, age_seconds=float("nan"))
    _, samples = parse(render_metrics(svc, now=100.0))
    assert "logbot_archive_backlog_bytes" not in samples
    assert "logbot_archive_database_up" not in samples
    assert "logbot_archive_feed_age_seconds" not in samples
    assert samples["logbot_archive_events_stored_total"] == 10
