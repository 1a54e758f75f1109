"""``logbot archive export OUT``: the archive written back out as logbot's daily files.

Why a command: a team publishes, or hands over, one complete log of a network (from
the SQLite index of this machine's files, or the PostgreSQL archive several bots
feed, each event once) in the files every tool reads: text in each channel's layout,
and jsonl.  The work is :mod:`logbot.archive.handover`; the store is the config's
(:func:`logbot.archive.stores.open_archive`).

Exit statuses: 0 done, 1 some day could not be written (each named on stderr) or the
archive cannot be opened, 2 bad arguments or config (an OUT that holds other files
than logs, a network or channel the archive does not have).  The summary (days
written, lines, days skipped) goes to stderr.
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path
from typing import NoReturn

import click

from logbot.cli.options import config_option, index_option, load_or_exit

__all__ = ["export_command"]

PROG = "logbot archive export"


def _fail(status: int, message: str) -> NoReturn:
    click.echo(f"{PROG}: {message}", err=True)
    sys.exit(status)


def _day(ctx: click.Context, param: click.Parameter, value: str | None) -> date | None:
    """A click callback: ``YYYY-MM-DD`` as a date."""
    if value is None:
        return None
    try:
        if len(value) != len("YYYY-MM-DD"):
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date YYYY-MM-DD") from None


@click.command("export")
@config_option
@click.argument("out", type=click.Path(file_okay=False, path_type=Path))
@click.option("--network", required=True, metavar="NAME", help="The network to export.")
@click.option(
    "--channel",
    "channels",
    multiple=True,
    metavar="NAME",
    help="A channel to export (repeatable; default: every channel of the network). "
    "A private log (a nick) is exported when named.",
)
@click.option("--since", callback=_day, metavar="YYYY-MM-DD", help="The first day exported.")
@click.option("--until", callback=_day, metavar="YYYY-MM-DD", help="The last day exported.")
@click.option(
    "--merge",
    is_flag=True,
    help="Merge into days OUT has already (else they are skipped); only while no bot "
    "writes into OUT.",
)
@click.option("--private", is_flag=True, help="Export the private logs (nicks) too.")
@index_option
def export_command(
    config_path: str,
    out: Path,
    network: str,
    channels: tuple[str, ...],
    since: date | None,
    until: date | None,
    merge: bool,
    private: bool,
    index_file: str | None,
) -> None:
    """Write NETWORK's archive into the folder OUT as logbot's daily log files.

    Each channel's days, in its configured path, formats, text layout and time zone,
    as the bot writes them.  OUT must be new, empty, or a log root already: a day it
    has is skipped (or merged, with --merge), never overwritten."""
    if since is not None and until is not None and since > until:
        _fail(2, f"--since {since} is after --until {until}")
    config = load_or_exit(config_path)
    from logbot.archive.handover import ExportRefused, export_days
    from logbot.archive.handover.out import check_out
    from logbot.archive.stores import StoreError, open_archive

    try:
        check_out(out, Path(config.log.root))
    except ExportRefused as e:
        _fail(2, str(e))
    try:
        store = open_archive(config, index_file)
    except StoreError as e:
        _fail(1, str(e))
    try:
        report = export_days(
            store,
            config,
            out,
            network,
            channels,
            private=private,
            since=since,
            until=until,
            merge=merge,
        )
    except ExportRefused as e:
        _fail(2, str(e))
    except Exception as e:  # the store failed listing networks or channels
        _fail(1, f"cannot read the archive: {type(e).__name__}: {e}")
    finally:
        store.close()
    for line in report.summary():
        click.echo(line, err=True)
    sys.exit(1 if report.troubled else 0)
