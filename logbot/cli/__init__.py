"""The ``logbot`` command (click).  Only argument parsing and process setup live here.

Exit statuses: 0 after a clean stop (SIGTERM/SIGINT), 3 (``run``) after a stop
with log lines that could not be written (``EXIT_UNWRITTEN``), 2 for a bad config or
bad arguments (click's own usage errors are 2 too; ``run``: also a health port that
cannot be listened on, ``health``: no port given or configured), 1 for anything else
(``check``: a plugin that would not load, or a log root or data folder that cannot be
written to; ``health``: the bot is not healthy or does not answer).
Diagnostics go to stderr, one line per event; the config loader and the
``Secret`` type keep passwords out of them.
"""

from __future__ import annotations

import logging
import os
import secrets
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from logbot import __version__

if TYPE_CHECKING:
    from logbot.config.settings import Config

#: ``logbot run``'s status when it stopped with log lines it could not write: distinct
#: from 1 and 2 so that a supervisor or a script can tell lost lines from a crash.
EXIT_UNWRITTEN = 3

CONFIG_HELP = "The YAML config file (default: config.yaml; also $LOGBOT_CONFIG)."
LEVELS = ["debug", "info", "warning", "error"]

F = TypeVar("F", bound=Callable[..., Any])


def _config_option(f: F) -> F:
    return click.option(
        "-c",
        "--config",
        "config_path",
        envvar="LOGBOT_CONFIG",
        default="config.yaml",
        show_default=True,
        metavar="FILE",
        help=CONFIG_HELP,
    )(f)


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


def _load(config_path: str) -> Config:
    """The config, or exit 2 with the loader's message (never a traceback)."""
    from logbot.config.loader import ConfigError, load_config

    try:
        return load_config(config_path)
    except ConfigError as e:
        click.echo(f"logbot: invalid config:\n{e}", err=True)
        sys.exit(2)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="logbot")
@click.option(
    "--log-level",
    type=click.Choice(LEVELS, case_sensitive=False),
    default="info",
    show_default=True,
    help="How much the bot says on stderr.",
)
def main(log_level: str) -> None:
    """logbot: an IRC logging bot on its own reactor."""
    _setup_logging(log_level)


def _check_host(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    from logbot.config.health_section import check_host

    problem = None if value is None else check_host(value)
    if problem:
        raise click.BadParameter(problem)
    return value


@main.command("run")
@_config_option
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
    callback=_check_host,
    help="The address to serve them on (wins over health.host; default 127.0.0.1).",
)
def run_command(config_path: str, health_port: int | None, health_host: str | None) -> None:
    """Connect to the configured networks and log their channels until stopped.

    Exits 2 if the config is invalid or the health port cannot be listened on, 3 if it
    stopped with log lines it could not write."""
    from logbot.bot.service import LogService
    from logbot.health.server import HealthListenError
    from logbot.logs.fdlimit import raise_soft_limit
    from logbot.reactor.loop import Reactor

    config = _load(config_path)
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


def probe_writable(folder: str | os.PathLike[str]) -> str | None:
    """None if files can be created in ``folder``, else why not.

    A probe file with a random name is created with ``O_EXCL`` (never someone else's
    file) and removed.  A folder not there yet is fine if it can be created: the bot
    makes missing folders itself, so the probe goes to the nearest existing parent and
    ``check`` creates nothing.  Permission bits are not trusted (root ignores them, an
    immutable attribute or a read-only mount does not show in them): only a real
    create says it."""
    path = os.path.abspath(folder)
    missing = False
    while not os.path.exists(path):
        parent = os.path.dirname(path)
        if parent == path:
            break
        path, missing = parent, True
    if not os.path.isdir(path):
        return f"{path} is not a folder" if missing else "not a folder"
    probe = os.path.join(path, f".logbot-check-{secrets.token_hex(8)}")
    try:
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as e:
        error = e.strerror or str(e)
        return f"cannot create it in {path}: {error}" if missing else f"cannot write: {error}"
    os.close(fd)
    try:
        os.unlink(probe)
    except OSError as e:  # created but not removable: still unusable for rotation
        return f"cannot remove {probe}: {e.strerror or e}"
    return None


def _folder_problems(config: Config) -> list[str]:
    folders = [("log root", config.log.root), ("data folder", config.plugins.data_dir)]
    problems = []
    for what, folder in folders:
        problem = probe_writable(folder)
        if problem is not None:
            problems.append(f"{what} {folder}: {problem}")
    return problems


@main.command("check")
@_config_option
def check_command(config_path: str) -> None:
    """Validate the config, load the enabled plugins, test that the log root and the data
    folder can be written to, print a summary (exit 2 if the config is invalid, 1 if a
    plugin would not load or a folder cannot be written to)."""
    from logbot.config.loader import summary
    from logbot.logs.fdlimit import describe_plan
    from logbot.plugins.manager import check_plugins

    config = _load(config_path)
    problems = check_plugins(config.plugins)
    folders = _folder_problems(config)
    if folders:
        verdict = "OK, but folders cannot be written to" + (
            " and plugins would fail" if problems else ""
        )
    else:
        verdict = "OK" if not problems else "OK, but plugins would fail"
    problems = folders + problems
    click.echo(f"{config_path}: {verdict}")
    click.echo(summary(config))
    click.echo(describe_plan(config.log.max_open_files))
    for problem in problems:
        click.echo(f"logbot: {problem}", err=True)
    if problems:
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
@_config_option
def health_command(port: int | None, host: str | None, timeout: float, config_path: str) -> None:
    """Ask a running bot's /healthz; print one line; exit 0 if healthy, 1 if not (or no
    answer), 2 if no port is given or configured.  The config is read only when no
    port is given."""
    from logbot.cli.healthcheck import check

    if port is None:
        config = _load(config_path)
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
