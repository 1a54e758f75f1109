"""``logbot completion bash|zsh|fish``: the shell completion script, printed.

click completes every command, option and choice already (the shell calls ``logbot``
back with ``_LOGBOT_COMPLETE`` set); what a user lacked was a way to find that out.
A command that prints the script shows in ``logbot --help`` and reads like what other
tools offer (``kubectl completion bash``); the script is click's own.
"""

from __future__ import annotations

import click
from click.shell_completion import get_completion_class

__all__ = ["COMPLETE_VAR", "completion_command"]

#: The variable the script sets when it calls ``logbot`` back (click's naming).
COMPLETE_VAR = "_LOGBOT_COMPLETE"


@click.command("completion")
@click.argument("shell", type=click.Choice(["bash", "zsh", "fish"]))
def completion_command(shell: str) -> None:
    """Print the shell completion script for SHELL (bash, zsh or fish).

    \b
    bash (4.4 or later), in ~/.bashrc:  eval "$(logbot completion bash)"
    zsh, in ~/.zshrc:                   eval "$(logbot completion zsh)"
    fish:  logbot completion fish > ~/.config/fish/completions/logbot.fish
    """
    root = click.get_current_context().find_root()
    completion = get_completion_class(shell)
    assert completion is not None  # one of click's own shells
    script = completion(root.command, {}, "logbot", COMPLETE_VAR).source()
    click.echo(script)
