"""The ``logbot`` command (click).  Only argument parsing and process setup live here.

Exit statuses: 0 after a clean stop (SIGTERM/SIGINT), 3 (``run``) after a stop
with log lines that could not be written (``EXIT_UNWRITTEN``), 2 for a bad config, no
config found, or bad arguments (click's own usage errors are 2 too; ``run``: also a
health port that cannot be listened on, ``health``: no port given or configured; ``init``:
see :mod:`logbot.cli.init_cmd`), 1 for anything else
(``check``: a plugin that would not load, or a log root or data folder that cannot be
written to, or with ``--connect`` a network none of whose servers registered;
``health``: the bot is not healthy or does not answer).
Diagnostics go to stderr, one line per event; the config loader and the
``Secret`` type keep passwords out of them.
"""

from __future__ import annotations

import logging
import sys

import click

from logbot import __version__
from logbot.cli.checks import check_config, probe_writable  # noqa: F401 (tests use it)
from logbot.cli.config_file import config_argument, config_for, config_for_health
from logbot.cli.log_level import MainGroup
from logbot.cli.options import check_host_option, config_option, load_or_exit

#: ``logbot run``'s status when it stopped with log lines it could not write: distinct
#: from 1 and 2 so that a supervisor or a script can tell lost lines from a crash.
EXIT_UNWRITTEN = 3

LEVELS = ["debug", "info", "warning", "error"]


class OneLineFormatter(logging.Formatter):
    """One event, one line: a traceback or a list of config problems is joined with
    `` | `` so that log collectors (journald, docker logs) keep an event together."""

    def format(self, record: logging.LogRecord) -> str:
        return " | ".join(super().format(record).splitlines())


