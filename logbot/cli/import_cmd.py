"""``logbot import``: other programs' old logs into logbot's files (and index).

Why a module of its own: the command only checks its arguments, runs
:func:`logbot.archive.imports.run.run` and prints the report; everything it imports
is loaded when it runs, so the other commands do not pay for it.

The ``-c`` option and the config loading are written out here, as ``logbot search``
does, rather than taken from :mod:`logbot.cli`: that module imports this one to
register it, and importing it back would make an import cycle
(``scripts/check_layout.py``).

Exit statuses: 0 when everything read was imported or was already there; 1 when some
line, file or day could not be imported (the rest was); 2 for bad arguments (an
unknown time zone, a bad network name, no log files of the program in the paths) or a
bad config.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from logbot.cli.options import config_option, load_or_exit

if TYPE_CHECKING:
    from logbot.config.settings import Config

__all__ = ["import_command"]

#: Network names the config allows (letters, digits, '.', '_', '-'): the import goes
#: to the files of that network, as ``networks[].name`` names them.
NETWORK_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_PROGRAMS = ("limnoria", "irssi", "znc", "weechat")  # logbot.archive.imports.PROGRAMS


def _check_zone(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    from logbot.logs.rotation import zone

    if value is None:
        return None
    try:
        zone(value)
    except (KeyError, ValueError):  # ZoneInfoNotFoundError is a KeyError
        raise click.BadParameter(f"unknown time zone {value!r} (an IANA name)") from None
    return value


def _check_network(ctx: click.Context, param: click.Parameter, value: str) -> str:
    if not NETWORK_NAME.fullmatch(value):
        raise click.BadParameter(f"{value!r}: letters, digits, '.', '_' and '-' only")
    return value


@click.command("import")
@config_option
@click.option(
    "--from",
    "program",
    type=click.Choice(_PROGRAMS),
    required=True,
    help="The program that wrote the logs, in its default layout.",
)
@click.option(
    "--network",
    required=True,
    callback=_check_network,
    metavar="NAME",
    help="The network they are of (as the config's networks[].name).",
)
@click.option(
    "--channel",
    metavar="NAME",
    help="The channel, for files whose name does not say (applies to every file).",
)
@click.option(
    "--timezone",
    callback=_check_zone,
    metavar="TZ",
    help="The IANA time zone the old logs' times are in (default: logging.timezone).",
)
@click.option(
    "--merge",
    is_flag=True,
    help="Merge into days already logged (rewrites their files: only while the bot is "
    "not running).",
)
@click.option("--dry-run", is_flag=True, help="Say what would be written; write nothing.")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
def import_command(
    config_path: str,
    program: str,
    network: str,
    channel: str | None,
    timezone: str | None,
    merge: bool,
    dry_run: bool,
    paths: tuple[Path, ...],
) -> None:
    """Import old logs written by Limnoria's ChannelLogger, irssi, ZNC's log module or
    WeeChat from PATH (files, or folders holding them) into logbot's files.

    A day that logbot already has is skipped (and named), unless --merge: then its
    files are rewritten with both, duplicates dropped; do that only while the bot is
    not running.  Exits 0 when everything was imported or already there, 1 when some
    lines, files or days could not be (the rest was), 2 for bad arguments or config."""
    from logbot.archive.imports.run import Request, run

    config = load_or_exit(config_path)
    request = Request(program, network, paths, channel, timezone, merge, dry_run)
    report = run(config, request)
    if not report.files_read and not report.file_problems:
        shown = ", ".join(str(p) for p in paths)
        click.echo(f"logbot import: no {program} log files in {shown}", err=True)
        sys.exit(2)
    if not any(n.name == network for n in config.networks):
        click.echo(f"note: network {network!r} is not in the config: its top-level "
                   "logging options were used")  # fmt: skip
    for line in report.summary():
        click.echo(line)
    if not dry_run and (report.days["written"] or report.days["merged"]):
        _update_index(config)
    sys.exit(1 if report.troubled else 0)


def _update_index(config: Config) -> None:
    """Bring the search index up to date with the new files, if there is an index."""
    try:
        from logbot.archive.index import index_path, open_index
    except ImportError:  # a build without the archive's index
        click.echo("index: not updated: this logbot has no logbot.archive.index")
        return
    root = Path(config.log.root)
    path = Path(index_path(config))
    if not path.exists():
        click.echo(f"index: none at {path}: nothing to update")
        return
    try:
        ix = open_index(path, root)
        try:
            added = ix.update(root)
        finally:
            ix.close()
    except Exception as e:  # the logs are written; the index can be rebuilt from them
        click.echo(f"index: not updated ({type(e).__name__}: {e}); rebuild it to catch up")
        return
    click.echo(f"index: {path} updated ({added} lines)")
