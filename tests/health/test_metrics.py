"""The /metrics text and the /healthz report, from real NetworkBots on fakes."""

from __future__ import annotations

import json
import re
from types import SimpleNamespace
from typing import Any

import pytest

from logbot import __version__
from logbot.health.metrics import escape_label, render_metrics
from logbot.health.process_metrics import ProcessStats
from logbot.health.readings import network_state
from logbot.health.report import health_report
from logbot.logs.writer import WriterStats
from logbot.plugins.manager import PluginStats
from logbot.reactor.error import ConnectionLost, ConnectionRefusedError
from logbot.reactor.failure import Failure
from tests.bot.fakes import WALL0, Harness, network

ALICE = "alice!~alice@alice.example"

# One line of the exposition format 0.0.4: a comment, or name{labels} value.
_LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\\\|\\"|\\n)*"'
SAMPLE = re.compile(
    rf"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{{{_LABEL}(?:,{_LABEL})*\}})? "
    r"(-?[0-9.e+-]+|NaN|[+-]Inf)$"
)
HELP = re.compile(r"^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) .+$")
TYPE = re.compile(r"^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge)$")

EXPECTED = {  # every family, and its type
    "logbot_info": "gauge",
    "process_cpu_seconds_total": "counter",
    "process_start_time_seconds": "gauge",
    "process_resident_memory_bytes": "gauge",
    "process_virtual_memory_bytes": "gauge",
    "process_open_fds": "gauge",
    "process_max_fds": "gauge",
    "logbot_uptime_seconds": "gauge",
    "logbot_reloads_total": "counter",
    "logbot_reload_failures_total": "counter",
    "logbot_network_connected": "gauge",
    "logbot_network_registered": "gauge",
    "logbot_network_registrations_total": "counter",
    "logbot_network_reconnects_total": "counter",
    "logbot_network_lines_logged_total": "counter",
    "logbot_network_log_failures_total": "counter",
    "logbot_network_history_lines_recovered_total": "counter",
    "logbot_network_history_duplicates_total": "counter",
    "logbot_network_history_refused_total": "counter",
    "logbot_network_replies_dropped_total": "counter",
    "logbot_network_channels_joined": "gauge",
    "logbot_network_connections": "gauge",
    "logbot_network_send_queue_lines": "gauge",
    "logbot_network_authenticated": "gauge",
    "logbot_network_sasl_failures_total": "counter",
    "logbot_network_standard_replies_total": "counter",
    "logbot_network_lag_seconds": "gauge",
    "logbot_log_lines_written_total": "counter",
    "logbot_log_write_errors_total": "counter",
    "logbot_log_lines_dropped_total": "counter",
    "logbot_log_unsafe_links_total": "counter",
    "logbot_log_lines_pending": "gauge",
    "logbot_log_oldest_pending_seconds": "gauge",
    "logbot_log_files_open": "gauge",
    "logbot_plugin_errors_total": "counter",
    "logbot_plugin_timeouts_total": "counter",
    "logbot_plugin_replies_total": "counter",
    "logbot_plugin_rate_limited_total": "counter",
    "logbot_plugin_loops_suppressed_total": "counter",
    "logbot_plugin_denied_total": "counter",
    "logbot_plugin_load_failures_total": "counter",
}


def parse(text: str) -> tuple[dict[str, str], dict[str, float]]:
    """(family -> type, 'name{labels}' -> value), checking every line's syntax and that
    each family has HELP then TYPE before its samples, once."""
    assert text.endswith("\n") and "\n\n" not in text
    types: dict[str, str] = {}
    samples: dict[str, float] = {}
    helped: set[str] = set()
    current = None
    for line in text.splitlines():
        if line.startswith("# HELP"):
            match = HELP.match(line)
            assert match, line
            assert match.group(1) not in helped, f"two HELP lines: {line}"
            helped.add(match.group(1))
        elif line.startswith("# TYPE"):
            match = TYPE.match(line)
            assert match and match.group(1) in helped and match.group(1) not in types, line
            current = match.group(1)
            types[current] = match.group(2)
        else:
            match = SAMPLE.match(line)
            assert match, f"not a sample line: {line!r}"
            assert match.group(1) == current, f"{line!r} outside its family {current}"
            key = match.group(1) + (match.group(2) or "")
            assert key not in samples, f"duplicate sample {key}"
            samples[key] = float(match.group(3))
    return types, samples


class FakeCore:
    queue_length = 0

    def lag(self, now: float) -> float | None:
        return None


def service(*bots: Any, **extra: Any) -> Any:
    plugins = SimpleNamespace(stats=PluginStats(), plugins={"seen": object(), "help": object()})
    fields: dict[str, Any] = {
        "networks": {bot.config.name: bot for bot in bots},
        "writer": SimpleNamespace(stats=WriterStats()),
        "retired_writes": WriterStats(),
        "plugins": plugins,
        "started": WALL0,
        "started_mono": 100.0,
        "reloads": 2,
        "reload_failures": 1,
        **extra,
    }
    svc = SimpleNamespace(**fields)
    svc.write_totals = lambda: svc.writer.stats.plus_counters(svc.retired_writes)
    return svc


