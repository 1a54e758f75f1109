"""What the service says about itself to Prometheus: the ``/metrics`` text (the
``/healthz`` report is :mod:`logbot.health.report`; what both read off the service,
:mod:`logbot.health.readings`).

It is a pure function of the service's state and ``now`` (the reactor's monotonic
seconds, for uptime and lag; dates shown come from the wall times the stats hold) and
a reading of the process (``process``, read from ``/proc`` when not
given), so they are tested with a fake service and no socket.  The HTTP side
is :mod:`logbot.health.server`.

The service is read through a few attributes (:class:`~logbot.bot.service.LogService`
has them): ``networks`` (name -> :class:`~logbot.bot.network.NetworkBot`: ``stats``,
``client``, ``server``, ``joined``, and ``connections()``, the network's connections, it
first, when it has several (see :mod:`logbot.bot.shards`); ``stats.sasl`` is None or
has ``required``, ``authenticated``, ``mechanism``, ``account``, ``error``), ``write_totals()`` (the
writer's stats, with the counters of writers replaced by a reload, so that counters
never go back), ``plugins.stats``, ``plugins.plugins``, ``started_mono``,
``reloads``, ``reload_failures``; for the log lines waiting on a failed disk,
``write_totals().pending`` and ``.pending_since`` (reactor seconds), ``pending_targets()``
(the channels they are for) and ``config.health.pending_grace`` (the last two may be
absent: no channels named, the default grace).

``/metrics`` is the Prometheus text exposition format 0.0.4: a ``# HELP`` and a
``# TYPE`` line per family, then its samples; counters end in ``_total``.  The
standard ``process_*`` families (CPU time, memory, descriptors, start time) come from
``/proc`` (:mod:`logbot.health.process_metrics`), so ``render_metrics`` reads the
running process unless it is handed a reading; the service's own start time is not
repeated beside ``process_start_time_seconds``.  Label
values are escaped (backslash, double quote, newline).  A network's lag is absent,
not NaN, while unknown (before the first probe of a connection, or not registered):
an alert on ``absent()`` or a threshold then never fires on a made-up figure.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from logbot import __version__
from logbot.health.process_metrics import ProcessStats, read_process
from logbot.health.readings import connections, lag_of, pending_age, queue_of

__all__ = [
    "CONTENT_TYPE",
    "escape_label",
    "render_metrics",
]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

Sample = tuple[dict[str, str], float | int | bool]


def escape_label(value: str) -> str:
    """A label value as the exposition format wants it inside double quotes."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def _number(value: float | bool) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(float(value))


class _Text:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def family(
        self, name: str, kind: str, help_text: str, samples: Iterable[Sample] | float | bool
    ) -> None:
        self.lines.append(f"# HELP {name} {_escape_help(help_text)}")
        self.lines.append(f"# TYPE {name} {kind}")
        if isinstance(samples, (int, float)):
            samples = [({}, samples)]
        for labels, value in samples:
            if labels:
                inner = ",".join(f'{k}="{escape_label(v)}"' for k, v in labels.items())
                self.lines.append(f"{name}{{{inner}}} {_number(value)}")
            else:
                self.lines.append(f"{name} {_number(value)}")

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


def _total(read: Any) -> Any:
    return lambda bot: sum(read(c) for c in connections(bot))


def _every(read: Any) -> Any:
    return lambda bot: all(read(c) for c in connections(bot))


def _replies(bot: Any) -> dict[tuple[str, str], int]:
    """The standard replies of all a network's connections, added up."""
    out: dict[tuple[str, str], int] = {}
    for conn in connections(bot):
        for key, count in conn.stats.standard_replies.items():
            out[key] = out.get(key, 0) + count
    return out


def _process_families(out: _Text, stats: ProcessStats) -> None:
    """The client libraries' standard ``process_*`` families, those that could be read."""
    families: list[tuple[str, str, str, float | None]] = [
        (
            "process_cpu_seconds_total",
            "counter",
            "User and system CPU time spent, in seconds.",
            stats.cpu_seconds,
        ),
        (
            "process_start_time_seconds",
            "gauge",
            "When the process started, in seconds since the Unix epoch.",
            stats.start_time,
        ),
        (
            "process_resident_memory_bytes",
            "gauge",
            "Resident memory size in bytes.",
            stats.resident_bytes,
        ),
        (
            "process_virtual_memory_bytes",
            "gauge",
            "Virtual memory size in bytes.",
            stats.virtual_bytes,
        ),
        ("process_open_fds", "gauge", "Open file descriptors.", stats.open_fds),
        (
            "process_max_fds",
            "gauge",
            "The limit on open file descriptors (the soft RLIMIT_NOFILE).",
            stats.max_fds,
        ),
    ]
    for name, kind, help_text, value in families:
        if value is not None:
            out.family(name, kind, help_text, value)


