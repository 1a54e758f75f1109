"""The ``logbot`` command (click).  Only argument parsing and process setup live here.

Exit statuses: 0 after a clean stop (SIGTERM/SIGINT), 2 for a bad config or
bad arguments (click's own usage errors are 2 too), 1 for anything else (``check``:
a plugin that would not load).
Diagnostics go to stderr, one line per event; the config loader and the
``Secret`` type keep passwords out of them.
"""

from __future__ import annotations

import logging
import sys

import click

from logbot import __version__

CONFIG_HELP = "The YAML config file (default: config.yaml; also $LOGBOT_CONFIG)."
LEVELS = ["debug", "info", "warning", "error"]


def _config_option(f):  # type: ignore[no-untyped-def]
    return click.option("-c", "--config", "config_path", envvar="LOGBOT_CONFIG",
                        default="config.yaml", show_default=True, metavar="FILE",
                        help=CONFIG_HELP)(f)


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


def _load(config_path: str):  # type: ignore[no-untyped-def]
    """The config, or exit 2 with the loader's message (never a traceback)."""
    from logbot.bot.config import ConfigError, load_config

    try:
        return load_config(config_path)
    except ConfigError as e:
        click.echo(f"logbot: invalid config:\n{e}", err=True)
        sys.exit(2)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="logbot")
@click.option("--log-level", type=click.Choice(LEVELS, case_sensitive=False), default="info",
              show_default=True, help="How much the bot says on stderr.")
def main(log_level: str) -> None:
    """logbot: an IRC logging bot on its own reactor."""
    _setup_logging(log_level)


@main.command("run")
@_config_option
def run_command(config_path: str) -> None:
    """Connect to the configured networks and log their channels until stopped."""
    from logbot.bot.service import LogService
    from logbot.reactor.loop import Reactor

    config = _load(config_path)
    reactor = Reactor(None if config.reactor == "auto" else config.reactor)
    service = LogService(config, reactor)
    reactor.callWhenRunning(service.start)
    reactor.run()
    logging.getLogger("logbot").info("logbot stopped")
    sys.exit(0)


@main.command("check")
@_config_option
def check_command(config_path: str) -> None:
    """Validate the config, load the enabled plugins, print a summary (exit 2 if the config
    is invalid, 1 if a plugin would not load)."""
    from logbot.bot.config import summary
    from logbot.bot.plugins.manager import check_plugins

    config = _load(config_path)
    problems = check_plugins(config.plugins)
    click.echo(f"{config_path}: {'OK' if not problems else 'OK, but plugins would fail'}")
    click.echo(summary(config))
    for problem in problems:
        click.echo(f"logbot: {problem}", err=True)
    if problems:
        sys.exit(1)


@main.command("version")
def version_command() -> None:
    """Print the version."""
    click.echo(f"logbot {__version__}")


@main.command("backends")
def backends_command() -> None:
    """List the reactor backends this machine supports (best first)."""
    from logbot.reactor.backends import available

    for name in available():
        click.echo(name)