def registered_bot(name: str = "libera") -> Harness:
    h = Harness(network(name=name))
    h.start()
    h.connect()
    h.register()
    h.join("#a")
    h.feed(f":{ALICE} PRIVMSG #a :hello")
    return h


def down_bot(name: str = "oftc") -> Harness:
    h = Harness(network(name=name))
    h.start()
    h.bot.clientConnectionFailed(
        h.reactor.connectors[-1], Failure(ConnectionRefusedError("Connection refused"))
    )
    return h


def test_every_family_is_there_with_help_and_type_and_valid_samples() -> None:
    up, down = registered_bot(), down_bot()
    svc = service(up.bot, down.bot)
    svc.writer.stats.lines_written, svc.writer.stats.write_errors = 10, 3
    svc.retired_writes.lines_written, svc.retired_writes.write_errors = 5, 1
    svc.writer.stats.pending, svc.writer.stats.files_open = 7, 4
    svc.plugins.stats.error("seen")
    svc.plugins.stats.replies, svc.plugins.stats.rate_limited = 6, 2
    process = ProcessStats(1.5, WALL0 - 2, 40 << 20, 90 << 20, 12, 1024)
    types, samples = parse(render_metrics(svc, now=160.0, process=process))
    assert types == EXPECTED
    assert samples[f'logbot_info{{version="{__version__}"}}'] == 1
    assert samples["process_start_time_seconds"] == WALL0 - 2
    assert samples["process_cpu_seconds_total"] == 1.5
    assert samples["process_resident_memory_bytes"] == 40 << 20
    assert samples["process_open_fds"] == 12 and samples["process_max_fds"] == 1024
    assert samples["logbot_uptime_seconds"] == 60.0
    assert samples["logbot_reloads_total"] == 2 and samples["logbot_reload_failures_total"] == 1
    assert samples['logbot_network_connected{network="libera"}'] == 1
    assert samples['logbot_network_connected{network="oftc"}'] == 0
    assert samples['logbot_network_registered{network="libera"}'] == 1
    assert samples['logbot_network_registered{network="oftc"}'] == 0
    assert samples['logbot_network_registrations_total{network="libera"}'] == 1
    assert (
        samples['logbot_network_lines_logged_total{network="libera"}'] == 3
    )  # marker, join, hello
    assert samples['logbot_network_lines_logged_total{network="oftc"}'] == 0
    assert samples['logbot_network_log_failures_total{network="libera"}'] == 0
    assert samples['logbot_network_channels_joined{network="libera"}'] == 1
    assert samples['logbot_network_send_queue_lines{network="oftc"}'] == 0
    assert samples["logbot_log_lines_written_total"] == 15  # a replaced writer's count too
    assert samples["logbot_log_write_errors_total"] == 4
    assert samples["logbot_log_lines_pending"] == 7 and samples["logbot_log_files_open"] == 4
    assert samples['logbot_plugin_errors_total{plugin="seen"}'] == 1
    assert samples['logbot_plugin_errors_total{plugin="help"}'] == 0  # every plugin, from 0
    assert samples["logbot_plugin_replies_total"] == 6
    assert samples["logbot_plugin_rate_limited_total"] == 2
    # the lag: unknown before the first probe (absent), then measured
    assert not [k for k in samples if k.startswith("logbot_network_lag_seconds")]


def test_lag_and_queue_come_from_the_current_connection() -> None:
    h = registered_bot()
    h.sent()
    h.reactor.advance(60.0)  # the first probe
    assert h.sent() == ["PING :lag1"]
    h.reactor.advance(0.125)
    h.feed(":irc.example PONG irc.example :lag1")
    h.bot.client.core.flood.push("PRIVMSG #a :queued")  # as if the bucket held it
    _, samples = parse(render_metrics(service(h.bot), now=h.reactor.seconds()))
    assert samples['logbot_network_lag_seconds{network="libera"}'] == 0.125
    assert samples['logbot_network_send_queue_lines{network="libera"}'] == 1
    h.reactor.advance(60.0)  # the next probe goes out, and nothing answers it
    _, samples = parse(render_metrics(service(h.bot), now=h.reactor.seconds() + 5.0))
    assert samples['logbot_network_lag_seconds{network="libera"}'] == 5.0


@pytest.mark.parametrize(
    "raw, escaped",
    [
        ("plain", "plain"),
        ('say "hi"', 'say \\"hi\\"'),
        ("back\\slash", "back\\\\slash"),
        ("two\nlines", "two\\nlines"),
        ('\\"\n', '\\\\\\"\\n'),
    ],
)
def test_label_values_are_escaped(raw: str, escaped: str) -> None:
    assert escape_label(raw) == escaped


def test_an_odd_plugin_name_stays_one_valid_sample() -> None:
    svc = service()
    svc.plugins.stats.error('we"ird\\plug\nin')
    _, samples = parse(render_metrics(svc, now=100.0))
    assert samples['logbot_plugin_errors_total{plugin="we\\"ird\\\\plug\\nin"}'] == 1


