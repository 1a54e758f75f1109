"""What every ``logbot`` command that reads the config shares: ``-c``, loading, ``--host``.

Why a module of its own: the commands live in their own modules (``web_cmd.py``,
``index_cmd.py``...) which :mod:`logbot.cli` imports to register them; were these in
``logbot/cli/__init__.py``, each command importing them back would close an import
circle, and five copies of them had grown instead.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from logbot.config.settings import Config

__all__ = [
    "CONFIG_HELP",
    "check_host_option",
    "config_option",
    "index_option",
    "load_or_exit",
]

CONFIG_HELP = "The YAML config file (default: config.yaml; also $LOGBOT_CONFIG)."

F = TypeVar("F", bound=Callable[..., Any])


def config_option(f: F) -> F:
    """``-c/--config FILE`` (``$LOGBOT_CONFIG``, else ``config.yaml``) as ``config_path``."""
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


def index_option(f: F) -> F:
    """``--index PATH`` as ``index_file``: the archive's index file, for the commands
    that read or write it (``index``, ``search``, ``web``, ``export-html``)."""
    return click.option(
        "--index",
        "index_file",
        type=click.Path(dir_okay=False),
        metavar="PATH",
        help="The index file (default: index.path, else <plugins.data_dir>/index.sqlite3).",
    )(f)


def load_or_exit(config_path: str) -> Config:
    """The config, or exit 2 with the loader's message (never a traceback)."""
    from logbot.config.loader import ConfigError, load_config

    try:
        return load_config(config_path)
    except ConfigError as e:
        click.echo(f"logbot: invalid config:\n{e}", err=True)
        sys.exit(2)


def check_host_option(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """A click callback: ``value`` must be an address one can listen on."""
    from logbot.config.health_section import check_host

    problem = None if value is None else check_host(value)
    if problem:
        raise click.BadParameter(problem)
    return value