def _setup_logging(level: str) -> None:
    root = logging.getLogger()
    if root.handlers:  # configured already (an embedding program, a test runner)
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(OneLineFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(getattr(logging, level.upper()))


@click.group(
    cls=MainGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(__version__, prog_name="logbot", message="%(prog)s %(version)s")
@click.option(
    "--log-level",
    type=click.Choice(LEVELS, case_sensitive=False),
    default="info",
    show_default=True,
    envvar="LOGBOT_LOG_LEVEL",
    show_envvar=True,
    help="How much the bot says on stderr, before or after the command (debug: every "
    "IRC line each way, secrets masked).",
)
def main(log_level: str) -> None:
    """logbot: an IRC logging bot on its own reactor."""
    _setup_logging(log_level)


@main.command("run")
@config_option
@config_argument
@click.option(
    "--health-port",
    type=click.IntRange(1, 65535),
    envvar="LOGBOT_HEALTH_PORT",
    show_envvar=True,
    metavar="PORT",
    help="Serve /healthz and /metrics on this port (wins over health.port).",
)
@click.option(
    "--health-host",
    envvar="LOGBOT_HEALTH_HOST",
    show_envvar=True,
    metavar="ADDRESS",
    callback=check_host_option,
    help="The address to serve them on (wins over health.host; default 127.0.0.1).",
)
def run_command(
    config_path: str, config_file: str | None, health_port: int | None, health_host: str | None
) -> None:
    """Connect to the configured networks and log their channels until stopped.

    Exits 2 if the config is invalid or the health port cannot be listened on, 3 if it
    stopped with log lines it could not write."""
    from logbot.bot.service import LogService
    from logbot.cli.root_warning import warn_if_root
    from logbot.health.server import HealthListenError
    from logbot.logs.fdlimit import raise_soft_limit
    from logbot.reactor.loop import Reactor

    config = load_or_exit(config_for(config_path, config_file))
    warn_if_root()
    # Before any descriptor of ours: log files, sockets and children all count against
    # ``ulimit -n``; the writer then fits ``max_open_files`` under what this leaves.
    raise_soft_limit(config.log.max_open_files)
    reactor = Reactor(None if config.reactor == "auto" else config.reactor)
    service = LogService(config, reactor, health_port=health_port, health_host=health_host)
    try:
        service.start_health()  # now, so that a busy port stops us before any network
    except HealthListenError as e:
        logging.getLogger("logbot").error("health: %s; not starting", e)
        sys.exit(2)
    reactor.callWhenRunning(service.start)
    reactor.run()
    lines, targets = service.unwritten()
    if lines:
        logging.getLogger("logbot").error(
            "logbot stopped with %d log lines unwritten, for %s (exit status %d)",
            lines,
            ", ".join(targets) or "unknown channels",
            EXIT_UNWRITTEN,
        )
        sys.exit(EXIT_UNWRITTEN)
    logging.getLogger("logbot").info("logbot stopped")
    sys.exit(0)


@main.command("check")
@config_option
@config_argument
@click.option(
    "--connect",
    is_flag=True,
    help="Also try each server: name lookup, TCP, TLS, registration (joins nothing, logs "
    "nothing), and the archive database if there is one; exit 1 unless every network has "
    "a server that registered (and the database answered).",
)
def check_command(config_path: str, config_file: str | None, connect: bool) -> None:
    """Validate the config, load the enabled plugins, test that the log root and the data
    folder can be written to, print a summary (exit 2 if the config is invalid, 1 if a
    plugin would not load or a folder cannot be written to)."""
    path = config_for(config_path, config_file)
    ok = check_config(path)
    if connect:
        from logbot.cli.archive_check import check_archive_database
        from logbot.cli.connect_check import check_connections

        config = load_or_exit(path)
        ok = check_connections(config) and ok
        ok = check_archive_database(config) and ok
    if not ok:
        sys.exit(1)


@main.command("health")
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    envvar="LOGBOT_HEALTH_PORT",
    show_envvar=True,
    metavar="PORT",
    help="The bot's health port (default: the config's health.port).",
)
@click.option(
    "--host",
    envvar="LOGBOT_HEALTH_HOST",
    show_envvar=True,
    metavar="ADDRESS",
    help="Its address (default: the config's health.host, else 127.0.0.1).",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=5.0,
    show_default=True,
    help="Seconds to wait for the answer.",
)
@config_option
def health_command(port: int | None, host: str | None, timeout: float, config_path: str) -> None:
    """Ask a running bot's /healthz; print one line; exit 0 if healthy, 1 if not (or no
    answer), 2 if no port is given or configured.  The config is read only when no
    port is given."""
    from logbot.cli.healthcheck import check

    if port is None:
        config = load_or_exit(config_for_health(config_path))
        port = config.health.port
        if host is None:
            host = config.health.host
    if port is None:
        click.echo(
            f"logbot: no health port: give --port, set LOGBOT_HEALTH_PORT or set "
            f"health.port in {config_path}",
            err=True,
        )
        sys.exit(2)
    status, line = check(host or "127.0.0.1", port, timeout)
    click.echo(line)
    sys.exit(status)


@main.command("version")
def version_command() -> None:
    """Print the version."""
    click.echo(f"logbot {__version__}")


@main.command("schema")
def schema_command() -> None:
    """Print the JSON Schema (draft 2020-12) of the jsonl log lines."""
    from logbot.logs.schema import schema_text

    click.echo(schema_text(), nl=False)


@main.command("backends")
def backends_command() -> None:
    """List the reactor backends this machine supports (best first)."""
    from logbot.reactor.backends import available

    for name in available():
        click.echo(name)


def _register_demo() -> None:
    from logbot.cli.demo import demo_command

    main.add_command(demo_command)


_register_demo()

from logbot.cli.web_cmd import web_command  # noqa: E402

main.add_command(web_command)

from logbot.cli.search_cmd import search_command  # noqa: E402

main.add_command(search_command)

from logbot.cli.import_cmd import import_command  # noqa: E402

main.add_command(import_command)

from logbot.cli.index_cmd import index_command  # noqa: E402

main.add_command(index_command)

from logbot.cli.init_cmd import init_command  # noqa: E402

main.add_command(init_command)

from logbot.cli.completion_cmd import completion_command  # noqa: E402

main.add_command(completion_command)

from logbot.cli.new_plugin import new_plugin_command  # noqa: E402

main.add_command(new_plugin_command)

from logbot.cli.export_cmd import export_command  # noqa: E402

main.add_command(export_command)

from logbot.cli.archive_cmd import archive_group  # noqa: E402

main.add_command(archive_group)