def render_metrics(service: Any, now: float, process: ProcessStats | None = None) -> str:
    """The ``/metrics`` text (see the module docstring); ``process`` is read from
    ``/proc`` (:func:`~logbot.health.process_metrics.read_process`) unless given."""
    out = _Text()
    nets = sorted(service.networks.items())

    def per_network(read: Any) -> list[Sample]:
        return [({"network": name}, read(bot)) for name, bot in nets]

    out.family(
        "logbot_info",
        "gauge",
        "The running logbot's version (always 1).",
        [({"version": __version__}, 1)],
    )
    _process_families(out, read_process() if process is None else process)
    out.family(
        "logbot_uptime_seconds",
        "gauge",
        "Seconds since the service started.",
        max(0.0, now - service.started_mono),
    )
    out.family(
        "logbot_reloads_total", "counter", "Config reloads applied (SIGHUP).", service.reloads
    )
    out.family(
        "logbot_reload_failures_total",
        "counter",
        "Config reloads refused because the new config was invalid.",
        service.reload_failures,
    )

    out.family(
        "logbot_network_connected",
        "gauge",
        "1 if the network's TCP (or TLS) connection is up.",
        per_network(_every(lambda b: b.stats.connected)),
    )
    out.family(
        "logbot_network_registered",
        "gauge",
        "1 if the bot is registered (001) on the network.",
        per_network(_every(lambda b: b.stats.registered)),
    )
    out.family(
        "logbot_network_registrations_total",
        "counter",
        "Registrations on the network (the first one and every one after a reconnect).",
        per_network(_total(lambda b: b.stats.connections)),
    )
    out.family(
        "logbot_network_reconnects_total",
        "counter",
        "Connection attempts after the first one.",
        per_network(_total(lambda b: b.stats.reconnects)),
    )
    out.family(
        "logbot_network_lines_logged_total",
        "counter",
        "Log records handed to the writer (each may go to several formats).",
        per_network(_total(lambda b: b.stats.lines_logged)),
    )
    out.family(
        "logbot_network_log_failures_total",
        "counter",
        "Events that failed to become log lines (an exception was logged).",
        per_network(_total(lambda b: b.stats.log_failures)),
    )
    out.family(
        "logbot_network_history_lines_recovered_total",
        "counter",
        "Lines logged from the server's or a bouncer's history after a gap.",
        per_network(_total(lambda b: b.stats.history_recovered)),
    )
    out.family(
        "logbot_network_history_duplicates_total",
        "counter",
        "Replayed history lines not written again: the log already held them.",
        per_network(_total(lambda b: b.stats.history_duplicates)),
    )
    out.family(
        "logbot_network_history_refused_total",
        "counter",
        "Replayed history lines dropped: their batch came long after the join.",
        per_network(_total(lambda b: b.stats.history_refused)),
    )
    out.family(
        "logbot_network_replies_dropped_total",
        "counter",
        "Reply lines dropped from the send queue: over its bounds or too late to send.",
        per_network(_total(lambda b: b.replies_dropped())),
    )
    out.family(
        "logbot_network_channels_joined",
        "gauge",
        "Channels the bot is in.",
        per_network(_total(lambda b: len(b.joined))),
    )
    out.family(
        "logbot_network_connections",
        "gauge",
        "Connections open to the network, registered or not (more than one when its"
        " channels exceed the server's channel limit; at most max_connections).",
        per_network(_total(lambda b: b.stats.connected)),
    )
    out.family(
        "logbot_network_send_queue_lines",
        "gauge",
        "Lines waiting in the flood-control queue (or for registration).",
        per_network(_total(queue_of)),
    )
    out.family(
        "logbot_network_authenticated",
        "gauge",
        "1 if the current connection logged in with SASL; only networks with sasl set.",
        [
            ({"network": name}, bot.stats.sasl.authenticated is True)
            for name, bot in nets
            if bot.stats.sasl is not None
        ],
    )
    out.family(
        "logbot_network_sasl_failures_total",
        "counter",
        "SASL logins that failed or could not happen (optional ones included).",
        per_network(_total(lambda b: b.stats.sasl_failures)),
    )
    out.family(
        "logbot_network_standard_replies_total",
        "counter",
        "IRCv3 standard replies (FAIL, WARN, NOTE) received, by type and the command they"
        " are about ('other' past the first 32 commands of a network).",
        [
            ({"network": name, "type": kind, "command": command}, count)
            for name, bot in nets
            for (kind, command), count in sorted(_replies(bot).items())
        ],
    )
    lags = [
        (labels, lag) for labels, lag in per_network(lambda b: lag_of(b, now)) if lag is not None
    ]
    out.family(
        "logbot_network_lag_seconds",
        "gauge",
        "The server's PING round trip (or the time the probe has been out, if "
        "longer); absent while unknown.",
        lags,
    )

    writes = service.write_totals()
    out.family(
        "logbot_log_lines_written_total",
        "counter",
        "Lines written to log files (one per format file).",
        writes.lines_written,
    )
    out.family(
        "logbot_log_write_errors_total",
        "counter",
        "Failed opens, writes and fsyncs of log files.",
        writes.write_errors,
    )
    out.family(
        "logbot_log_lines_dropped_total",
        "counter",
        "Lines given up (too many pending, or an unsafe path).",
        writes.dropped,
    )
    out.family(
        "logbot_log_unsafe_links_total",
        "counter",
        "Log file operations refused: a symbolic link below the log root.",
        writes.unsafe_links,
    )
    out.family(
        "logbot_log_lines_pending",
        "gauge",
        "Lines waiting for a failed log file to be writable again.",
        writes.pending,
    )
    out.family(
        "logbot_log_oldest_pending_seconds",
        "gauge",
        "How long the oldest line waiting for a log file has waited (0 when none waits).",
        round(pending_age(writes, now), 3),
    )
    out.family("logbot_log_files_open", "gauge", "Log files open now.", writes.files_open)

    plugins = service.plugins
    stats = plugins.stats
    names = sorted(set(plugins.plugins) | set(stats.errors))
    out.family(
        "logbot_plugin_errors_total",
        "counter",
        "Plugin handler exceptions and timeouts, per plugin.",
        [({"plugin": name}, stats.errors.get(name, 0)) for name in names],
    )
    out.family(
        "logbot_plugin_timeouts_total",
        "counter",
        "Plugin replies cancelled at their deadline.",
        stats.timeouts,
    )
    out.family("logbot_plugin_replies_total", "counter", "Plugin reply lines sent.", stats.replies)
    out.family(
        "logbot_plugin_rate_limited_total",
        "counter",
        "Commands dropped by the user or channel rate limit.",
        stats.rate_limited,
    )
    out.family(
        "logbot_plugin_loops_suppressed_total",
        "counter",
        "Reply lines held back by the loop guard.",
        stats.loops_suppressed,
    )
    out.family("logbot_plugin_denied_total", "counter", "Admin commands refused.", stats.denied)
    out.family(
        "logbot_plugin_load_failures_total",
        "counter",
        "Plugin loads (and reloads) that failed.",
        stats.load_failures,
    )
    feed = getattr(service, "archive_feed_status", None)
    _feed_families(out, feed() if feed is not None else None)
    return out.text()