def test_health_report_names_the_networks_that_are_down_and_why() -> None:
    up, down = registered_bot(), down_bot()
    healthy, body = health_report(service(up.bot, down.bot), now=130.0)
    assert not healthy
    json.dumps(body)  # serialisable as it is
    assert body["status"] == "unhealthy" and body["unhealthy"] == ["oftc"]
    assert body["version"] == __version__ and body["uptime_seconds"] == 30.0
    libera, oftc = body["networks"]["libera"], body["networks"]["oftc"]
    assert libera["registered"] and libera["state"] == "registered"
    assert libera["nick"] == "bot" and libera["server"] == "irc1.example:6667"
    assert libera["registered_since"] == "2026-09-21T14:15:00+00:00"  # (WALL0 + 100 s)
    assert libera["lag_seconds"] is None and libera["send_queue"] == 0
    assert oftc == {
        "registered": False,
        "connected": False,
        "state": "disconnected",
        "server": "irc2.example:6667",  # the next attempt's
        "down_since": "2026-09-21T14:15:00+00:00",
        "last_error": "irc1.example:6667 refused the connection (nothing listens there?)",
    }


def test_health_report_is_ok_when_every_network_is_registered() -> None:
    healthy, body = health_report(
        service(registered_bot("a").bot, registered_bot("b").bot), now=100.0
    )
    assert healthy and body["status"] == "ok" and "unhealthy" not in body
    assert list(body["networks"]) == ["a", "b"]


def test_network_states_through_a_connection_s_life() -> None:
    h = Harness(network(name="n"))
    assert h.bot.stats.down_since is None
    h.start()
    stats = h.bot.stats
    assert network_state(stats) == "connecting" and stats.down_since == WALL0 + 100.0
    h.reactor.advance(5.0)
    h.connect()
    assert network_state(stats) == "registering"
    h.register()
    assert network_state(stats) == "registered"
    assert stats.down_since is None and stats.last_error is None
    h.reactor.advance(5.0)
    h.lose(ConnectionLost("reset"))
    assert network_state(stats) == "disconnected"
    assert stats.down_since == WALL0 + 110.0
    assert stats.last_error == (
        "connection to irc1.example:6667 lost: Connection to the "
        "other side was lost in a non-clean fashion: reset."
    )
    h.reactor.advance(100.0)  # the retry
    assert network_state(stats) == "connecting" and stats.reconnects == 1
    assert stats.down_since == WALL0 + 110.0  # since the loss, not since the retry


def sasl_bot(name: str, required: bool = False) -> Harness:
    from logbot.config.settings import SaslOptions, Secret

    sasl = SaslOptions(password=Secret("hunter2"), mechanisms=("PLAIN",), required=required)
    h = Harness(network(name=name, sasl=sasl))
    h.start()
    h.connect()
    h.feed(":irc.example CAP * LS :sasl=PLAIN", ":irc.example CAP * ACK :sasl")
    h.feed("AUTHENTICATE +")
    return h


def test_sasl_failure_and_success_show_in_healthz_and_metrics() -> None:
    failed, good, plain = sasl_bot("failed"), sasl_bot("good"), registered_bot("plain")
    healthy, body = health_report(service(failed.bot, good.bot, plain.bot), now=100.0)
    assert body["networks"]["failed"]["sasl"] == {  # not settled yet on this connection
        "required": False,
        "authenticated": None,
        "mechanism": None,
        "account": None,
        "error": None,
    }
    failed.feed(":irc.example 904 bot :SASL authentication failed")
    failed.register()
    good.feed(":irc.example 900 bot bot!u@h acct :logged in", ":irc.example 903 bot :SASL ok")
    good.register()
    svc = service(failed.bot, good.bot, plain.bot)
    healthy, body = health_report(svc, now=100.0)
    assert healthy and body["status"] == "ok"  # an optional login: still healthy
    nets = body["networks"]
    assert nets["failed"]["sasl"] == {
        "required": False,
        "authenticated": False,
        "mechanism": "PLAIN",
        "account": None,
        "error": "904 SASL authentication failed",
    }
    assert nets["good"]["sasl"]["authenticated"] is True
    assert nets["good"]["sasl"]["account"] == "acct" and nets["good"]["sasl"]["error"] is None
    assert "sasl" not in nets["plain"]
    text = render_metrics(svc, now=100.0)
    types, samples = parse(text)
    assert types == EXPECTED
    assert samples['logbot_network_authenticated{network="failed"}'] == 0
    assert samples['logbot_network_authenticated{network="good"}'] == 1
    assert 'logbot_network_authenticated{network="plain"}' not in samples  # no sasl set
    assert samples['logbot_network_sasl_failures_total{network="failed"}'] == 1
    assert samples['logbot_network_sasl_failures_total{network="good"}'] == 0
    assert samples['logbot_network_sasl_failures_total{network="plain"}'] == 0
    assert "hunter2" not in text + json.dumps(body)
