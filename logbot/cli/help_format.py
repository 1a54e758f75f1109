"""``logbot --help`` that lists every command with its whole first sentence.

click shortens each description to what fits beside the command names on one line
("Validate the config, load the enabled plugins, test that the..."), which hides what
a command is for exactly where a newcomer looks first.  This group wraps the first
sentence onto more lines instead, at any terminal width.
"""

from __future__ import annotations

import click

__all__ = ["WholeHelpGroup"]

#: Wide enough for any first sentence: click then never cuts one.
NO_LIMIT = 10_000


class WholeHelpGroup(click.Group):
    """A group whose command list shows first sentences uncut, wrapped."""

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(limit=NO_LIMIT)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)
