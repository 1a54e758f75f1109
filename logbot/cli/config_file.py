"""Which config file a command reads, and what to say when there is none.

``check`` and ``run`` take the file as an argument (``logbot check config.yaml``, as
the sample's header says and as people type it) as well as ``-c``/``--config`` and
``$LOGBOT_CONFIG``: the argument wins over ``$LOGBOT_CONFIG``, and an argument and a
``-c`` naming different files is an error rather than a guess.

With nothing given and no ``./config.yaml``, the loader's "cannot read config.yaml"
leaves a newcomer guessing, so the commands say where they looked and how to get a
config (``logbot init``) or to see the bot work without one (``logbot demo``).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any, NoReturn, TypeVar

import click
from click.core import ParameterSource

__all__ = ["config_argument", "config_for", "config_for_health"]

F = TypeVar("F", bound=Callable[..., Any])

NEXT_STEP = (
    "Create one with `logbot init`, or try `logbot demo` (a test server on this machine, "
    "no network needed)."
)


def config_argument(f: F) -> F:
    """The optional ``FILE`` argument, passed as ``config_file``."""
    return click.argument(
        "config_file",
        required=False,
        metavar="[FILE]",
        type=click.Path(dir_okay=False),
    )(f)


def config_for(option: str, argument: str | None) -> str:
    """The file to read, from the ``FILE`` argument and ``-c``/``$LOGBOT_CONFIG``
    (``option``, the ``config_path`` parameter of the current command).

    Exits 2 when both name different files, or when nothing was given and there is no
    ``config.yaml`` here."""
    source = _source()
    if argument is not None:
        given = source is ParameterSource.COMMANDLINE
        if given and os.path.abspath(option) != os.path.abspath(argument):
            click.echo(
                f"logbot: two config files given: {argument} and -c {option}; give one",
                err=True,
            )
            sys.exit(2)
        return argument
    if source is ParameterSource.DEFAULT and not os.path.lexists(option):
        _none_found("no config file", ["FILE or -c/--config (not given)"], option)
    return option


def config_for_health(option: str) -> str:
    """``config_for`` for ``health``, which reads a config only for want of a port."""
    if _source() is ParameterSource.DEFAULT and not os.path.lexists(option):
        looked = [
            "--port (not given)",
            "$LOGBOT_HEALTH_PORT (not set)",
            "-c/--config (not given)",
        ]
        _none_found("no health port and no config file", looked, option)
    return option


def _source() -> ParameterSource | None:
    """Where ``config_path`` came from; None when a command was invoked from code
    (``Context.invoke``), which passes the file explicitly."""
    return click.get_current_context().get_parameter_source("config_path")


def _none_found(what: str, looked: list[str], default: str) -> NoReturn:
    looked = [*looked, "$LOGBOT_CONFIG (not set)", f"./{default} (not in {os.getcwd()})"]
    click.echo(f"logbot: {what}: looked for {', '.join(looked)}.", err=True)
    click.echo(NEXT_STEP, err=True)
    sys.exit(2)