def _feed_families(out: _Text, status: dict[str, Any] | None) -> None:
    """The PostgreSQL archive feed's figures (``archive.store: postgres``), from the
    status file its process writes after each look; none without one.  A figure the
    file lacks or has in another type is left out, not made up (the file is read from
    the disk, where anything may have been put)."""
    if status is None:
        return

    def number(key: str) -> float | None:
        value = status.get(key)
        if not isinstance(value, int | float) or isinstance(value, bool):
            return None
        return float(value) if math.isfinite(value) else None

    up = status.get("database_up")
    if isinstance(up, bool):
        out.family(
            "logbot_archive_database_up",
            "gauge",
            "1 if the archive feed's last look reached the database.",
            up,
        )
    figures = [
        (
            "logbot_archive_backlog_bytes",
            "gauge",
            "Bytes of recent log files not yet in the"
            " archive database (grows while the database is down).",
            number("backlog_bytes"),
        ),
        (
            "logbot_archive_events_stored_total",
            "counter",
            "Events this bot stored first in the archive database (since the feed started).",
            number("events_new"),
        ),
        (
            "logbot_archive_events_matched_total",
            "counter",
            "Lines of this bot matched to events another bot had stored (since the feed started).",
            number("events_matched"),
        ),
    ]
    for name, kind, help_text, value in figures:
        if value is not None:
            out.family(name, kind, help_text, value)
    age = number("age_seconds")  # the service's wall clock minus the file's time
    if age is not None:
        out.family(
            "logbot_archive_feed_age_seconds",
            "gauge",
            "Seconds since the archive feed last looked at the files (it looks every"
            " archive.interval seconds; large: the feed process is stuck or gone).",
            round(max(0.0, age), 3),
        )
