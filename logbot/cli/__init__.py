"""The ``logbot`` command (click).  Only argument parsing lives here."""

from __future__ import annotations

import click

from logbot import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="logbot")
def main() -> None:
    """logbot: an IRC logging bot on its own reactor."""


@main.command("backends")
def backends_command() -> None:
    """List the reactor backends this machine supports (best first)."""
    from logbot.reactor.backends import available

    for name in available():
        click.echo(name)
