"""``--log-level`` wherever it is given: ``logbot --log-level debug run`` and
``logbot run -c bot.yaml --log-level debug`` both work.

Why: people add the option at the end of the command they just ran, and click reads a
group's options only before the command's name (after it, ``--log-level`` was "No such
option").  Declaring it on every command would miss the ones added later; instead the
group lifts every ``--log-level X`` (or ``--log-level=X``) found before a ``--`` to the
front, where its own parser reads it, so every command has it without declaring it.
"""

from __future__ import annotations

import click

from logbot.cli.help_format import WholeHelpGroup

__all__ = ["OPTION", "MainGroup", "lift_log_level"]

OPTION = "--log-level"


def lift_log_level(args: list[str]) -> list[str]:
    """``args`` with each ``--log-level X`` / ``--log-level=X`` moved to the front, in
    order (the last one wins, as for any option); a ``--`` ends the search.  A bare
    ``--log-level`` at the very end is a usage error (``click.BadOptionUsage``)."""
    lifted: list[str] = []
    rest: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            rest += args[i:]
            break
        if arg == OPTION:
            if i + 1 == len(args):
                raise click.BadOptionUsage(OPTION, f"Option '{OPTION}' requires an argument.")
            lifted += args[i : i + 2]
            i += 2
            continue
        (lifted if arg.startswith(OPTION + "=") else rest).append(arg)
        i += 1
    return lifted + rest


class MainGroup(WholeHelpGroup):
    """The ``logbot`` group: its help lists whole first sentences (``WholeHelpGroup``),
    and ``--log-level`` may come before or after the command."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            args = lift_log_level(args)
        except click.BadOptionUsage as e:
            e.ctx = ctx
            raise
        return super().parse_args(ctx, args)
