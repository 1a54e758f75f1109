"""``logbot export-html OUT``: the web view's pages as static files, for any web server.

Why a command: to publish logs the way irclog2html does, with no logbot process facing
the network; run it from cron or a timer after the logs grow.  It brings the index up
to date from the logs first (the pages are read from it), then writes the pages of the
published channels into OUT (:mod:`logbot.archive.web.export`): only the files whose
bytes changed, and it removes the files of channels or days no longer published.

What is published is what the web view would show: ``web.publish``, or the
``--publish`` options, which replace it (and are required when the config has no
``web`` section: nothing is exported by default).  A private log never is.

Exit statuses: 0 done, 2 bad arguments or config (OUT inside the log root, or the log
root or the index inside OUT, included), 1 the index or OUT cannot be written.
"""

from __future__ import annotations

import datetime
import sqlite3
import sys
from pathlib import Path
from typing import NoReturn

import click

from logbot.cli.options import config_option, index_option, load_or_exit

__all__ = ["export_command", "parse_publish"]

PROG = "logbot export-html"


def parse_publish(values: tuple[str, ...]) -> dict[str, tuple[str, ...] | None]:
    """``--publish`` values (``NET`` or ``NET/#chan``) as a ``web.publish`` mapping:
    ``NET`` alone publishes every channel of it.

    :raises click.BadParameter: an empty network, or a channel that is not one."""
    from logbot.archive.model import is_channel

    publish: dict[str, list[str] | None] = {}
    for value in values:
        network, slash, channel = value.partition("/")
        if not network or (slash and not channel):
            raise click.BadParameter(f"{value!r}: give NET or NET/#channel", param_hint="--publish")
        if not slash:
            publish[network] = None
            continue
        if not is_channel(channel):
            raise click.BadParameter(
                f"{value!r}: {channel!r} is not a channel (a private log is never published)",
                param_hint="--publish",
            )
        names = publish.setdefault(network, [])
        if names is not None:
            names.append(channel)
    return {network: None if n is None else tuple(n) for network, n in publish.items()}


def _since(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return None
    try:
        datetime.date.fromisoformat(value)
    except ValueError:
        value = ""
    if len(value) != len("YYYY-MM-DD"):  # 3.11 also takes 20261206
        raise click.BadParameter("give a date as YYYY-MM-DD")
    return value


def _why(error: BaseException) -> str:
    """An error in one line: the file's name once, no ``[Errno N]``."""
    if not isinstance(error, OSError) or not error.strerror:
        return str(error)
    name = error.filename
    if name is None or str(name) in error.strerror:
        return error.strerror
    return f"{name}: {error.strerror}"


def _fail(status: int, message: str) -> NoReturn:
    click.echo(f"{PROG}: {message}", err=True)
    sys.exit(status)


@click.command("export-html")
@click.argument("out", type=click.Path(file_okay=False, path_type=Path), metavar="OUT")
@config_option
@index_option
@click.option(
    "--publish",
    multiple=True,
    metavar="NET[/CHAN]",
    help="Export this network (every channel) or this channel; repeatable.  Replaces "
    "web.publish; required when the config has no web section.",
)
@click.option(
    "--since",
    callback=_since,
    metavar="YYYY-MM-DD",
    help="Make only the day pages from this day on again (older ones are left as they "
    "are: export once without it first).",
)
def export_command(
    out: Path, config_path: str, index_file: str | None, publish: tuple[str, ...], since: str | None
) -> None:
    """Write the published channels' pages into the folder OUT, for any web server.

    The same pages as `logbot web` (networks, calendars, days, with permalinks) as
    plain files with relative links, which also work opened from disk; no search.
    Every page is made again, and written only if it changed; files of channels or
    days no longer published are removed."""
    config = load_or_exit(config_path)
    rules = parse_publish(publish)
    if not publish:
        if config.web is None:
            _fail(2, f"{config_path} has no 'web' section: say what to export with --publish NET")
        rules = dict(config.web.publish)
    from logbot.archive.index import IndexCorrupt, index_path, open_index
    from logbot.archive.web.access import Publisher
    from logbot.archive.web.export import ExportError, export, overlap
    from logbot.config.settings import WebOptions

    path = Path(index_file) if index_file else index_path(config)
    root = Path(config.log.root)
    clash = overlap(out, root, path)
    if clash is not None:
        what = "the log root" if clash == root else "the index"
        _fail(2, f"{out} and {what} {clash} overlap: export to a folder of its own")
    title = (config.web or WebOptions()).title
    try:
        index = open_index(path, root)
    except (OSError, sqlite3.Error) as e:
        _fail(1, f"cannot open the index {path}: {_why(e)}")
    try:
        try:
            index.update(root)
        except (OSError, sqlite3.Error) as e:
            _fail(1, f"cannot update the index {path}: {_why(e)}")
        try:
            summary = export(index, Publisher(rules), title, out, since=since)
        except (ExportError, OSError) as e:
            _fail(1, f"cannot write {out}: {_why(e)}")
        except (IndexCorrupt, sqlite3.Error) as e:
            _fail(1, f"cannot read the index {path}: {_why(e)} (`logbot index --rebuild`)")
    finally:
        index.close()
    if not rules:
        click.echo(f"{PROG}: nothing is published (web.publish is empty)", err=True)
    click.echo(f"exported to {out}: {summary}")
